"""What a customer may do on the page, each turned into the engine's own event.

Every action is one transaction that (1) spends the form's one-use token, (2) records
the visit — link id and client address (`portal_visit`, erased after its retention,
E2) — and (3) writes through the doors the engine already has: the `inbox`, which the
next run applies like an operator's or an import's event (`dispute_opened`,
`promise_made`, `plan_agreed`), or the append-only `event` log for what is not a
dunning event (feedback, a request for an operator, a change of contact details).
The actor is always `portal` (a machine actor no person may sign as); the payload
names the link id and the visit, so the audit trail says which link acted, from where.

Nothing here trusts the form: the invoice must be one of the *link's* customer's open
invoices (`Page.invoice`), dates and counts are checked against the rules (D6: at most
two promises, within `[portal] promise_days`; instalments only within the offer the
policy made in its letters — anything beyond becomes a request for an operator, never
a plan), and free text is stored as text, trimmed and without control characters (the
page escapes it when shown).  No action can pay, credit or raise a balance.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import Connection, Engine

from mahnwerk.engine.comms import channels
from mahnwerk.engine.comms.config import Portal
from mahnwerk.engine.store import portal_actions as store
from mahnwerk.engine.store.portal_requests import add_upload
from mahnwerk.portal.guard import Refused, spend_form, visit
from mahnwerk.portal.links import Link
from mahnwerk.portal.view import MAX_PROMISES, OpenInvoice, Page

ACTOR = "portal"
TEXT_MAX = 2000
DISPUTE_REASONS = ("not_received", "wrong_amount", "already_paid", "defect", "not_ordered", "other")
FEEDBACK_REASONS = ("forgot", "cash_flow", "unclear", "not_received", "disagree", "other")
#: D7, from the channel registry; letters cannot be opted out of (the fallback channel).
OPT_OUTS = channels.opt_outs()
PLAN_FIRST_DAYS = 14  # the first instalment two weeks after the plan, then monthly
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
PHONE = re.compile(r"^\+?[0-9 ()/-]{6,24}$")


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Done:
    """What was recorded: the phrase key the page and the e-mail confirm it with."""

    key: str
    invoices: tuple[str, ...] = ()
    detail: dict[str, Any] | None = None


def clean_text(text: str | None, limit: int = TEXT_MAX) -> str:
    """Free text as stored: NFC, control characters out (newlines kept), trimmed, bounded."""
    value = unicodedata.normalize("NFC", text or "")
    value = "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    value = value.strip()
    if len(value) > limit:
        raise Refused("text_long", 422)
    return value


def _invoice(page: Page, number: str) -> OpenInvoice:
    found = page.invoice(number)
    if found is None:  # another customer's number, a closed invoice, or made up
        raise Refused("not_yours", 404)
    return found


def _begin(conn: Connection, link: Link, nonce: str, action: str, address: str | None,
           now: datetime, config: Portal, detail: str = "") -> dict[str, Any]:  # fmt: skip
    spend_form(conn, link.id, nonce, now)
    vid = visit(conn, link.id, action, address, now, config, detail)
    return {"via": "portal", "link_id": link.id, "visit_id": vid}


def _inbox(conn: Connection, inv: OpenInvoice, kind: str, on: date, now: datetime,
           payload: dict[str, Any]) -> None:  # fmt: skip
    store.add_inbox(
        conn, invoice_id=inv.facts.id, kind=kind, occurred_on=on, recorded_at=now, actor=ACTOR,
        payload=json.dumps(payload, ensure_ascii=False),
    )  # fmt: skip


def _log(conn: Connection, kind: str, on: date, now: datetime, message: str,
         payload: dict[str, Any], invoice_id: int | None = None,
         customer_id: int | None = None) -> None:  # fmt: skip
    store.add_event(
        conn, invoice_id=invoice_id, customer_id=customer_id, kind=kind, occurred_on=on,
        recorded_at=now, actor=ACTOR, message=message,
        payload=json.dumps(payload, ensure_ascii=False),
    )  # fmt: skip


def dispute(engine: Engine, page: Page, link: Link, nonce: str, number: str, reason: str,
            text: str, upload: Upload | None, address: str | None, today: date,
            now: datetime, config: Portal) -> Done:  # fmt: skip
    inv = _invoice(page, number)
    if reason not in DISPUTE_REASONS:
        raise Refused("reason_missing", 422)
    note = clean_text(text)
    if inv.disputed:
        raise Refused("already_disputed", 409)
    with engine.begin() as conn:
        payload = _begin(conn, link, nonce, "dispute", address, now, config, number)
        if upload is not None:
            payload["upload_id"] = add_upload(
                conn, link_id=link.id, invoice_id=inv.facts.id, file_name=upload.name[:200],
                content_type=upload.content_type, size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(), data=upload.data,
                created_at=now,
            )  # fmt: skip
        payload |= {"reason": reason, "note": f"{reason}: {note}" if note else reason}
        _inbox(conn, inv, "dispute_opened", today, now, payload)
    return Done("done_dispute", (number,))


def promise(engine: Engine, page: Page, link: Link, nonce: str, number: str, until: str,
            address: str | None, today: date, now: datetime, config: Portal) -> Done:  # fmt: skip
    inv = _invoice(page, number)
    try:
        day = date.fromisoformat(until)
    except ValueError:
        raise Refused("date_bad", 422) from None
    if not today < day <= today + timedelta(days=config.promise_days):
        raise Refused("date_range", 422)
    if not inv.may_promise:  # D6: at most two promises per case
        raise Refused("promises_used", 409)
    with engine.begin() as conn:
        payload = _begin(conn, link, nonce, "promise", address, now, config, number)
        payload["promised_date"] = day.isoformat()
        _inbox(conn, inv, "promise_made", today, now, payload)
    return Done("done_promise", (number,), {"day": day})


def schedule(balance: Decimal, count: int, today: date) -> list[tuple[date, Decimal]]:
    """Equal monthly instalments, the cents left over on the first; the first due
    `PLAN_FIRST_DAYS` after today."""
    share = (balance / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    first = balance - share * (count - 1)
    start = today + timedelta(days=PLAN_FIRST_DAYS)
    out = []
    for i in range(count):
        month = start.month - 1 + i
        year, month = start.year + month // 12, month % 12 + 1
        day = min(start.day, 28)
        out.append((date(year, month, day), first if i == 0 else share))
    return out


def plan(engine: Engine, page: Page, link: Link, nonce: str, number: str, count: int,
         address: str | None, today: date, now: datetime, config: Portal) -> Done:  # fmt: skip
    """Accept a plan within the offer (`plan_agreed`), or ask an operator for one beyond it."""
    inv = _invoice(page, number)
    if not 2 <= count <= 36:
        raise Refused("count_bad", 422)
    if inv.disputed or inv.plan_active:
        raise Refused("plan_not_now", 409)
    offered = inv.offers.payment_plan
    with engine.begin() as conn:
        payload = _begin(conn, link, nonce, "plan", address, now, config, number)
        if offered is None or count > offered:
            payload |= {"instalments_asked": count, "offered": offered}
            _log(conn, "task_portal_request", today, now,
                 f"the customer asks for {count} instalments (offered: {offered or 'none'})",
                 payload, invoice_id=inv.facts.id)  # fmt: skip
            return Done("done_plan_request", (number,), {"count": count})
        rates = schedule(inv.facts.balance, count, today)
        payload["instalments"] = [[d.isoformat(), str(a)] for d, a in rates]
        _inbox(conn, inv, "plan_agreed", today, now, payload)
    return Done("done_plan", (number,), {"rates": rates})


def feedback(engine: Engine, page: Page, link: Link, nonce: str, reason: str, text: str,
             number: str | None, address: str | None, today: date, now: datetime,
             config: Portal) -> Done:  # fmt: skip
    """`customer_feedback` in the log: why the customer is late, for analyse and reports."""
    if reason not in FEEDBACK_REASONS:
        raise Refused("reason_missing", 422)
    inv = _invoice(page, number) if number else None
    note = clean_text(text, 1000)
    with engine.begin() as conn:
        payload = _begin(conn, link, nonce, "feedback", address, now, config, reason)
        payload |= {"reason": reason, "text": note}
        _log(conn, "customer_feedback", today, now, f"{reason}: {note}" if note else reason,
             payload, invoice_id=inv.facts.id if inv else None,
             customer_id=page.customer.id)  # fmt: skip
    return Done("done_feedback")


def contact(engine: Engine, page: Page, link: Link, nonce: str, email: str, phone: str,
            opt_out: list[str], address: str | None, today: date, now: datetime,
            config: Portal) -> Done:  # fmt: skip
    """New e-mail address, phone number and opt-outs (D7).  The log names the fields
    changed, not their values (data minimisation; the customer row holds them)."""
    email, phone = clean_text(email, 200), clean_text(phone, 40)
    if email and not EMAIL.match(email):
        raise Refused("email_bad", 422)
    if phone and not PHONE.match(phone):
        raise Refused("phone_bad", 422)
    if any(o not in OPT_OUTS for o in opt_out):
        raise Refused("opt_out_bad", 422)
    c = page.customer
    new = {"email": email or None, "phone": phone or None,
           "opted_out": ",".join(o for o in OPT_OUTS if o in opt_out)}  # fmt: skip
    old = {"email": c.email, "phone": c.phone, "opted_out": ",".join(sorted(c.opted_out))}
    changed = [k for k in new if (new[k] or "") != (old[k] or "")]
    with engine.begin() as conn:
        payload = _begin(conn, link, nonce, "contact", address, now, config, ",".join(changed))
        if changed:
            store.change_customer(conn, c.id, {k: new[k] for k in changed})
            _log(conn, "contact_changed", today, now,
                 f"the customer changed {', '.join(changed)} in the portal",
                 payload | {"fields": changed}, customer_id=c.id)  # fmt: skip
    return Done("done_contact", (), {"changed": changed})


__all__ = ["DISPUTE_REASONS", "FEEDBACK_REASONS", "MAX_PROMISES", "OPT_OUTS"]
