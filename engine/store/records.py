"""The store layer (issue 21), begun: which columns make the values the step reads.

`state.py`'s values (`Record`, `Invoice`, `Customer`) are what the pure step works on; this
module is to be the one place that reads and writes the tables for them.  It starts with the
reads that had been written out again in several modules and had drifted apart: the deploy
preview (`deploy_review`) and the next-step view (`customer_view`) selected an invoice
without `claim_kind` and `skonto_terms`, so `runner.invoice_value` took every claim there for
goods or services (§ 288 Abs. 2 BGB's 9 points) and saw no Skonto tiers, where the run reads
both.  Now they select through `record_select`, and the simulator's two customer reads through
`customer_select`.

The row ↔ value mappings (`record_value`, `record_row`, `invoice_value`, `customer_value`)
live here too, with `Record`'s columns derived from its fields.  Still elsewhere, to move
here next: the run's batch reads and the queries of the TUI, CLI and API.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, insert, select

from mahnwerk.dsl.statute import BERLIN
from mahnwerk.engine.models import BEHAVIOUR, CUST, DS, EVENT, INV
from mahnwerk.engine.state import Customer, Invoice, Record, record_from_fields
from mahnwerk.engine.terms import offers_from_json, offers_json, tiers_from_json

#: The invoice columns a step needs beside its `dunning_state` row: what
#: `runner.invoice_value` reads, with the invoice number as `inv_ext`.
STEP_INVOICE_COLUMNS: tuple[ColumnElement, ...] = (
    INV.c.external_id.label("inv_ext"),
    INV.c.customer_id,
    INV.c.issue_date,
    INV.c.due_date,
    INV.c.amount,
    INV.c.currency,
    INV.c.due_date_agreed,
    INV.c.notice_30_days,
    INV.c.received_on,
    INV.c.claim_kind,
    INV.c.skonto_terms,
)

#: The behaviour columns read as `customer.*` facts (written by `mahnwerk analyse`).
BEHAVIOUR_FACTS: tuple[ColumnElement, ...] = tuple(
    BEHAVIOUR.c[name]
    for name in (
        "median_days_late",
        "late_share",
        "trend_days",
        "disputes",
        "partial_payments",
        "overdue_invoices",
        "gone_quiet",
        "feedback_reason",
    )
)


def record_select(*extra: ColumnElement) -> Select:
    """Each `dunning_state` row with its invoice's step columns (and `extra` columns)."""
    return select(DS, *STEP_INVOICE_COLUMNS, *extra).join(INV, INV.c.id == DS.c.invoice_id)


def customer_select() -> Select:
    """Customers with their behaviour facts, as `runner.customer_value` maps them."""
    return select(CUST, *BEHAVIOUR_FACTS).outerjoin(BEHAVIOUR, BEHAVIOUR.c.customer_id == CUST.c.id)


def log_book_event(
    conn: Connection, kind: str, actor: str, now: datetime, message: str, payload: dict[str, Any]
) -> None:
    """One entry of the event log for the whole book, not an invoice (an import of customers,
    invoices, events or a bank statement): who, when, what it did, on `now`'s Berlin day."""
    conn.execute(
        insert(EVENT).values(
            kind=kind,
            occurred_on=now.astimezone(BERLIN).date(),
            recorded_at=now,
            actor=actor,
            message=message,
            payload=json.dumps(payload),
        )
    )


# ---------------------------------------------------------------------------
# Row <-> value mapping
# ---------------------------------------------------------------------------

_NONE: frozenset[str] = frozenset()
_RECORD_COLUMNS = tuple(f.name for f in fields(Record) if f.name != "invoice_id")
"""`dunning_state`'s columns that carry a `Record`: its fields, listed once (`state.py`)."""


def _split(text: str | None) -> frozenset[str]:
    if not text:
        return _NONE  # most rows: no tags, no opt-out, no template sent yet
    return frozenset(t.strip() for t in (text or "").replace("|", ",").split(",") if t.strip())


def customer_value(
    row: Any, open_balance: Decimal = Decimal(0), open_invoices: int = 0
) -> Customer:
    values = (*_READ_CUSTOMER(row), *(getattr(row, n, None) for n in _CUSTOMER_COLUMNS[14:]))
    return _customer(values, open_balance, open_invoices)


