"""Every operator action, as the event the engine already knows, for one or several invoices.

One table (`FORMS`) says for each action which event it records, which fields its
form asks for and what it tells the operator; the invoice screen, the customer
screen and the Today screen's call outcomes all record through `record_action`,
so a promise taken on the phone and a promise typed on the invoice are the same
inbox entry.  Dates are read by `dates.parse_day` (`20.04.2026`, `20.4.`, `+14`,
ISO).  Until a run applies it, every entry can be withdrawn (`undo`); the
withdrawal is written into the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.markup import escape

from mahnwerk.engine.operator_events import (
    AlreadyDecided,
    OperatorError,
    record_for_invoices,
    withdraw,
    write_off,
)
from mahnwerk.engine.store.invoices import NotFound
from mahnwerk.engine.store.screens import FilterError, parse_amount
from mahnwerk.tui.base import BookScreen, money
from mahnwerk.tui.dates import FORMS as DATE_FORMS
from mahnwerk.tui.dates import DateError, parse_day
from mahnwerk.tui.dialogs import ConfirmDialog, Field, FormDialog, PickDialog


@dataclass(frozen=True)
class EventForm:
    kind: str  # the inbox event
    title: str
    fields: tuple[tuple[str, str, str, str], ...]  # name, label, check, placeholder
    on_label: str
    explain: str
    several: bool = True  # may cover several invoices of a customer at once


_NOTE = ("note", "Note (optional)", "text", "what was said or agreed")
FORMS: dict[str, EventForm] = {
    "payment": EventForm("payment_partial", "Payment", (
        ("amount", "Amount (EUR)", "amount", "e.g. 119,00"),), "Received on",
        "The next run allocates it to costs, interest and principal (§ 367 BGB).", False),
    "promise": EventForm("promise_made", "Promise to pay", (
        ("until", "Promised payment date", "date", DATE_FORMS),
        ("amount", "Promised amount (EUR, optional)", "amount?", "e.g. 500,00"), _NOTE),
        "Promised on", "Dunning pauses until the promised date."),
    "broken": EventForm("promise_broken", "Promise broken", (_NOTE,), "Noticed on",
                        "Dunning goes on as the policy says."),
    "dispute": EventForm("dispute_opened", "Dispute", (
        ("note", "What the customer disputes", "required", "e.g. goods damaged"),),
        "Disputed on", "Escalation stops while the claim is disputed."),
    "resolved": EventForm("dispute_resolved", "Dispute resolved", (
        ("note", "How it was resolved", "required", "e.g. credit note issued"),),
        "Resolved on", "Dunning goes on from that day, nothing back-dated."),
    "plan": EventForm("plan_agreed", "Payment plan", (
        ("schedule", "Instalments: date=amount; …", "schedule", "20.4.=100; 20.5.=100"),
        _NOTE), "Agreed on", "Dunning pauses while the instalments come in."),
    "conversation": EventForm("conversation", "Conversation", (_NOTE,), "Spoke on",
                              "No call for seven days after a conversation (D3)."),
    "hold": EventForm("hold", "Hold", (
        ("note", "Why", "required", "e.g. check with sales"),), "From",
        "Nothing goes out until the hold is released."),
    "release": EventForm("release", "Release", (_NOTE,), "From",
                         "Dunning goes on from that day, nothing back-dated."),
    "note": EventForm("note", "Note", (
        ("note", "Note", "required", "free text for the file"),), "On",
        "Written into the invoice's story; changes nothing the engine decides."),
    "no_answer": EventForm("note", "Call: no answer", (_NOTE,), "Called on",
                           "The call stays done for today; the note goes into the story."),
    "wrong_number": EventForm("delivery_failed", "Call: wrong number", (_NOTE,), "Called on",
                              "Recorded as a failed delivery on the phone channel."),
}  # fmt: skip


def _check(form: EventForm, today: Any):
    def validate(values: dict[str, str]) -> tuple[str, str] | None:
        for name, _label, check, _ph in form.fields:
            value = values[name].strip()
            try:
                if check == "date":
                    parse_day(value, today, name)
                elif check == "amount" or (check == "amount?" and value):
                    if parse_amount(value, name) <= 0:
                        return name, f"{name}: the amount must be positive"
                elif check == "required" and not value:
                    return name, f"{name}: please write something (it goes into the audit log)"
                elif check == "schedule":
                    _schedule(value, today)
            except (DateError, FilterError, OperatorError) as exc:
                return name, str(exc)
        try:
            parse_day(values["on"], today, "on")
        except DateError as exc:
            return "on", str(exc)
        return None

    return validate


def _schedule(text: str, today: Any) -> list[list[str]]:
    out = []
    for part in [p for p in text.split(";") if p.strip()]:
        day, sep, amount = part.partition("=")
        if not sep:
            raise OperatorError(f"instalment {part.strip()!r}: write date=amount, e.g. 20.4.=100")
        out.append([parse_day(day, today, "instalment").isoformat(),
                    str(parse_amount(amount, "instalment").quantize(Decimal("0.01")))])  # fmt: skip
    if not out:
        raise OperatorError("no instalments: write e.g. 20.4.=100; 20.5.=100")
    return out


def payload_of(form: EventForm, values: dict[str, str], today: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name, _label, check, _ph in form.fields:
        value = values[name].strip()
        if not value:
            continue
        if check == "date":
            payload["promised_date"] = parse_day(value, today).isoformat()
        elif check == "amount":
            payload["amount"] = str(parse_amount(value, name).quantize(Decimal("0.01")))
        elif check == "amount?":
            payload["promised_amount"] = str(parse_amount(value, name).quantize(Decimal("0.01")))
        elif check == "schedule":
            payload["instalments"] = _schedule(value, today)
        else:
            payload["note"] = value
    return payload


async def record_action(screen: BookScreen, action: str, invoices: list[str], detail: str = "",
                        **defaults: str) -> bool:  # fmt: skip
    """Ask for the action's fields and record it for `invoices`; True when recorded."""
    form = FORMS[action]
    if len(invoices) > 1 and not form.several:
        screen.notify(f"{form.title} is for one invoice at a time.", severity="warning")
        return False
    ctx = screen.ctx
    fields = [Field(n, label, defaults.get(n, ""), ph) for n, label, _c, ph in form.fields]
    fields.append(Field("on", form.on_label, ctx.today.strftime("%d.%m.%Y"), DATE_FORMS))
    which = ", ".join(invoices[:6]) + (
        f" and {len(invoices) - 6} more" if len(invoices) > 6 else ""
    )
    values = await screen.ask(
        FormDialog(f"{form.title}: {which}", fields, _check(form, ctx.today),
                   detail=(detail + "\n" if detail else "") + form.explain)
    )  # fmt: skip
    if values is None:
        return False
    try:
        on = parse_day(values["on"], ctx.today)
        payload = payload_of(form, values, ctx.today)
        record_for_invoices(ctx.engine, invoices, form.kind, on, ctx.operator, ctx.now(), payload)
    except (NotFound, OperatorError) as exc:
        screen.notify(escape(str(exc)), severity="error", timeout=8)
        return False
    screen.notify(f"{form.title} recorded for {which}; the next run applies it (u: undo)")
    screen.reload()
    return True


