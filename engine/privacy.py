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
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final, Literal

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
    delete,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from mahnwerk.engine.identity import IdentityError, person
from mahnwerk.engine.models import (
    APPROVAL,
    CUST,
    DECISION,
    DS,
    EVENT,
    INBOX,
    INV,
    LEDGER,
    OUTBOX,
    PAY,
    PV,
    RUN,
)
from mahnwerk.errors import MahnwerkError

EXPORT_FORMAT: Final = "mahnwerk-customer-export/1"
RETENTION_YEARS: Final = 10
"""§ 147 Abs. 3 AO, § 257 Abs. 4 HGB: books, invoices and booking vouchers."""
RULE: Final = "E2 GDPR Art. 17"
ERASED: Final = "[erased]"
_ONE_DAY: Final = timedelta(days=1)
"""What replaces an erased value inside free text."""

#: Customer fields no booking record needs: erased as soon as erasure is asked for.
NOT_BOOKING_FIELDS: Final = (
    "email",
    "phone",
    "tags",
    "vulnerable",
    "opted_out",
    "risk_score",
    "avg_days_late",
)
#: Customer fields that are part of the booking record (invoice addressee, § 14 UStG),
#: or explain bookings (insolvency, death): kept until retention ends, then cleared.
BOOKING_FIELDS: Final = (
    "name",
    "street",
    "postal_code",
    "city",
    "region",
    "insolvent_since",
    "deceased_since",
)
#: Preferences reset to the defaults on anonymisation (not identifying on their own).
RESET_FIELDS: Final = {"language": "de", "timezone": "Europe/Berlin"}
#: Kept for good: keys and coarse facts that identify no one once the name is gone.
KEPT_FIELDS: Final = ("id", "external_id", "type", "country")

_CLEARED: Final[dict[str, Any]] = {
    "tags": "",
    "opted_out": "",
    "vulnerable": False,
}
_SETTLED_STATES: Final = frozenset({"paid", "written_off"})
_EVENT_KINDS: Final = {"restricted": "customer_restricted", "anonymised": "customer_anonymised"}
_KNOWN_TABLES: Final = frozenset(
    t.name for t in (CUST, INV, PAY, DS, EVENT, OUTBOX, LEDGER, APPROVAL, DECISION, INBOX, PV, RUN)
)
#: Tables of other features whose rows about the customer are no booking record and go on
#: any erasure: IBANs learnt for matching payments, computed payment behaviour (profiling).
DROP_ON_ERASURE: Final = ("bank_account", "customer_behaviour", "portal_upload")
_LEGAL_FORMS: Final = frozenset(
    w.casefold() for w in ("GmbH", "mbH", "AG", "KG", "OHG", "GbR", "UG", "SE", "Co", "Ltd", "Inc")
)

Mode = Literal["restricted", "anonymised"]
Bind = Engine | Connection | Session


class PrivacyError(MahnwerkError):
    """Base of this module's refusals; the message says what to do."""


class CustomerNotFound(PrivacyError, LookupError):
    """No customer with that number."""


class ErasureRefused(PrivacyError):
    """Erasure is not allowed now (open claims, a message in flight, a bad date)."""


# ---------------------------------------------------------------------------
# Retention (§ 147 AO, § 257 HGB)
# ---------------------------------------------------------------------------


def retention_end(last_booking: date) -> date:
    """The last day booking records of `last_booking` must be kept.

    The period starts at the end of the calendar year of the booking (§ 147
    Abs. 4 AO, § 257 Abs. 5 HGB) and runs ten years: 2016-05-03 -> 2026-12-31,
    so erasure is allowed from 2027-01-01.
    """
    return date(last_booking.year + RETENTION_YEARS, 12, 31)


