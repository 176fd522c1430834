"""Which queued messages go out, how, and together with which (dispatch's first step).

`plan` reads the due outbox rows and decides for each, before anything is sent:
cancel it (the invoice moved on, is disputed, held or paused, or an event in the
inbox stops it), send it on another channel (D7: opted out; C6: deceased — the
channel's `fallback`, a letter), and which rows travel together in one message
(D3: one customer, channel, template, language, tone and set of announced steps).
Each bundle gets a Message-ID derived from its rows' idempotency keys, the same
on every attempt.  See `dispatch.py` for what happens to a bundle next.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from email.utils import parseaddr
from typing import Any

from sqlalchemy.engine import Connection

from mahnwerk.dsl import ir
from mahnwerk.dsl.statute import BERLIN
from mahnwerk.engine.comms import channels as registry
from mahnwerk.engine.comms.config import Settings
from mahnwerk.engine.comms.context import (
    CustomerFacts,
    InvoiceFacts,
    cost_words,
    load_customers,
    load_invoices,
)
from mahnwerk.engine.comms.templates import Rendered, TemplateStore
from mahnwerk.engine.residual import PARKED
from mahnwerk.engine.store import messages

#: Inbox events that make a queued message wrong before the next run applies them.
STOPPING_EVENTS = frozenset({"dispute_opened", "hold", "insolvency", "death_notice", "write_off"})


@dataclass
class Bundle:
    """One message to deliver: the outbox rows it carries and how it goes out."""

    rows: list[Any]
    customer: CustomerFacts
    invoices: list[InvoiceFacts]
    channel: str  # the channel used (a letter after a D7/C6 fallback)
    template: str
    language: str
    tone: str | None
    note: str | None = None  # why the channel differs from the rows'
    rendered: Rendered | None = None
    ctx: dict[str, Any] | None = None
    pdf: bytes | None = None  # the letter, drawn with the others of its chunk
    message_id: str = ""
    delivery_id: int | None = None

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.rows]


@dataclass
class Plan:
    bundles: list[Bundle]
    cancel: list[tuple[Any, str]]  # (row, reason)
    due: int


def local_day(now: datetime) -> date:
    return now.astimezone(BERLIN).date()


def message_id_for(keys: Iterable[str], domain: str = "mahnwerk.invalid") -> str:
    """The same Message-ID for the same rows on every attempt (RFC 5322 msg-id)."""
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _domain(settings: Settings) -> str:
    if settings.smtp and "@" in parseaddr(settings.smtp.sender)[1]:
        return parseaddr(settings.smtp.sender)[1].rsplit("@", 1)[1]
    return "mahnwerk.invalid"


def _channel_for(
    row: Any, customer: CustomerFacts, store: TemplateStore
) -> tuple[str, str | None, str | None]:
    """(channel, note, reason to cancel): D7/C6 send a row on its channel's fallback."""
    if row.channel not in registry.REGISTRY:
        return row.channel, None, f"unknown channel {row.channel!r}"
    chosen = registry.get(row.channel)
    if chosen.fallback is None:
        return row.channel, None, None
    if row.channel in customer.opted_out:
        note = f"D7: the customer opted out of {row.channel}"
    elif customer.deceased_since is not None:
        note = "C6: the customer died; letters go to the heirs"
    else:
        return row.channel, None, None
    fallback = registry.get(chosen.fallback)
    if fallback.name in customer.opted_out:
        return fallback.name, note, f"{note}, and of letters too"
    if not store.has(row.template, row.language, fallback.templates, row.tone):
        return fallback.name, note, f"{note}; no letter template {row.template!r} to fall back to"
    return fallback.name, note, None


def _group_key(row: Any, channel: str, settings: Settings) -> tuple:
    """D3: rows with the same key travel as one message.  D9/C2: one letter announces
    one set of steps, so only rows announcing the same steps share a letter (the engine
    recorded each invoice's notice by its own row)."""
    announced = tuple(sorted(json.loads(row.payload or "{}").get("announces", [])))
    key = (row.customer_id, channel, row.template, row.language, row.tone, announced)
    return key if settings.delivery.bundle else (*key, row.id)