async def record_write_off(screen: BookScreen, invoice: str, balance: Decimal) -> None:
    ctx = screen.ctx
    second = balance > ctx.four_eyes_above
    values = await screen.ask(
        FormDialog(f"Write off {invoice} ({money(balance)} EUR)",
                   [Field("reason", "Reason (audit log)", "", "e.g. customer untraceable")],
                   lambda v: None if v["reason"].strip() else ("reason", "a reason is needed"),
                   detail=("Above " + money(ctx.four_eyes_above) + " EUR: a second person "
                           "confirms it (Today screen)." if second else
                           "The next run books the balance off and closes the invoice."))
    )  # fmt: skip
    if values is None:
        return
    if not await screen.ask(ConfirmDialog(f"Write off {invoice}?", values["reason"], final=False)):
        return
    try:
        said = write_off(ctx.engine, invoice, balance, values["reason"], ctx.operator, ctx.now(),
                         ctx.today, ctx.four_eyes_above)  # fmt: skip
    except (NotFound, OperatorError) as exc:
        screen.notify(escape(str(exc)), severity="error", timeout=8)
        return
    screen.notify(said)
    screen.reload()


async def undo(screen: BookScreen, waiting: list[dict[str, Any]]) -> None:
    """Withdraw one of the entries no run has applied yet (chosen from a list if several)."""
    if not waiting:
        screen.notify("Nothing to undo: every recorded event has been applied by a run.")
        return
    options = [
        (str(w["id"]), f"{w.get('invoice', '')} {w['kind']} {w['date']} by {w['actor']}: "
                       + ", ".join(f"{k} {v}" for k, v in w["payload"].items())[:60])
        for w in reversed(waiting)
    ]  # fmt: skip
    chosen = await screen.ask(
        PickDialog(
            "Withdraw which recorded event?",
            options,
            "It is not applied yet; the audit log keeps the undo.",
        )
    )
    if chosen is None:
        return
    try:
        said = withdraw(screen.ctx.engine, int(chosen), screen.ctx.operator, screen.ctx.now(),
                        screen.ctx.today)  # fmt: skip
    except (AlreadyDecided, OperatorError, NotFound) as exc:
        screen.notify(escape(str(exc)), severity="error", timeout=10)
        screen.reload()
        return
    screen.notify(said)
    screen.reload()