# ---------------------------------------------------------------------------
# Access (Art. 15)
# ---------------------------------------------------------------------------


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

        def rows(table: Table, where: ColumnElement[bool], *order: Any) -> list[dict[str, Any]]:
            if not order and "id" in table.c:
                order = (table.c.id,)
            query = select(table).where(where).order_by(*order)
            return [_row(r._mapping, numbers) for r in conn.execute(query)]

        states = {r.invoice_id: r._mapping for r in conn.execute(select(DS).where(scope.of(DS)))}
        invoices = []
        for r in conn.execute(select(INV).where(INV.c.customer_id == cust.id).order_by(INV.c.id)):
            item = _row(r._mapping, {})
            state = states.get(r.id)
            item["dunning_state"] = _row(state, {}) if state is not None else None
            invoices.append(item)
        approvals = rows(APPROVAL, scope.of(APPROVAL))
        approval_ids = [a["id"] for a in approvals]
        decisions = rows(DECISION, DECISION.c.approval_id.in_(approval_ids)) if approval_ids else []
        other = {
            table.name: rows(table, where, *table.primary_key.columns)
            for table, where in _other_tables(conn, scope)
        }
        return {
            "format": EXPORT_FORMAT,
            "customer": _row(cust._mapping, {}),
            "privacy": _privacy(conn, cust.id, scope),
            "invoices": invoices,
            "ledger": rows(LEDGER, scope.of(LEDGER), LEDGER.c.booked_on, LEDGER.c.id),
            "payments": rows(PAY, scope.of(PAY), PAY.c.booked_on, PAY.c.id),
            "events": rows(EVENT, scope.of(EVENT), EVENT.c.occurred_on, EVENT.c.id),
            "outbox": rows(OUTBOX, scope.of(OUTBOX)),
            "approvals": approvals,
            "approval_decisions": decisions,
            "inbox": rows(INBOX, scope.of(INBOX)),
            "other": other,
        }


# ---------------------------------------------------------------------------
# Erasure (Art. 17) limited by retention
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureResult:
    """What `erase_customer` did; holds no erased value, only field names and counts."""

    customer: str
    mode: Mode
    as_of: date
    last_booking: date | None
    retention_until: date | None
    erased_fields: tuple[str, ...]
    kept_fields: tuple[str, ...]
    rows_scrubbed: dict[str, int] = field(default_factory=dict)
    messages_cancelled: int = 0
    events_with_erased_data: tuple[int, ...] = ()
    event_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.event_id is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "mode": self.mode,
            "as_of": self.as_of.isoformat(),
            "last_booking": _iso(self.last_booking),
            "retention_until": _iso(self.retention_until),
            "erased_fields": list(self.erased_fields),
            "kept_fields": list(self.kept_fields),
            "rows_scrubbed": dict(self.rows_scrubbed),
            "messages_cancelled": self.messages_cancelled,
            "events_with_erased_data": list(self.events_with_erased_data),
            "event_id": self.event_id,
        }

    def __str__(self) -> str:
        if not self.changed:
            return f"customer {self.customer}: already {self.mode}, nothing left to erase"
        erased = ", ".join(self.erased_fields) or "no fields"
        if self.mode == "anonymised":
            lines = [f"customer {self.customer} anonymised: {erased} erased"]
            if self.retention_until is not None:
                lines[0] += f" (retention ended {self.retention_until})"
        else:
            until = self.retention_until
            kept = ", ".join(self.kept_fields) or "booking records"
            lines = [
                f"customer {self.customer}: {erased} erased; {kept} kept for the booking "
                f"records until {until} (§ 147 AO, § 257 HGB) and restricted; "
                f"erase again from {until + _ONE_DAY if until else '-'} to anonymise"
            ]
        scrubbed = sum(self.rows_scrubbed.values())
        if scrubbed:
            where = ", ".join(f"{t} {n}" for t, n in sorted(self.rows_scrubbed.items()))
            lines.append(f"  free text scrubbed in {scrubbed} row(s): {where}")
        if self.messages_cancelled:
            lines.append(f"  {self.messages_cancelled} unsent message(s) cancelled")
        if self.events_with_erased_data:
            ids = ", ".join(f"#{i}" for i in self.events_with_erased_data)
            lines.append(
                f"  note: event log entries {ids} still contain erased values; the log is "
                "append-only and was not changed — review them"
            )
        lines.append(f"  recorded as event #{self.event_id}")
        return "\n".join(lines)


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
            conn.execute(update(CUST).where(CUST.c.id == cust.id).values(**changes))
        event_id = conn.execute(
            insert(EVENT).values(
                customer_id=cust.id,
                kind=_EVENT_KINDS[mode],
                occurred_on=as_of,
                recorded_at=stamp,
                actor=by.strip(),
                rule=RULE,
                message=_audit_message(result),
                payload=json.dumps(result.as_dict() | {"event_id": None}, ensure_ascii=False),
            )
        ).inserted_primary_key[0]
        return replace(result, event_id=event_id)


