"""A customer's data rights: access (GDPR Art. 15) and erasure within retention (Art. 17).

Rule E2 of the legal catalogue.  Two public operations:

* `export_customer` gathers everything the database holds about one customer —
  master data, every invoice with its dunning state, ledger lines, payments,
  the event log (with rule and reason), outbox messages, approvals and their
  decisions, inbox entries, and rows of any other table linked to the customer
  or their invoices — as JSON-ready data (money as strings, dates ISO).
* `erase_customer` erases what may be erased *today*.  Booking records
  (invoices, payments, ledger) must be kept for ten years from the end of the
  calendar year of the last booking (§ 147 Abs. 1 Nr. 1, 4, Abs. 3 AO;
  § 257 Abs. 1 Nr. 1, 4, Abs. 4, 5 HGB), and the retention duty is a legal
  obligation that limits erasure (Art. 17(3)(b)).  So:

  - while the retention runs, the data a booking record does not need is
    erased (contact data, tags, the vulnerable flag, opt-outs, scores) and the
    rest is kept but restricted (Art. 18: stored, not used for dunning);
  - once it has ended, the customer is anonymised: the name becomes
    "anonymised <hash>", address and remaining personal facts are cleared, and
    free text that repeats them (payment references, message payloads, approval
    comments, inbox notes) is scrubbed.  Amounts and dates stay, no longer
    linked to a person, so statistics and the ledger still add up.

  Rows of other features that are no booking record — IBANs learnt for
  matching, computed payment behaviour, files sent through the portal
  (`DROP_ON_ERASURE`) — are deleted on any
  erasure; free text in other tables linked to the customer is scrubbed.  The
  client addresses of the customer's portal actions are erased and their portal
  links revoked.

  A claim still being pursued (an open invoice, a payment not yet applied, a
  message being sent) is a legitimate interest (Art. 17(3)(e)): erasure is
  refused, and nothing changes.  Every erasure is itself an event — who, when,
  which fields, until when the rest is kept — without the erased values.

Which customer fields belong to the booking record: an invoice must carry the
recipient's name and address (§ 14 Abs. 4 Nr. 1 UStG), so `name`, `street`,
`postal_code`, `city`, `region` and `country` are kept during retention, as is
`type` (B2B/B2C decides the statutory interest rate, § 288 BGB) and the dates
of insolvency and death that explain why dunning stopped or a claim was
written off.  E-mail, phone, tags, the vulnerable flag, channel opt-outs and
the risk/lateness scores are not needed for any booking.  `external_id` (the
customer number) is kept: it is the key of the accounting system, which has the
same retention duty, and the key this module is asked by.

What this module cannot do: the `event` table is append-only (database
triggers refuse UPDATE and DELETE; the audit trail must not be rewritten).
The engine writes ids, rules and its own texts there, but people's free text
reaches it too (approval comments, the note of a write-off).  Erasure never
touches the log; it reports the ids of the customer's events whose message or
payload still contains an erased value, so a person can judge them.

This module holds the public operations; `privacy_rules` the fields, constants,
errors and the retention period, `privacy_scope` when erasure is refused and when
retention ends, `privacy_scrub` what erasure changes and clears; the queries that find
and change a customer's rows are in the store layer (`engine/store/privacy`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection

from mahnwerk.engine.identity import IdentityError, person
from mahnwerk.engine.privacy_rules import (
    _EVENT_KINDS,
    _ONE_DAY,
    BOOKING_FIELDS,
    EXPORT_FORMAT,
    NOT_BOOKING_FIELDS,
    RETENTION_YEARS,
    RULE,
    Bind,
    CustomerNotFound,
    ErasureRefused,
    Mode,
    PrivacyError,
    retention_end,
)
from mahnwerk.engine.privacy_scope import (
    _connection,
    _customer,
    _last_booking,
    _refuse_open_claims,
    _Scope,
)
from mahnwerk.engine.privacy_scrub import (
    ErasureResult,
    _audit_message,
    _cancel_unsent,
    _customer_changes,
    _drop_rows,
    _events_containing,
    _ibans,
    _longest_first,
    _personal_values,
    _present,
    _privacy,
    _row,
    _scrub_rows,
    anonymised_name,
)
from mahnwerk.engine.store import privacy as store


def export_customer(bind: Bind, external_id: str) -> dict[str, Any]:
    """Everything stored about customer `external_id`, JSON-serialisable.

    Keys: `format`, `customer` (all columns), `privacy` (status, last booking,
    retention end), then one list per table — `invoices` (each with its
    `dunning_state`), `ledger`, `payments`, `events`, `outbox`, `approvals`,
    `approval_decisions`, `inbox` — and `other` for tables added later that
    link to the customer or their invoices.  Rows carry every column; rows
    about an invoice also carry its number as `invoice`.  Money is a string,
    dates and instants are ISO strings, JSON payloads are parsed.
    """
    with _connection(bind, write=False) as conn:
        cust = _customer(conn, external_id)
        scope = _Scope.load(conn, cust.id)
        numbers = scope.numbers
        found = store.customer_tables(conn, scope)
        invoices = []
        for r in found["invoices"]:
            item = _row(r, {})
            state = found["dunning_states"].get(r["id"])
            item["dunning_state"] = _row(state, {}) if state is not None else None
            invoices.append(item)

        def rows(key: str) -> list[dict[str, Any]]:
            return [_row(r, numbers) for r in found[key]]

        return {
            "format": EXPORT_FORMAT,
            "customer": _row(cust._mapping, {}),
            "privacy": _privacy(conn, cust.id, scope),
            "invoices": invoices,
            "ledger": rows("ledger"),
            "payments": rows("payments"),
            "events": rows("events"),
            "outbox": rows("outbox"),
            "approvals": rows("approvals"),
            "approval_decisions": rows("approval_decisions"),
            "inbox": rows("inbox"),
            "other": {
                name: [_row(r, numbers) for r in table_rows]
                for name, table_rows in found["other"].items()
            },
        }


def erase_customer(
    bind: Bind,
    external_id: str,
    as_of: date,
    by: str,
    now: datetime | None = None,
) -> ErasureResult:
    """Erase customer `external_id` as far as the retention duty allows on `as_of`.

    Before the retention of the last booking has ended: erase the fields no
    booking needs and restrict the rest (mode `restricted`).  After it, or if
    nothing was ever booked: anonymise (mode `anonymised`).  Unsent messages
    are cancelled.  Raises `CustomerNotFound`, or `ErasureRefused` while a
    claim is open, a payment is unapplied or a message is being sent — then
    nothing changed.  `by` is the person responsible; `now` (aware) stamps the
    audit event and defaults to the start of `as_of` in UTC.  Calling it again
    with nothing left to erase writes nothing.  With an `Engine` it commits;
    with a `Connection` or `Session` it works in the caller's transaction.
    """
    by, stamp = _who_and_when(by, as_of, now)
    with _connection(bind, write=True) as conn:
        cust = _customer(conn, external_id, lock=True)
        scope = _Scope.load(conn, cust.id)
        _refuse_open_claims(conn, scope, external_id)
        last = _last_booking(conn, scope)
        until = retention_end(last) if last is not None else None
        mode: Mode = "anonymised" if until is None or as_of > until else "restricted"

        changes = _customer_changes(cust._mapping, mode)
        values = _personal_values(cust._mapping, mode)
        if mode == "anonymised":
            values = _longest_first(values + _ibans(conn, scope))
        dropped = _drop_rows(conn, scope)
        scrubbed = _scrub_rows(conn, scope, values, mode) | dropped
        for table, n in _portal_traces(conn, cust.id, stamp, by).items():
            scrubbed[table] = scrubbed.get(table, 0) + n
        cancelled = _cancel_unsent(conn, scope)
        flagged = _events_containing(conn, scope, values)
        kept = () if mode == "anonymised" else _present(cust._mapping, BOOKING_FIELDS)
        result = ErasureResult(
            customer=external_id,
            mode=mode,
            as_of=as_of,
            last_booking=last,
            retention_until=until,
            erased_fields=tuple(changes),
            kept_fields=kept,
            rows_scrubbed=scrubbed,
            messages_cancelled=cancelled,
            events_with_erased_data=flagged,
        )
        already = _privacy(conn, cust.id, scope)["status"] == mode
        if already and not changes and not scrubbed and not cancelled:
            return result
        if changes:
            store.update_customer(conn, cust.id, changes)
        event_id = _record(conn, cust.id, result, stamp, by)
        return replace(result, event_id=event_id)


def _who_and_when(by: str, as_of: date, now: datetime | None) -> tuple[str, datetime]:
    """The person responsible and the audit stamp, or why the erasure is refused."""
    try:
        by = person(by, "say who erases (--by NAME): the erasure is recorded with it")
    except IdentityError as exc:
        raise ErasureRefused(str(exc)) from None
    stamp = now or datetime.combine(as_of, time(), UTC)
    if stamp.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if now is not None and as_of > now.date() + _ONE_DAY:
        raise ErasureRefused(
            f"as-of {as_of} is in the future (today is {now.date()}): retention is judged on "
            "the real date"
        )
    return by, stamp


def _record(conn: Any, customer_id: int, result: ErasureResult, stamp: datetime, by: str) -> int:
    """The erasure's audit event: the result as its message and payload; its id."""
    return store.add_event(
        conn,
        customer_id=customer_id,
        kind=_EVENT_KINDS[result.mode],
        occurred_on=result.as_of,
        recorded_at=stamp,
        actor=by.strip(),
        rule=RULE,
        message=_audit_message(result),
        payload=json.dumps(result.as_dict() | {"event_id": None}, ensure_ascii=False),
    )


def privacy_status(bind: Bind, external_id: str) -> dict[str, Any]:
    """`active`, `restricted` or `anonymised`, with the last booking and the retention end.

    Other parts (the importer, the runner) can ask this before touching a
    customer whose data was erased.
    """
    with _connection(bind, write=False) as conn:
        cust = _customer(conn, external_id)
        return _privacy(conn, cust.id, _Scope.load(conn, cust.id))


__all__ = [
    "BOOKING_FIELDS",
    "EXPORT_FORMAT",
    "NOT_BOOKING_FIELDS",
    "RETENTION_YEARS",
    "CustomerNotFound",
    "ErasureRefused",
    "ErasureResult",
    "PrivacyError",
    "anonymised_name",
    "erase_customer",
    "export_customer",
    "privacy_status",
    "retention_end",
]


def _portal_traces(conn: Connection, customer_id: int, now: datetime, by: str) -> dict[str, int]:
    """The client addresses of the customer's portal actions (kept apart from the log for
    this) go, and their portal links are revoked (`portal.guard.forget_customer`)."""
    from mahnwerk.portal.guard import forget_customer

    return forget_customer(conn, customer_id, now, by.strip())
