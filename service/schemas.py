"""The API's request and response shapes (pydantic), with the limits every field obeys.

Money is a JSON string with exactly two decimals (`"119.00"`), as in `docs/json.md`:
a float would lose cents. Dates are ISO `YYYY-MM-DD`. Text fields have lengths and
refuse control characters, so nothing odd reaches a letter or a CSV export.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mahnwerk.dsl import events
from mahnwerk.engine.comms import channels

MAX_ITEMS = 1000
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"

Money = Annotated[
    str,
    Field(
        pattern=r"^\d{1,12}\.\d{2}$",
        description='An amount as a string with two decimals, e.g. "119.00"',
        examples=["119.00"],
    ),
]
Key = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/ -]*$",
        description="An external id as the accounting system writes it",
    ),
]
Text = Annotated[str, Field(max_length=200, pattern=NO_CONTROL)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
Role = Literal["viewer", "operator", "approver", "manager", "admin"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIn(Strict):
    customer_id: Key
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_CONTROL)]
    type: Literal["B2B", "B2C"]
    email: Text | None = None
    phone: Annotated[str, Field(max_length=40, pattern=NO_CONTROL)] | None = None
    street: Text | None = None
    postal_code: Annotated[str, Field(max_length=12, pattern=NO_CONTROL)] | None = None
    city: Text | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    region: Annotated[str, Field(max_length=8, pattern=r"^[A-Za-z0-9-]*$")] | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] | None = None
    tags: (
        Annotated[
            list[Annotated[str, Field(max_length=40, pattern=r"^[^\x00-\x1f,|]*$")]],
            Field(max_length=20),
        ]
        | None
    ) = None
    vulnerable: bool | None = None
    opted_out: list[Literal[channels.names()]] | None = None  # type: ignore[valid-type]
    timezone: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z_/+-]+$")] | None = None


class InvoiceIn(Strict):
    invoice_id: Key
    customer_id: Key
    issue_date: date
    due_date: date
    amount: Money
    currency: Currency | None = None
    due_date_agreed: bool | None = None
    notice_30_days: bool | None = None
    received_on: date | None = None


class PaymentIn(Strict):
    payment_id: Key
    date: date
    amount: Money
    currency: Currency | None = None
    invoice_id: Key | None = None
    reference: Annotated[str, Field(max_length=500, pattern=NO_CONTROL)] | None = None
    customer_id: Key | None = None


class CustomerBatch(Strict):
    items: Annotated[list[CustomerIn], Field(min_length=1, max_length=MAX_ITEMS)]


class InvoiceBatch(Strict):
    items: Annotated[list[InvoiceIn], Field(min_length=1, max_length=MAX_ITEMS)]


class PaymentBatch(Strict):
    items: Annotated[list[PaymentIn], Field(min_length=1, max_length=MAX_ITEMS)]


class UpsertResult(BaseModel):
    inserted: int
    updated: int
    unchanged: int


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


class Customer(BaseModel):
    customer_id: str
    name: str
    type: str
    email: str | None
    phone: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    country: str
    region: str | None
    language: str
    tags: list[str]
    vulnerable: bool
    opted_out: list[str]
    timezone: str


class InvoiceRow(BaseModel):
    """One invoice with its dunning state, as `mahnwerk invoices --json` (docs/json.md)."""

    model_config = ConfigDict(extra="allow")
    invoice: str
    customer: str
    customer_name: str
    amount: str
    balance: str
    due_date: str
    segment: str | None
    state: str
    entered_on: str | None
    next_check_on: str | None
    paused: str | None
    held: bool
    disputed: bool
    time_barred: bool
    time_barred_since: str | None


class Instalment(Strict):
    date: date
    amount: Money


class EventIn(Strict):
    kind: Literal[events.kinds("invoice")]  # type: ignore[valid-type]  # from dsl/events.py
    on: date | None = Field(default=None, description="The day it happened (default today)")
    note: Annotated[str, Field(max_length=500, pattern=NO_CONTROL)] | None = None
    promised_date: date | None = Field(default=None, description="For promise_made: required")
    instalments: Annotated[list[Instalment], Field(max_length=120)] | None = Field(
        default=None, description="For plan_agreed: required"
    )


class CustomerEventIn(Strict):
    kind: Literal[events.kinds("customer")]  # type: ignore[valid-type]  # from dsl/events.py
    on: date | None = None


class Recorded(BaseModel):
    id: int | None = None
    invoices: list[str] = []
    detail: str


class DecisionIn(Strict):
    decision: Literal["approve", "reject"]
    comment: Annotated[str, Field(max_length=500, pattern=NO_CONTROL)] = ""


class Decided(BaseModel):
    approval: int
    decided_by: str
    detail: str


class PolicyIn(Strict):
    filename: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9_.-]{1,80}\.(mahn|ya?ml)$", examples=["standard.mahn"])
    ]
    source: Annotated[str, Field(min_length=1, max_length=500_000)]
    applies_to: Annotated[str, Field(max_length=500, pattern=NO_CONTROL)] | None = None
    priority: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    preview: bool = Field(
        default=False, description="Only say what deploying would change; store nothing"
    )


class RunIn(Strict):
    as_of: date


class TokenIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=80, pattern=NO_CONTROL)]
    role: Role
    acts_as: Annotated[str, Field(min_length=1, max_length=80, pattern=NO_CONTROL)] | None = None


class TokenCreated(BaseModel):
    id: int
    token: str = Field(description="Shown only now; mahnwerk keeps only its hash")
    role: Role
    acts_as: str


class WebhookIn(Strict):
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2000)]
    event_types: Annotated[list[str], Field(min_length=1, max_length=20)] = ["*"]


class WebhookCreated(BaseModel):
    id: int
    url: str
    event_types: list[str]
    secret: str = Field(description="whsec_… — shown only now; verifies the signatures")
