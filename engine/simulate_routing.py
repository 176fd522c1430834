"""Simulation agrees with deploy: the same routing, the same records, the same moves.

Two things make a replay say what a deploy followed by runs will do:

* **Routing** (`Routing`): a policy file is replayed for the customers it would
  serve once deployed — in place of the deployed version of its name, with that
  deployment's `--for` (or the one given); a policy not deployed yet serves the
  customers of `--for` (default: all), in place of whatever serves them now.
* **Forward replay** (`forward_cases`): a period that starts after the last run
  replays each open invoice from its stored dunning record (state, segment,
  fees, letters sent), moving it by the policy's segment-change rule at its
  first step — exactly what the runner does with it after the deploy.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import CompiledPolicy
from mahnwerk.dsl.expr import EvalError, evaluate
from mahnwerk.engine.state import Customer, Event
from mahnwerk.engine.store.reports import last_run_day

#: What every replay assumes, printed with its figures so nobody reads an equal
#: "days to cash" as a finding.
ASSUMPTIONS = (
    "customers pay on the days the history recorded (a paid invoice pays whatever the "
    "replayed policy asks that day); a new step changes no one's behaviour; approvals are "
    "granted {approve_after} day(s) after they are asked for"
)


@dataclass(frozen=True)
class Routing:
    """Which customers a replayed policy serves, and the policies their invoices leave."""

    policies: Any  # PolicySet with the file deployed (version id NEW), or None
    applies_to: Any = None  # a parsed `--for` condition when nothing is deployed

    def serves(self, customer: Customer) -> bool:
        if self.policies is None:
            if self.applies_to is None:
                return True
            try:
                return bool(evaluate(self.applies_to, customer.facts()))
            except EvalError:
                return False
        from mahnwerk.engine.deploy_review import NEW

        try:
            return self.policies.for_customer(customer)[0] == NEW
        except LookupError:
            return False

    def previous(self, version_id: int | None) -> CompiledPolicy | None:
        if self.policies is None or version_id is None:
            return None
        return self.policies.versions.get(version_id)


def routing_for(
    engine: Engine | None, compiled: CompiledPolicy, applies_to: str | None = None
) -> Routing:
    """The routing a deploy of `compiled` (with `--for applies_to`) would set up."""
    from mahnwerk.engine.deploy_review import proposed_set
    from mahnwerk.engine.policies import _parse_for

    condition = _parse_for(applies_to, compiled.policy.path)
    if engine is None:
        return Routing(None, condition)
    proposed, deployed_name = proposed_set(engine, compiled, applies_to)
    if not deployed_name and applies_to is None:
        return Routing(None, None)  # not deployed yet, no --for: everybody
    if not deployed_name:
        return Routing(None, condition)
    return Routing(proposed)


def ran_before(engine: Engine, day: date) -> bool:
    """Whether every run so far was for a day before `day` (and there was one)."""
    last = last_run_day(engine)
    return last is not None and last < day


def forward_cases(engine: Engine, customer_type: str | None) -> list[Any]:
    """Each open invoice with its stored record, unapplied payments and inbox events."""
    from mahnwerk.engine.runner import inbox_event
    from mahnwerk.engine.simulate import Case
    from mahnwerk.engine.store import invoice_value, record_value
    from mahnwerk.engine.store.simulation import open_book

    customers, rows, payments, inbox = open_book(engine)
    events: dict[int, list[Event]] = defaultdict(list)
    for p in payments:
        if p.invoice_id is not None:
            kind = ir.EventKind.PAYMENT_PARTIAL
            events[p.invoice_id].append(
                Event(kind, p.booked_on, Decimal(p.amount), ref=p.external_id)
            )
    for row in inbox:
        payload = json.loads(row.payload or "{}")
        events[row.invoice_id].append(
            inbox_event(row.kind, row.occurred_on, payload, f"inbox {row.id}")
        )
    cases = []
    for row in rows:
        cust = customers[row.customer_id]
        if customer_type is not None and cust.type != customer_type:
            continue
        cases.append(
            Case(
                invoice_value(row, cust.id, external_id=row.inv_ext),
                cust,
                tuple(sorted(events.get(row.invoice_id, []), key=lambda e: e.on)),
                None,
                record_value(row, row.inv_ext),
                row.policy_version_id,
            )
        )
    return cases
