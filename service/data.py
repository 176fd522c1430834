"""Master data from the ERP: customers, invoices and payments (upsert by external id).

Writes go through the importer's checks (`engine.importer.import_records`), so a row
the API accepts is a row a CSV import would accept, with the same messages; an error
names the item and field (`/items/3/due_date`). A batch is written whole or not at all.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Engine

from mahnwerk.engine.importer import ImportFailed, Kind, import_records
from mahnwerk.engine.store import api as api_store
from mahnwerk.engine.store import invoices as invoice_store
from mahnwerk.service.deps import (
    caller,
    decode_cursor,
    encode_cursor,
    engine_of,
    now_of,
)
from mahnwerk.service.identity import Identity
from mahnwerk.service.problems import Problem
from mahnwerk.service.schemas import (
    Customer,
    CustomerBatch,
    CustomerIn,
    InvoiceBatch,
    InvoiceIn,
    InvoiceRow,
    Key,
    Page,
    PaymentBatch,
    UpsertResult,
)

router = APIRouter()
Cursor = Annotated[str | None, Query(max_length=40, description="next_cursor of the last page")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]
KeyPath = Annotated[str, Path(min_length=1, max_length=64)]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _records(items: list[Any], rename: dict[str, str] | None = None) -> list[dict[str, str]]:
    rename = rename or {}
    return [
        {rename.get(k, k): _cell(getattr(item, k)) for k in sorted(item.model_fields_set)}
        for item in items
    ]


def upsert(
    engine: Engine,
    kind: Kind,
    records: list[dict[str, str]],
    who: Identity,
    now: Any,
    pointer: str = "/items",
) -> UpsertResult:
    """One transaction: every record or none, with the importer's checks."""
    try:
        with engine.begin() as conn:
            result = import_records(conn, kind, records, f"api:{kind}", actor=who.name, now=now)
    except ImportFailed as exc:
        errors = [
            {
                "pointer": f"{pointer}/{e.line}/{e.column}" if pointer else f"/{e.column}",
                "field": e.column,
                "detail": e.message + (f" — {e.hint}" if e.hint else ""),
            }
            for e in exc.errors
        ]
        first = errors[0]
        raise Problem(
            422, "Invalid request", f"{first['pointer']}: {first['detail']}", errors
        ) from None
    return UpsertResult(
        inserted=result.inserted, updated=result.updated, unchanged=result.unchanged
    )


def _customer(row: Any) -> Customer:
    return Customer(
        customer_id=row.external_id,
        name=row.name,
        type=row.type,
        email=row.email,
        phone=row.phone,
        street=row.street,
        postal_code=row.postal_code,
        city=row.city,
        country=row.country,
        region=row.region,
        language=row.language,
        tags=[t for t in row.tags.split(",") if t] if row.tags else [],
        vulnerable=bool(row.vulnerable),
        opted_out=[t for t in row.opted_out.split(",") if t] if row.opted_out else [],
        timezone=row.timezone,
    )