#: The columns `customer_value` reads, in the order `_customer` takes them; the behaviour
#: facts (outer-joined by `customer_select`) may be missing from a row: then None.
_CUSTOMER_COLUMNS = (
    "external_id", "name", "type", "country", "region", "language", "tags", "vulnerable",
    "opted_out", "timezone", "risk_score", "avg_days_late", "insolvent_since", "deceased_since",
    # the behaviour facts last: a row may lack them
    "median_days_late", "late_share", "trend_days", "disputes", "partial_payments",
    "overdue_invoices", "gone_quiet", "feedback_reason",
)  # fmt: skip
_READ_CUSTOMER = attrgetter(*_CUSTOMER_COLUMNS[:14])


def _customer(values: Sequence[Any], open_balance: Decimal, open_invoices: int) -> Customer:
    (ext, name, type_, country, region, language, tags, vulnerable, opted_out, timezone, risk,
     avg_late, insolvent, deceased, median_late, late_share, trend, disputes, partials, overdue,
     quiet, feedback) = values  # fmt: skip
    return Customer(
        id=ext,
        name=name,
        type=type_,
        country=country or "DE",
        region=region,
        language=language or "de",
        tags=_split(tags),
        vulnerable=bool(vulnerable),
        opted_out=_split(opted_out),
        timezone=timezone or "Europe/Berlin",
        risk_score=risk,
        avg_days_late=avg_late,
        # behaviour facts (customer_behaviour, outer-joined by `_customers`; absent: None)
        median_days_late=median_late,
        late_share=late_share,
        trend_days=trend,
        disputes=disputes or 0,
        partial_payments=partials or 0,
        overdue_invoices=overdue or 0,
        gone_quiet=bool(quiet),
        feedback=feedback or "",
        open_balance=open_balance,
        open_invoices=open_invoices,
        insolvent_since=insolvent,
        deceased_since=deceased,
    )


def invoice_value(row: Any, customer_ext: str, external_id: str | None = None) -> Invoice:
    values = (
        *_READ_INVOICE(row),
        getattr(row, "claim_kind", None),
        getattr(row, "skonto_terms", None),
    )
    return _invoice(values, customer_ext, external_id or row.external_id)


#: The invoice columns `invoice_value` reads (a row without `claim_kind` or `skonto_terms`
#: reads as goods or services without Skonto).
_INVOICE_COLUMNS = (
    "issue_date", "due_date", "amount", "currency", "due_date_agreed", "notice_30_days",
    "received_on", "claim_kind", "skonto_terms",
)  # fmt: skip
_READ_INVOICE = attrgetter(*_INVOICE_COLUMNS[:7])


def _invoice(values: Sequence[Any], customer_ext: str, external_id: str) -> Invoice:
    issue, due, amount, currency, agreed, notice, received, claim_kind, skonto = values
    return Invoice(
        id=external_id,
        customer_id=customer_ext,
        issue_date=issue,
        due_date=due,
        amount=Decimal(amount),
        currency=currency,
        due_date_agreed=bool(agreed),
        notice_30_days=bool(notice),
        received_on=received,
        goods_or_services=claim_kind != "other",
        skonto=tiers_from_json(skonto),
    )


def record_value(row: Any, invoice_ext: str) -> Record:
    return _record(invoice_ext, _READ_RECORD(row))


_READ_RECORD = attrgetter(*_RECORD_COLUMNS)
_AT = {name: i for i, name in enumerate(_RECORD_COLUMNS)}
_MONEY = tuple(_AT[c] for c in ("principal_open", "fees_open", "interest_open", "plan_paid"))
_MONEY_OR_ZERO = tuple(_AT[c] for c in ("fees_charged_sum", "add_ons_paid"))
_COUNT_OR_ZERO = tuple(_AT[c] for c in ("fees_charged", "fee_floor"))
_FLAGS = tuple(
    _AT[c]
    for c in (
        "interest_active",
        "lump_sum_charged",
        "held",
        "disputed",
        "plan_active",
        "credit_stopped",
    )
)