def privacy_status(bind: Bind, external_id: str) -> dict[str, Any]:
    """`active`, `restricted` or `anonymised`, with the last booking and the retention end.

    Other parts (the importer, the runner) can ask this before touching a
    customer whose data was erased.
    """
    with _connection(bind, write=False) as conn:
        cust = _customer(conn, external_id)
        return _privacy(conn, cust.id, _Scope.load(conn, cust.id))


# ---------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------


@contextmanager
def _connection(bind: Bind, write: bool) -> Iterator[Connection]:
    """One connection and transaction: our own for an Engine, the caller's otherwise."""
    if isinstance(bind, Engine):
        if write:
            with bind.begin() as conn:
                yield conn
        else:
            with bind.connect() as conn:
                yield conn
    elif isinstance(bind, Session):
        bind.flush()
        yield bind.connection()
    else:
        yield bind


def _customer(conn: Connection, external_id: str, lock: bool = False) -> Any:
    query = select(CUST).where(CUST.c.external_id == external_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise CustomerNotFound(
            f"no customer {external_id!r}: use the customer number (customer_id) of the import; "
            "`mahnwerk invoices` shows each invoice's customer"
        )
    return row


@dataclass(frozen=True)
class _Scope:
    """The customer's id and their invoices' ids: what links a row to the person."""

    customer_id: int
    numbers: dict[int, str]

    @classmethod
    def load(cls, conn: Connection, customer_id: int) -> _Scope:
        rows = conn.execute(
            select(INV.c.id, INV.c.external_id).where(INV.c.customer_id == customer_id)
        )
        return cls(customer_id, {r.id: r.external_id for r in rows})

    def of(self, table: Table) -> ColumnElement[bool]:
        """Rows of `table` about this customer, by customer id or by one of the invoices."""
        parts = []
        if "customer_id" in table.c:
            parts.append(table.c.customer_id == self.customer_id)
        if "invoice_id" in table.c and self.numbers:
            parts.append(table.c.invoice_id.in_(list(self.numbers)))
        return or_(*parts) if parts else false()


def _other_tables(conn: Connection, scope: _Scope) -> list[tuple[Table, ColumnElement[bool]]]:
    """Tables declared beside the core ones that hold a customer or invoice id."""
    existing = set(_table_names(conn))
    out = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _KNOWN_TABLES or table.name not in existing:
            continue
        if "customer_id" in table.c or "invoice_id" in table.c:
            out.append((table, scope.of(table)))
    return out


def _table_names(conn: Connection) -> list[str]:
    return inspect(conn).get_table_names()


def _refuse_open_claims(conn: Connection, scope: _Scope, external_id: str) -> None:
    """Art. 17(3)(e): a claim still pursued keeps the data needed to pursue it."""
    problems: list[str] = []
    if scope.numbers:
        query = (
            select(INV.c.external_id, DS.c.state)
            .outerjoin(DS, DS.c.invoice_id == INV.c.id)
            .where(
                INV.c.customer_id == scope.customer_id,
                INV.c.closed_on.is_(None),
                or_(DS.c.state.is_(None), DS.c.state.not_in(_SETTLED_STATES)),
            )
            .order_by(INV.c.id)
        )
        open_ = [f"{r.external_id} ({r.state or 'new'})" for r in conn.execute(query)]
        if open_:
            problems.append(
                f"{len(open_)} open invoice(s): {_first(open_)} — a claim still pursued is a "
                "legitimate interest (GDPR Art. 17(3)(e)); erase once they are paid or "
                "written off"
            )
    unapplied = [
        r.external_id
        for r in conn.execute(
            select(PAY.c.external_id).where(scope.of(PAY), PAY.c.applied.is_(False))
        )
    ]
    if unapplied:
        problems.append(
            f"{len(unapplied)} payment(s) not yet applied: {_first(unapplied)} — "
            "match them and run the engine first"
        )
    sending = conn.execute(
        select(func.count())
        .select_from(OUTBOX)
        .where(scope.of(OUTBOX), OUTBOX.c.status == "sending")
    ).scalar_one()
    if sending:
        problems.append(f"{sending} message(s) are being sent right now — try again later")
    if problems:
        raise ErasureRefused(
            f"erasure of customer {external_id!r} refused, nothing changed:\n  "
            + "\n  ".join(problems)
        )


def _first(items: list[str], limit: int = 10) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _last_booking(conn: Connection, scope: _Scope) -> date | None:
    """The latest day anything was booked for the customer: invoice, ledger line, payment."""
    days = [
        conn.execute(
            select(func.max(INV.c.issue_date)).where(INV.c.customer_id == scope.customer_id)
        ).scalar(),
        conn.execute(select(func.max(PAY.c.booked_on)).where(scope.of(PAY))).scalar(),
    ]
    if scope.numbers:
        days.append(
            conn.execute(
                select(func.max(LEDGER.c.booked_on)).where(
                    LEDGER.c.invoice_id.in_(list(scope.numbers))
                )
            ).scalar()
        )
    found = [_as_date(d) for d in days if d is not None]
    return max(found) if found else None


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _customer_changes(cust: Mapping[str, Any], mode: Mode) -> dict[str, Any]:
    """New values for the fields that are to be erased and still hold something."""
    target: dict[str, Any] = {f: _CLEARED.get(f) for f in NOT_BOOKING_FIELDS}
    if mode == "anonymised":
        target |= {f: None for f in BOOKING_FIELDS} | RESET_FIELDS
        target["name"] = anonymised_name(cust["id"], cust["external_id"])
    return {
        f: v for f, v in target.items() if cust[f] != v and not (f == "name" and _is_anon(cust))
    }


def anonymised_name(customer_id: int, external_id: str) -> str:
    """A stable placeholder derived from keys that are kept anyway, never from the name."""
    digest = hashlib.sha256(f"mahnwerk:{customer_id}:{external_id}".encode()).hexdigest()
    return f"anonymised {digest[:12]}"


def _is_anon(cust: Mapping[str, Any]) -> bool:
    return cust["name"] == anonymised_name(cust["id"], cust["external_id"])


def _present(cust: Mapping[str, Any], fields: Iterable[str]) -> tuple[str, ...]:
    return tuple(f for f in fields if cust[f] not in (None, ""))


def _personal_values(cust: Mapping[str, Any], mode: Mode) -> tuple[str, ...]:
    """The strings to look for in free text: contact data, and in `anonymised` name and address.

    The name is also searched word by word ("Schmidt, Anna" -> "Schmidt", "Anna"), without
    legal forms such as "GmbH"; tags and opt-outs are vocabulary, not identifiers.
    """
    fields = ["email", "phone"]
    if mode == "anonymised" and not _is_anon(cust):
        fields += ["name", "street", "city", "postal_code"]
    found: set[str] = set()
    for f in fields:
        value = cust[f]
        if isinstance(value, str) and len(value.strip()) >= 3:
            found.add(value.strip())
            if f in ("name", "street"):
                found.update(
                    w
                    for w in re.findall(r"[^\W\d_][\w.'-]*", value)
                    if len(w) >= 3 and w.casefold().rstrip(".") not in _LEGAL_FORMS
                )
    return _longest_first(found)


def _pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    if not values:
        return None
    alternatives = "|".join(re.escape(v) for v in values)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _scrub_text(text: Any, pattern: re.Pattern[str]) -> Any:
    """`text` with every personal value replaced; JSON stays JSON (values inside are scrubbed)."""
    if not isinstance(text, str) or not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return pattern.sub(ERASED, text)
    if not isinstance(data, dict | list):
        return pattern.sub(ERASED, text)
    cleaned = _scrub_json(data, pattern)
    return text if cleaned == data else json.dumps(cleaned, ensure_ascii=False)


def _scrub_json(data: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(data, str):
        return pattern.sub(ERASED, data)
    if isinstance(data, list):
        return [_scrub_json(v, pattern) for v in data]
    if isinstance(data, dict):
        return {k: _scrub_json(v, pattern) for k, v in data.items()}
    return data


def _free_text_columns(table: Table) -> list[str]:
    """Text columns of a table added later that are neither keys nor constrained."""
    unique = {c.name for con in table.constraints for c in getattr(con, "columns", ())}
    return [
        c.name
        for c in table.columns
        if isinstance(c.type, String) and c.name not in unique and not c.foreign_keys
    ]


def _drop_rows(conn: Connection, scope: _Scope) -> dict[str, int]:
    """Delete the customer's rows in `DROP_ON_ERASURE` tables (where they exist)."""
    counts = {}
    for table, where in _other_tables(conn, scope):
        if table.name in DROP_ON_ERASURE:
            deleted = conn.execute(delete(table).where(where)).rowcount or 0
            if deleted:
                counts[table.name] = deleted
    return counts


def _ibans(conn: Connection, scope: _Scope) -> tuple[str, ...]:
    """The customer's IBANs as other tables hold them (`iban`, `*_iban` columns)."""
    found: set[str] = set()
    for table, where in _other_tables(conn, scope):
        for column in (c for c in table.columns if c.name == "iban" or c.name.endswith("_iban")):
            found.update(v for (v,) in conn.execute(select(column).where(where)) if v)
    return tuple(found)


def _longest_first(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values), key=len, reverse=True))