@router.get("/customers", response_model=Page, tags=["customers"], description="")
def list_customers(
    cursor: Cursor = None,
    limit: Limit = 100,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> Page:
    rows = api_store.customers_page(engine, decode_cursor(cursor), limit)
    items = [_customer(r).model_dump() for r in rows]
    return Page(items=items, next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None)


@router.get(
    "/customers/{customer_id}",
    response_model=Customer,
    tags=["customers"],
    description="",
)
def get_customer(
    customer_id: KeyPath,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> Customer:
    row = api_store.customer(engine, customer_id)
    if row is None:
        raise Problem(404, "Not found", f"no customer {customer_id!r}")
    return _customer(row)


@router.post(
    "/customers",
    response_model=UpsertResult,
    tags=["customers"],
    description="Create or update up to 1,000 customers by `customer_id`. ",
)
def post_customers(
    batch: CustomerBatch,
    engine: Engine = Depends(engine_of),
    now: Any = Depends(now_of),
    who: Identity = Depends(caller),
) -> UpsertResult:
    return upsert(engine, "customers", _records(batch.items), who, now)


@router.put(
    "/customers/{customer_id}",
    response_model=Customer,
    tags=["customers"],
    description="Create or update one customer. ",
)
def put_customer(
    customer_id: KeyPath,
    item: CustomerIn,
    engine: Engine = Depends(engine_of),
    now: Any = Depends(now_of),
    who: Identity = Depends(caller),
) -> Customer:
    _same_key(customer_id, item.customer_id, "customer_id")
    upsert(engine, "customers", _records([item]), who, now, pointer="")
    return get_customer(customer_id, engine, who)


def _same_key(path_value: str, body_value: str, field: str) -> None:
    if path_value != body_value:
        raise Problem(
            422,
            "Invalid request",
            f"{field}: the body says {body_value!r}, the URL {path_value!r} — make them equal",
            [{"pointer": f"/{field}", "field": field, "detail": "differs from the URL"}],
        )


@router.get("/invoices", response_model=Page, tags=["invoices"], description="")
def list_invoices(
    cursor: Cursor = None,
    limit: Limit = 100,
    state: Annotated[str | None, Query(max_length=64)] = None,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> Page:
    rows = invoice_store.invoice_page(engine, decode_cursor(cursor), limit, state, segment)
    return Page(
        items=[r for _, r in rows],
        next_cursor=encode_cursor(rows[-1][0]) if len(rows) == limit else None,
    )


@router.get(
    "/invoices/{invoice_id}",
    response_model=InvoiceRow,
    tags=["invoices"],
    description="",
)
def get_invoice(
    invoice_id: KeyPath,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> dict[str, Any]:
    try:
        return invoice_store.invoice(engine, invoice_id)
    except invoice_store.NotFound as exc:
        raise Problem(404, "Not found", str(exc)) from None


@router.get(
    "/invoices/{invoice_id}/timeline",
    tags=["invoices"],
    description="Every event, booking and message with its rule (as `show --json`). ",
)
def get_timeline(
    invoice_id: KeyPath,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> dict[str, Any]:
    try:
        return invoice_store.timeline(engine, invoice_id)
    except invoice_store.NotFound as exc:
        raise Problem(404, "Not found", str(exc)) from None


@router.post(
    "/invoices",
    response_model=UpsertResult,
    tags=["invoices"],
    description="Create or update up to 1,000 invoices by `invoice_id`. ",
)
def post_invoices(
    batch: InvoiceBatch,
    engine: Engine = Depends(engine_of),
    now: Any = Depends(now_of),
    who: Identity = Depends(caller),
) -> UpsertResult:
    return upsert(engine, "invoices", _records(batch.items), who, now)


@router.put(
    "/invoices/{invoice_id}",
    response_model=InvoiceRow,
    tags=["invoices"],
    description="Create or update one invoice. ",
)
def put_invoice(
    invoice_id: KeyPath,
    item: InvoiceIn,
    engine: Engine = Depends(engine_of),
    now: Any = Depends(now_of),
    who: Identity = Depends(caller),
) -> dict[str, Any]:
    _same_key(invoice_id, item.invoice_id, "invoice_id")
    upsert(engine, "invoices", _records([item]), who, now, pointer="")
    return invoice_store.invoice(engine, invoice_id)


def _payment(row: Any) -> dict[str, Any]:
    return {
        "payment_id": row.external_id,
        "date": row.booked_on.isoformat(),
        "amount": str(row.amount),
        "currency": row.currency,
        "invoice_id": row.invoice_ext,
        "reference": row.reference,
        "applied": bool(row.applied),
        "source": row.source,
    }


@router.get("/payments", response_model=Page, tags=["payments"], description="")
def list_payments(
    cursor: Cursor = None,
    limit: Limit = 100,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> Page:
    rows = api_store.payments_page(engine, decode_cursor(cursor), limit)
    return Page(
        items=[_payment(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None,
    )


@router.post(
    "/payments",
    response_model=UpsertResult,
    tags=["payments"],
    description="Record up to 1,000 payments by `payment_id` (the next run applies them). ",
)
def post_payments(
    batch: PaymentBatch,
    engine: Engine = Depends(engine_of),
    now: Any = Depends(now_of),
    who: Identity = Depends(caller),
) -> UpsertResult:
    return upsert(engine, "payments", _records(batch.items, {"payment_id": "payment_id"}), who, now)


__all__ = ["Key", "router"]
