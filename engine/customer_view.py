"""Read-only views an operator needs around one customer or one invoice.

The customer at a glance (every invoice with its balance and state, contacts,
segment, risk score with its reasons, promises and plans, notes, the message
history), the search that finds customers by number or name — with city and
number, so namesakes can be told apart — and, for an invoice's story, what
happens next and the policy text behind a rule.  Each read follows an index
(customer number, `invoice.customer_id`, `outbox.customer_id`, `event.invoice_id`);
the queries are in the store layer, `engine/store/customers`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import compile_source
from mahnwerk.engine import step as stepper
from mahnwerk.engine.store import customers as store
from mahnwerk.engine.store import invoice_value, record_value
from mahnwerk.engine.store.customers import (  # noqa: F401  (the views' names, kept here)
    NOTE_KINDS,
    customer_of_invoice,
    waiting_events,
)
from mahnwerk.engine.store.invoices import invoice_row

HITS = 50


def find_customers(engine: Engine, text: str, limit: int = HITS) -> list[dict[str, Any]]:
    """Customers whose number is `text`, or whose number or name contains it; with city."""
    return store.find_customers(engine, text, limit)


@dataclass
class CustomerView:
    customer: dict[str, Any]
    invoices: list[dict[str, Any]]
    total_open: Decimal
    risk_reasons: list[Any]
    notes: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    waiting: list[dict[str, Any]]


def customer_view(engine: Engine, customer: str, as_of: date | None = None) -> CustomerView:
    """Everything an operator looks at before calling `customer` (a customer number)."""
    cust, rows, behaviour, notes, waiting, messages = store.customer_rows(engine, customer)
    invoices = [_invoice(r, as_of) for r in rows]
    open_ = [Decimal(i["balance"]) for i in invoices if i["state"] not in ir.TERMINAL_NAMES]
    return CustomerView(
        dict(cust._mapping),
        invoices,
        sum(open_, Decimal(0)),
        json.loads(behaviour) if behaviour else [],
        [dict(n._mapping) for n in notes],
        [dict(m._mapping) for m in messages],
        [_waiting(w) for w in waiting],
    )


def _invoice(r: Any, as_of: date | None) -> dict[str, Any]:
    row = invoice_row(r, as_of)
    row["plan"] = bool(r.plan_active)
    row["paused_until"] = r.paused_until.isoformat() if r.paused_until else None
    return row


def _waiting(w: Any) -> dict[str, Any]:
    """An inbox entry the next run will apply."""
    return {
        "id": w.id,
        "invoice": w.external_id,
        "kind": w.kind,
        "date": w.occurred_on,
        "actor": w.actor,
        "payload": json.loads(w.payload or "{}"),
    }


# ---------------------------------------------------------------------------
# An invoice: what happens next, and the policy text behind a rule
# ---------------------------------------------------------------------------


def _policy_of(engine: Engine, invoice: str) -> tuple[Any, Any] | None:
    """The invoice's record, its row, its customer (as the runner reads them) and policy text."""
    found = store.record_and_policy(engine, invoice)
    if found is None:
        return None
    row, cust = found
    return row, (record_value(row, row.inv_ext), invoice_value(row, cust.id, row.inv_ext), cust)


_COMPILED: dict[str, Any] = {}


def _compiled(source: str, path: str) -> Any:
    """Compiled once per policy text (a policy version never changes)."""
    if source not in _COMPILED:
        _COMPILED[source] = compile_source(source, path)
    return _COMPILED[source]


@dataclass(frozen=True, slots=True)
class Upcoming:
    """What the engine will do next with an invoice: `kind` (a row of `NEXT_WORDS`), the
    day (`on`), the state it would move to (`target`, its title) and the guard, if any.
    The operators' sentence (`next_step`) and the customer's page (`mahnwerk.portal`)
    both say this, each in its own words.  `due`: the day has come (the next run takes it)."""

    kind: str
    on: date | None = None
    target: str | None = None
    title: str | None = None
    guard: str | None = None
    reason: str | None = None  # a pause's reason, a terminal state
    due: bool = False