def _scrub_rows(
    conn: Connection, scope: _Scope, values: tuple[str, ...], mode: Mode
) -> dict[str, int]:
    """Replace personal values in free text of the customer's mutable rows; count per table."""
    pattern = _pattern(values)
    targets: list[tuple[Table, ColumnElement[bool], list[str]]] = [
        (OUTBOX, scope.of(OUTBOX), ["payload", "last_error"]),
        (INBOX, scope.of(INBOX), ["payload"]),
        (APPROVAL, scope.of(APPROVAL), ["summary"]),
        (DS, scope.of(DS), ["pause_reason"]),
        (
            DECISION,
            DECISION.c.approval_id.in_(select(APPROVAL.c.id).where(scope.of(APPROVAL))),
            ["comment"],
        ),
    ]
    targets += [(t, where, _free_text_columns(t)) for t, where in _other_tables(conn, scope)]
    counts: dict[str, int] = {}
    if mode == "anonymised":
        # Bank references are booking vouchers during retention; afterwards they go.
        res = conn.execute(
            update(PAY).where(scope.of(PAY), PAY.c.reference.is_not(None)).values(reference=None)
        )
        if res.rowcount:
            counts["payment"] = res.rowcount
    if pattern is None:
        return counts
    for table, where, columns in targets:
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        if not keys:  # rows we cannot address one by one are left alone
            continue
        for row in conn.execute(select(*keys, *(table.c[c] for c in columns)).where(where)):
            new = {c: _scrub_text(row._mapping[c], pattern) for c in columns}
            new = {c: v for c, v in new.items() if v != row._mapping[c]}
            if not new:
                continue
            conn.execute(
                update(table).where(*(k == row._mapping[k.name] for k in keys)).values(**new)
            )
            counts[table.name] = counts.get(table.name, 0) + 1
    return counts