def plan(
    conn: Connection,
    settings: Settings,
    store: TemplateStore,
    now: datetime,
    limit: int | None = None,
    channels: Iterable[str] | None = None,
    queued_since: datetime | None = None,
) -> Plan:
    """Read the due rows and decide for each: cancel, fall back, bundle."""
    rows = messages.due_rows(conn, now, limit, channels, queued_since)
    today = local_day(now)
    customers = load_customers(conn, {r.customer_id for r in rows})
    invoice_ids = {r.invoice_id for r in rows if r.invoice_id is not None}
    stopping = _stopping_events(conn, invoice_ids, today)
    facts_by_lang: dict[str, dict[int, InvoiceFacts]] = {}
    for lang in {r.language for r in rows}:
        ids = {r.invoice_id for r in rows if r.language == lang and r.invoice_id is not None}
        facts_by_lang[lang] = load_invoices(conn, ids, lang)
    cancel: list[tuple[Any, str]] = []
    groups: dict[tuple, list[Any]] = defaultdict(list)
    notes: dict[int, str] = {}
    for row in rows:
        customer = customers[row.customer_id]
        inv = facts_by_lang[row.language].get(row.invoice_id) if row.invoice_id else None
        channel, note, reason = None, None, _stale_reason(row, inv, stopping, today)
        if reason is None:
            channel, note, reason = _channel_for(row, customer, store)
        if reason:
            cancel.append((row, reason))
            continue
        if note is not None:
            notes[row.id] = note
        groups[_group_key(row, channel, settings)].append(row)
    bundles = _bundles(groups, customers, facts_by_lang, notes, _domain(settings))
    add_residuals(conn, bundles, today)
    return Plan(bundles, cancel, len(rows))


def _bundles(
    groups: dict[tuple, list[Any]],
    customers: dict[int, CustomerFacts],
    facts_by_lang: dict[str, dict[int, InvoiceFacts]],
    notes: dict[int, str],
    domain: str,
) -> list[Bundle]:
    out = []
    for (customer_id, channel, template, language, tone, *_), members in groups.items():
        invoices = [
            facts_by_lang[language][r.invoice_id] for r in members if r.invoice_id is not None
        ]
        note = next((notes[r.id] for r in members if r.id in notes), None)
        bundle = Bundle(
            members, customers[customer_id], invoices, channel, template, language, tone, note
        )
        bundle.message_id = message_id_for((r.idempotency_key for r in members), domain)
        out.append(bundle)
    return out


def add_residuals(conn: Connection, bundles: list[Bundle], today: date) -> None:
    """Issue 11: a residual the policy asks for `in next letter` rides along, once per
    dispatch, in the customer's first written message (a letter or an e-mail) — listed
    with its amount and in the total and payment reference — until it is paid.  The
    engine parked its invoice (`residual.PARKED`), so it has no message of its own and
    never escalates."""
    first: dict[int, Bundle] = {}
    carriers = registry.written()
    for bundle in bundles:
        if bundle.channel in carriers:
            first.setdefault(bundle.customer.id, bundle)
    if not first:
        return
    parked: dict[int, list[int]] = defaultdict(list)
    for customer_id, invoice_id in messages.paused_invoices(conn, set(first), PARKED):
        parked[customer_id].append(invoice_id)
    for customer_id, ids in parked.items():
        bundle = first[customer_id]
        carried = {i.id for i in bundle.invoices}
        facts = load_invoices(conn, set(ids) - carried, bundle.language)
        riders = [_earlier(facts[i], today, bundle.language) for i in ids if i in facts]
        bundle.invoices.extend(riders)


def _earlier(invoice: InvoiceFacts, today: date, language: str) -> InvoiceFacts:
    """A residual's costs were charged with earlier letters, and the letter says so."""
    costs = tuple(
        replace(c, label=label, reason=reason)
        for c in invoice.costs
        for label, reason in [cost_words(c.kind, c.booked_on, today, language)]
    )
    return replace(invoice, costs=costs)


def _stopping_events(conn: Connection, ids: set[int], today: date) -> dict[int, str]:
    return messages.waiting_events(conn, ids, STOPPING_EVENTS, today)


def _stale_reason(
    row: Any, inv: InvoiceFacts | None, stopping: dict[int, str], today: date
) -> str | None:
    if row.invoice_id is None:
        return None
    if inv is None:
        return "the invoice no longer exists"
    if row.invoice_id in stopping:
        return f"a {stopping[row.invoice_id]} event arrived after the message was queued"
    payload = json.loads(row.payload or "{}")
    state = payload.get("state")
    before_due = payload.get("before_due")
    if before_due and today > date.fromisoformat(before_due):
        return f"a note before the due date {before_due}: its purpose expired, never sent late"
    if payload.get("completes") and inv.state == payload["completes"]:
        # the letter of a step that ended in this state the same day (the handover letter)
        return inv.blocked(today)
    if inv.state in ir.TERMINAL_NAMES and inv.state != state:
        return f"the invoice is {inv.state} now"
    if state and inv.state != state:
        return f"the invoice moved on from {state} to {inv.state}"
    return inv.blocked(today)