def upcoming(engine: Engine, invoice: str, as_of: date | None = None) -> Upcoming:
    """The next step of the invoice, from its dunning record and its policy's ladder.

    The day is the one the run will use (`step.upcoming`: business days on the
    customer's holiday calendar, the A9 grace, the letter gap), never an estimate.
    """
    found = _policy_of(engine, invoice)
    if found is None:
        return Upcoming("new")
    r, (record, inv, cust) = found
    if r.state in ir.TERMINAL_NAMES:
        return Upcoming("terminal", reason=r.state)
    if r.pending_approval:
        return Upcoming("approval", target=r.pending_approval)
    if r.held:
        return Upcoming("held")
    if r.disputed:
        return Upcoming("disputed")
    if r.pause_reason:
        return Upcoming("paused", on=r.next_check_on, reason=r.pause_reason,
                        target=r.paused_until.isoformat() if r.paused_until else None)  # fmt: skip
    compiled = _compiled(r.source, r.path)
    day = as_of or r.entered_on or inv.due_date
    steps = stepper.upcoming(record, inv, cust, compiled, day)
    if not steps:
        return Upcoming("waits", reason=r.state)
    fire, rule = steps[0]
    g = compiled.graphs.get(r.segment)
    state = g.nodes[rule.target].get("state") if g is not None and rule.target in g else None
    return Upcoming(
        "step",
        on=fire,
        target=rule.target,
        title=state.title if state and state.title else None,
        guard=_guard(rule) if rule.guard is not None else None,
        due=as_of is not None and fire <= as_of,
    )


#: The operators' sentence per kind of `Upcoming` (the TUI's invoice screen).
NEXT_WORDS = {
    "new": lambda u: "new: the next run starts it on its policy's ladder",
    "terminal": lambda u: f"nothing: the invoice is {u.reason.replace('_', ' ')}",
    "approval": lambda u: f"{u.target} waits for approval (Approvals, key 3)",
    "held": lambda u: "nothing while on hold: release it to go on",
    "disputed": lambda u: "nothing while disputed: record the dispute's resolution to go on",
    "paused": lambda u: (
        f"paused ({u.reason})"
        + (f" until {date.fromisoformat(u.target):%d.%m.%Y}" if u.target else "")
        + "; the engine looks again"
        + (f" on {u.on:%d.%m.%Y}" if u.on else "")
    ),
    "step": lambda u: (
        (f"{u.title} ({u.target})" if u.title else u.target)
        + (f" if {u.guard}" if u.guard else "")
        + (" at the next run" if u.due else f" on {u.on:%d.%m.%Y}")
        + ", unless paid by then"
    ),
    "waits": lambda u: f"nothing by itself: {u.reason} waits for a person or an event",
}


def next_step(engine: Engine, invoice: str, as_of: date | None = None) -> str:
    """What the engine will do next with the invoice, and when, in one sentence."""
    u = upcoming(engine, invoice, as_of)
    return NEXT_WORDS[u.kind](u)


def _guard(rule: Any) -> str:
    from mahnwerk.dsl.expr import format_expr

    return format_expr(rule.guard)


def rule_file(rule: str) -> tuple[str, int] | None:
    """`policies/x.mahn:49` → ("policies/x.mahn", 49); None for `engine` and the like."""
    path, sep, line = (rule or "").rpartition(":")
    if not sep or not line.isdigit():
        return None
    return path, int(line)


def short_rule(rule: str | None, cwd: str | None = None) -> str:
    """A rule as people read it: the policy file relative to where it was deployed from
    (an absolute path inside the current folder loses the folder), with its line."""
    found = rule_file(rule or "")
    if found is None:
        return rule or ""
    path, line = found
    if os.path.isabs(path):
        here = cwd or os.getcwd()
        rel = os.path.relpath(path, here)
        path = (
            rel
            if not rel.startswith("..")
            else os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))
        )
    return f"{path}:{line}"


def policy_text(engine: Engine, rule: str) -> tuple[str, str, int] | None:
    """The stored text of the policy a rule cites (its deployed version), and the line."""
    found = rule_file(rule)
    if found is None:
        return None
    path, line = found
    row = store.policy_source(engine, path, os.path.basename(path))
    if row is None:
        return None
    return row.path, row.source, line