def _portal_traces(conn: Connection, customer_id: int, now: datetime, by: str) -> dict[str, int]:
    """The client addresses of the customer's portal actions (kept apart from the log for
    this) go, and their portal links are revoked (`portal.guard.forget_customer`)."""
    from mahnwerk.portal.guard import forget_customer

    return forget_customer(conn, customer_id, now, by.strip())


def _cancel_unsent(conn: Connection, scope: _Scope) -> int:
    """Nothing more goes out to an erased customer: queued and failed messages are cancelled."""
    res = conn.execute(
        update(OUTBOX)
        .where(scope.of(OUTBOX), OUTBOX.c.status.in_(("queued", "failed")))
        .values(status="cancelled")
    )
    return res.rowcount or 0


def _events_containing(conn: Connection, scope: _Scope, values: tuple[str, ...]) -> tuple[int, ...]:
    """Ids of the customer's log entries that repeat a personal value (the log stays as is)."""
    pattern = _pattern(values)
    if pattern is None:
        return ()
    query = select(EVENT.c.id, EVENT.c.message, EVENT.c.payload).where(scope.of(EVENT))
    return tuple(
        r.id
        for r in conn.execute(query.order_by(EVENT.c.id))
        if pattern.search(r.message or "") or pattern.search(_json_text(r.payload))
    )