def _record(invoice_ext: str, stored: Sequence[Any]) -> Record:
    """A `Record` from its columns as stored (`_RECORD_COLUMNS` order)."""
    values = list(stored)
    for i in _MONEY:
        values[i] = Decimal(values[i])
    for i in _MONEY_OR_ZERO:
        values[i] = Decimal(values[i] or 0)
    for i in _COUNT_OR_ZERO:
        values[i] = values[i] or 0
    for i in _FLAGS:
        values[i] = bool(values[i])
    at = _AT
    values[at["plan"]] = _plan_from_json(values[at["plan"]])
    values[at["sent_templates"]] = _split(values[at["sent_templates"]])
    values[at["discount_offers"]] = offers_from_json(values[at["discount_offers"]])
    deferred = values[at["interest_deferred"]]
    values[at["interest_deferred"]] = (
        tuple(
            (date.fromisoformat(a), date.fromisoformat(b), Decimal(p), Decimal(x))
            for a, b, p, x in json.loads(deferred)
        )
        if deferred
        else ()
    )
    return record_from_fields((invoice_ext, *values))


class StepRows:
    """The values of many rows of one `record_select` result, read by position.

    A `Row`'s attribute access is a Python call per column, and a run reads some 60
    columns for each of its invoices: the positions are looked up once, from the first row,
    and each row is then read with one `itemgetter` call (issue 21's daily run)."""

    def __init__(self, first: Any):
        names = list(first._fields)
        self._record = itemgetter(*(names.index(c) for c in _RECORD_COLUMNS))
        self._invoice = itemgetter(*(names.index(c) for c in _INVOICE_COLUMNS))

    def record(self, row: Any, invoice_ext: str) -> Record:
        return _record(invoice_ext, self._record(row))

    def stored(self, row: Any) -> tuple[Any, ...]:
        """The row's `Record` columns as read (`_RECORD_COLUMNS` order): `changed_row`'s
        `stored`."""
        return self._record(row)

    def invoice(self, row: Any, customer_ext: str, external_id: str) -> Invoice:
        return _invoice(self._invoice(row), customer_ext, external_id)


def customer_values(rows: Sequence[Any]) -> list[Customer]:
    """`customer_value` of many rows of one result, each read by position (see `StepRows`)."""
    if not rows:
        return []
    names = list(rows[0]._fields)
    at = [names.index(c) if c in names else None for c in _CUSTOMER_COLUMNS]
    if None in at:  # a select without the behaviour facts
        return [customer_value(row) for row in rows]
    read = itemgetter(*at)
    return [_customer(read(row), Decimal(0), 0) for row in rows]


def changed_row(record: Record, stored: Sequence[Any]) -> dict[str, Any]:
    """The columns of `record_row(record)` whose value differs from the row as it was read
    (`stored`, `_RECORD_COLUMNS` order, as `StepRows.stored` gives it): what an UPDATE must
    set so the row ends up as a full write of `record` would leave it.  Values are compared
    as the columns hold them (money as cents in a Decimal, days as dates, NULL as None),
    so an equal value is the same stored value (issue 21: a run's update sets a few of the
    forty-odd columns; each one set costs a conversion, a bind and SQLite's own work)."""
    return {
        name: value
        for (name, value), was in zip(record_row(record).items(), stored, strict=True)
        if value is not was and value != was
    }


def record_row(record: Record) -> dict[str, Any]:
    row = {c: getattr(record, c) for c in _RECORD_COLUMNS}
    row["sent_templates"] = ",".join(sorted(record.sent_templates)) or None
    row["discount_offers"] = offers_json(record.discount_offers)
    row["plan"] = (
        json.dumps([[d.isoformat(), str(a)] for d, a in record.plan]) if record.plan else None
    )
    row["interest_deferred"] = (
        json.dumps(
            [
                [a.isoformat(), b.isoformat(), str(p), str(x)]
                for a, b, p, x in record.interest_deferred
            ]
        )
        if record.interest_deferred
        else None
    )
    return row


def _plan_from_json(text: str | None) -> tuple[tuple[date, Decimal], ...]:
    if not text:
        return ()
    return tuple((date.fromisoformat(d), Decimal(a)) for d, a in json.loads(text))
