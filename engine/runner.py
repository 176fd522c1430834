"""The daily run: load what is due, step it, write the outcomes in batches.

A run for an as-of date has two phases:

1. *Intake* (one process): invoices the engine has never seen get their first
   record (segment chosen, principal booked); payments are matched to
   invoices; every invoice with a new payment or inbox event is marked due.
2. *Advance* (one or many workers): claim batches of records with
   `next_check_on <= as_of` — on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
   several processes share the work and none takes an invoice twice — call
   the pure `step` for each, and write state, ledger, outbox, approvals and
   the audit log in the batch's transaction.

A run therefore costs what is due, not what is open: both phases start from
indexed queries (`next_check_on`, the pending inbox and payments, invoices
flagged `intake_pending`).  A second run for the same date finds nothing due
and changes nothing; outbox rows carry an idempotency key, so even a batch
that is replayed after a crash queues no message twice.
"""

from __future__ import annotations

import gc
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from mahnwerk.dsl import ir
from mahnwerk.engine import experiments, segment_moves, store
from mahnwerk.engine import step as stepper
from mahnwerk.engine.contacts import ContactBook
from mahnwerk.engine.models import DS
from mahnwerk.engine.policies import PolicySet
from mahnwerk.engine.state import (
    Event,
    Record,
)
from mahnwerk.engine.store import bulk, invoice_value, lease, record_row
from mahnwerk.engine.store import run as rows_of
from mahnwerk.engine.store.action_writers import Outcome, Writes, write_actions
from mahnwerk.engine.store.invoices import LOG_ONLY_KINDS, tell_new_invoices

BATCH = 2_000
#: allocations between the collector's young passes while a run holds the process (700 by
#: default: at 300k invoices some 5 % of the run's CPU went to them, issue 21)
GC_YOUNG = 100_000


@dataclass
class RunStats:
    as_of: date
    new_invoices: int = 0
    checked: int = 0
    transitions: int = 0
    messages: Counter = field(default_factory=Counter)
    superseded: int = 0
    approvals: int = 0
    tasks: Counter = field(default_factory=Counter)
    charges: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    payments_applied: int = 0
    payments_unmatched: int = 0
    events_applied: int = 0
    seconds: float = 0.0

    def merge(self, other: RunStats) -> None:
        self.new_invoices += other.new_invoices
        self.checked += other.checked
        self.transitions += other.transitions
        self.messages.update(other.messages)
        self.superseded += other.superseded
        self.approvals += other.approvals
        self.tasks.update(other.tasks)
        for k, v in other.charges.items():
            self.charges[k] += v
        self.payments_applied += other.payments_applied
        self.payments_unmatched += other.payments_unmatched
        self.events_applied += other.events_applied

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "new_invoices": self.new_invoices,
            "checked": self.checked,
            "transitions": self.transitions,
            "messages": dict(self.messages),
            "superseded_messages": self.superseded,
            "approvals": self.approvals,
            "tasks": dict(self.tasks),
            "charges": {k: str(v) for k, v in self.charges.items()},
            "payments_applied": self.payments_applied,
            "payments_unmatched": self.payments_unmatched,
            "events_applied": self.events_applied,
            "seconds": round(self.seconds, 3),
        }


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def run(
    engine: Engine,
    as_of: date,
    policies: PolicySet,
    now: datetime,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
    worker: str = "main",
    intake: bool = True,
    wait: float = lease.DEFAULT_WAIT,
    taken: lease.Lease | None = None,
) -> RunStats:
    """Run the engine for `as_of`; `now` is the wall-clock instant recorded in the log.

    The run holds the book lease (`engine/store/lease.py`) from start to end: a second run, or an
    import, started meanwhile waits up to `wait` seconds and then stops with `BookBusy`
    naming this run — so nothing is ever booked twice by two runs at once.  `taken`: the
    lease when the caller already took it (the API, to refuse a busy book at once).  The
    lease is let go in the commit that writes the run "finished".
    """
    purpose = f"the run for {as_of.isoformat()}"
    with lease.holding(engine, purpose, wait=wait, taken=taken) as held:
        with collector_for_a_run():
            return _run_held(engine, as_of, policies, now, batch, progress, intake, held)