def _json_text(payload: str | None) -> str:
    """Payload text with JSON escapes undone, so "M\\u00fcller" is found as "Müller"."""
    try:
        return json.dumps(json.loads(payload or "{}"), ensure_ascii=False)
    except ValueError:
        return payload or ""


def _privacy(conn: Connection, customer_id: int, scope: _Scope) -> dict[str, Any]:
    last = _last_booking(conn, scope)
    until = retention_end(last) if last is not None else None
    latest = conn.execute(
        select(EVENT.c.kind, EVENT.c.occurred_on, EVENT.c.actor)
        .where(EVENT.c.customer_id == customer_id, EVENT.c.kind.in_(list(_EVENT_KINDS.values())))
        .order_by(EVENT.c.id.desc())
        .limit(1)
    ).first()
    return {
        "status": latest.kind.removeprefix("customer_") if latest else "active",
        "since": _iso(latest.occurred_on) if latest else None,
        "by": latest.actor if latest else None,
        "last_booking": _iso(last),
        "retention_until": _iso(until),
        "erasure_from": _iso(until + _ONE_DAY) if until else None,
    }


def _audit_message(result: ErasureResult) -> str:
    """The log line: which fields, on what ground — never the erased values."""
    fields = ", ".join(result.erased_fields) or "no fields"
    if result.mode == "anonymised":
        ground = (
            f"retention ended {result.retention_until}"
            if result.retention_until
            else "no booking records to keep"
        )
        return f"customer anonymised (GDPR Art. 17; {ground}): {fields} erased"
    return (
        f"personal data erased (GDPR Art. 17): {fields}; booking data kept and restricted "
        f"(Art. 18) until {result.retention_until} (§ 147 AO, § 257 HGB)"
    )


def _row(mapping: Mapping[str, Any], numbers: Mapping[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        out[key] = _json_value(key, value)
    if "invoice_id" in out and numbers:
        out["invoice"] = numbers.get(out["invoice_id"])
    return out


def _json_value(key: str, value: Any) -> Any:
    if isinstance(value, bytes):  # a file the customer sent (a portal upload), as base64
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if key in ("payload", "plan", "interest_deferred", "stats") and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


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