@contextmanager
def collector_for_a_run() -> Iterator[None]:
    """Python's collector set for a run, and set back after it (issue 21).

    What the process held before the run (the ORM's metadata, the compiled policies, the
    libraries) is left out of the collector's full passes: they walked all of it again and
    again for the run's young objects — and in forked workers touched (and so copied) every
    page they inherited.  And the young collections run every `GC_YOUNG` allocations, not
    every 700: a batch holds its rows until it is written, and each collection walked all
    of them again.  The single-process run and the workers' coordinator use it; forked
    workers inherit it."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], GC_YOUNG), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _run_held(
    engine: Engine,
    as_of: date,
    policies: PolicySet,
    now: datetime,
    batch: int,
    progress: Callable[[int, int], None] | None,
    intake: bool,
    held: lease.Lease,
) -> RunStats:
    started = time.perf_counter()
    stats = RunStats(as_of)
    with engine.begin() as conn:
        run_id = rows_of.open_run(conn, as_of, now, workers=1)
    if intake:
        # A9: reconcile the bank first — a credit that waited for a person or for its invoice
        # may match now, and must count before anything escalates.
        from mahnwerk.engine.bank import rematch

        rematch(engine, now=now, actor="run")
        stats.merge(intake_phase(engine, as_of, policies, now, run_id, batch))
    total = rows_of.count_due(engine, as_of)
    done = 0
    while True:
        with engine.begin() as conn:
            ids = rows_of.claim(conn, as_of, batch)
            if not ids:
                break
            part = advance_batch(conn, ids, as_of, policies, now, run_id)
            held.beat(conn)
        stats.merge(part)
        done += len(ids)
        if progress:
            progress(done, max(total, done))
    from mahnwerk.engine.audit import seal
    from mahnwerk.engine.store.book_summary import fold_now

    seal(engine)  # the hash chain over this run's log entries (engine/audit.py)
    fold_now(engine)  # the dashboard's summary: this run's changes folded in
    stats.seconds = time.perf_counter() - started
    with engine.begin() as conn:
        rows_of.finish_run(conn, run_id, now, json.dumps(stats.as_dict()))
        held.release(conn)  # "finished" and the book free in one commit
    return stats


# ---------------------------------------------------------------------------
# Phase 1: intake
# ---------------------------------------------------------------------------


def intake_phase(
    engine: Engine, as_of: date, policies: PolicySet, now: datetime, run_id: int, batch: int
) -> RunStats:
    stats = RunStats(as_of)
    with engine.begin() as conn:
        stats.payments_unmatched = match_payments(conn, as_of)
        rows_of.wake_pending(conn, as_of)
    while True:
        with engine.begin() as conn:
            rows = rows_of.take_new_invoices(conn, batch)
            if not rows:
                break
            customers = rows_of.customers(conn, {r.customer_id for r in rows})
            if policies.arms.running:  # issue 18: a customer first seen joins an experiment
                experiments.enrol_new(conn, policies, customers, as_of)
            writes = Writes(conn)
            for row in rows:
                cust = customers[row.customer_id]
                inv = invoice_value(row, row.customer_ext)
                version_id, compiled = policies.for_customer(cust)
                outcome = stepper.start(inv, cust, compiled, as_of)
                record = outcome.record.evolve(next_check_on=as_of)
                values = record_row(record)
                # the due date's copy for the queue's index (the database checks it, 0024)
                values.update(
                    invoice_id=row.id, policy_version_id=version_id, invoice_due_date=row.due_date
                )
                writes.states.append(values)
                started = Outcome(writes, row.id, row.customer_id, as_of, now, run_id, stats,
                                  compiled, cust)  # fmt: skip
                write_actions(started, outcome.actions)
                stats.new_invoices += 1
            # C5, C6: a customer insolvent or dead before this invoice arrived
            tell_new_invoices(
                conn, [(r.id, r.issue_date, customers[r.customer_id]) for r in rows], now
            )
            writes.flush()
    return stats


#: The behaviour columns a run reads as `customer.*` facts: one list, `engine/store/records.py`'s.
BEHAVIOUR_FACTS = store.BEHAVIOUR_FACTS


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/_.]*[A-Za-z0-9]|[A-Za-z0-9]")


def match_payments(conn: Connection, as_of: date) -> int:
    """Assign unassigned payments to an invoice named in their reference; return the rest.

    A token of the free-text reference that equals an invoice number matches
    (exact, indexed look-ups).  Payments that match nothing wait for a person
    (and for the bank-statement matcher).
    """
    unmatched = 0
    for pid, reference, customer_id in rows_of.unassigned_payments(conn, as_of):
        tokens = list(dict.fromkeys(_TOKEN.findall(reference or "")))
        found = None
        for chunk in rows_of.chunks(tokens):
            hits = rows_of.invoices_numbered(conn, chunk, customer_id)
            if len(hits) == 1:
                found = hits[0]
                break
        if found is None:
            unmatched += 1
            continue
        rows_of.assign_payment(conn, pid, found.id, found.customer_id)
    return unmatched



# ---------------------------------------------------------------------------
# Phase 2: advance
# ---------------------------------------------------------------------------


def advance_batch(
    conn: Connection,
    ids: list[int],
    as_of: date,
    policies: PolicySet,
    now: datetime,
    run_id: int,
) -> RunStats:
    stats = RunStats(as_of)
    rows = rows_of.state_rows(conn, ids)
    read = store.StepRows(next(iter(rows.values()))) if rows else None
    customers = rows_of.customers(conn, {r.customer_id for r in rows.values()})
    contacts = ContactBook(conn, customers, as_of, policies.limits())
    received: list[dict[str, Any]] = []
    events = _pending_events(conn, ids, as_of, received)
    updates: list[dict[str, Any]] = []
    sqlite = conn.dialect.name == "sqlite"
    writes = Writes(conn)
    for entry in received:  # E3: people's acts in the audit trail, with their names
        entry |= {
            "customer_id": rows[entry["invoice_id"]].customer_id,
            "recorded_at": now,
            "run_id": run_id,
        }
    writes.log.extend(received)
    for invoice_id in ids:
        row = rows[invoice_id]
        cust = customers[row.customer_id]
        inv = read.invoice(row, cust.id, row.inv_ext)
        record = read.record(row, row.inv_ext)
        version_id, compiled, previous = segment_moves.route(  # issue 13: deployments' --for
            policies,
            row.policy_version_id,
            record,
            cust,
            lambda cp: stepper.facts_at(record, inv, cust, cp, as_of),  # noqa: B023
        )
        outcome = stepper.step(
            record, inv, cust, events.get(invoice_id, []), as_of, compiled, previous
        )
        written = Outcome(writes, invoice_id, row.customer_id, as_of, now, run_id, stats,
                          compiled, cust, outcome.record, contacts, inv.due_date)  # fmt: skip
        posted = write_actions(written, outcome.actions)
        new = _posted(outcome.record, posted)
        if sqlite:  # only the columns that changed (`bulk.update_by_shape`)
            values = store.changed_row(new, read.stored(row))
            if version_id != row.policy_version_id:
                values["policy_version_id"] = version_id
        else:
            values = record_row(new)
            values["policy_version_id"] = version_id
        values["invoice_id"] = invoice_id
        values["row_version"] = row.row_version + 1
        updates.append(values)
        stats.checked += 1
    writes.flush()
    (bulk.update_by_shape if sqlite else bulk.update_rows)(conn, DS, "invoice_id", updates)
    _mark_applied(conn, ids, as_of, run_id, stats)
    return stats


def _posted(record: Record, posted: date | None) -> Record:
    """The record with its last letter dated the day the letter really goes out.

    The step dates a letter on the run's day; the contact guards (Sundays, holidays, one
    written reminder a week) may post it later.  D4's gap to the next letter counts from
    the day it goes out, not from the day it was decided."""
    if posted is None or record.last_letter_on is None or posted <= record.last_letter_on:
        return record
    return record.evolve(last_letter_on=posted)


def _pending_events(
    conn: Connection, ids: list[int], as_of: date, received: list[dict[str, Any]] | None = None
) -> dict[int, list[Event]]:
    """Payments and inbox events due for these invoices; `received` gets one log row per
    inbox event, so the audit trail says who recorded what (a dispute, a hold …) and when."""
    out: dict[int, list[Event]] = defaultdict(list)
    payments, inbox = rows_of.pending_rows(conn, ids, as_of)
    for row in payments:
        out[row.invoice_id].append(
            Event(
                ir.EventKind.PAYMENT_PARTIAL,
                row.booked_on,
                Decimal(row.amount),
                ref=row.external_id,
            )
        )
    for row in inbox:
        payload = json.loads(row.payload or "{}")
        if received is not None:
            note = payload.get("note") or ""
            received.append(
                {
                    "invoice_id": row.invoice_id,
                    "kind": f"received_{row.kind}",
                    "occurred_on": row.occurred_on,
                    "actor": row.actor,
                    "rule": None,
                    "message": f"{row.kind} recorded by {row.actor}"
                    + (f": {note}" if note else ""),
                    "payload": json.dumps({"inbox_id": row.id}),
                    "state_from": None,
                    "state_to": None,
                }
            )
        if row.kind in LOG_ONLY_KINDS:
            continue  # a note: logged above, nothing for the step
        out[row.invoice_id].append(inbox_event(row.kind, row.occurred_on, payload, str(row.id)))
    for events in out.values():
        events.sort(key=lambda e: e.on)
    return out


def inbox_event(kind: str, on: date, payload: dict[str, Any], ref: str) -> Event:
    """An inbox row as the step's Event (the payload as `record_event` wrote it)."""
    promised = payload.get("promised_date")
    return Event(
        ir.EventKind(kind),
        on,
        Decimal(payload["amount"]) if payload.get("amount") else None,
        date.fromisoformat(promised) if promised else None,
        note=payload.get("note", ""),
        ref=ref,
        instalments=tuple(
            (date.fromisoformat(d), Decimal(a)) for d, a in payload.get("instalments") or []
        ),
    )


def _mark_applied(
    conn: Connection, ids: list[int], as_of: date, run_id: int, stats: RunStats
) -> None:
    applied = rows_of.mark_applied(conn, ids, as_of, run_id)
    stats.payments_applied += applied["payments"]
    stats.events_applied += applied["events"]
