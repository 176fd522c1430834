"""The event vocabulary, declared once: each event kind's command verb, help and import names.

An event is something that happens to an invoice from outside — a dispute, a promise, a
death notice. Its kind is a member of `ir.EventKind` (the words a policy's `on …` uses);
this table adds what the people who record it see: the verb of `mahnwerk event VERB`
(for the events that need nothing but an invoice, a day and a note; payments, promises,
plans and customer events have commands of their own) and the names an events file may
use for it (`Widerspruch`, `Zahlungszusage`, …, matched like column headers: case, umlauts
and gaps do not matter). The command line (`app/cli.py`) and the events importer
(`engine/event_import.py`) are built from this table; what an event does is its handler in
`engine/step/events.py`.

A new event kind: a member of `ir.EventKind`, a row here, and — if the law or the engine
gives it an effect of its own — a handler in `engine/step/events.py`. An event that only
asks a person to act names its `task` here and needs no handler (`callback_requested`).
"""

from __future__ import annotations

from dataclasses import dataclass

from mahnwerk.dsl.ir import EventKind


@dataclass(frozen=True)
class EventSpec:
    kind: EventKind
    verb: str | None
    """`mahnwerk event VERB INVOICE [--on] [--note]`; None: a command of its own, or none."""
    help: str
    aliases: tuple[str, ...] = ()
    """Other names an events file may use (German first)."""
    task: str | None = None
    """A task for a person that recording the event creates (listed in the TUI's Today)."""
    level: str = "invoice"
    """Who records it on what: `invoice` (a person or the API, on one invoice), `customer`
    (on all of a customer's invoices at once), `payment` (its own command and endpoint),
    `engine` (the engine sees it itself)."""


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        EventKind.PAYMENT_FULL,
        None,
        "The invoice was paid in full (`event payment`).",
        level="payment",
    ),
    EventSpec(
        EventKind.PAYMENT_PARTIAL, None, "A part payment (`event payment`).", level="payment"
    ),
    EventSpec(
        EventKind.DISPUTE_OPENED,
        "dispute",
        "The customer disputes the claim (C1: escalation stops).",
        _names("dispute widerspruch bestreiten bestritten einwand"),
    ),
    EventSpec(
        EventKind.DISPUTE_RESOLVED,
        "dispute-resolved",
        "The dispute is settled; dunning resumes.",
        _names("widerspruch_erledigt widerspruch_geklaert einwand_erledigt dispute_closed"),
    ),
    EventSpec(
        EventKind.PROMISE_MADE,
        None,
        "A promise to pay by a date (`event promise`).",
        _names("promise zahlungszusage zusage zahlungsversprechen"),
    ),
    EventSpec(
        EventKind.PROMISE_BROKEN,
        "promise-broken",
        "A promise to pay was not kept.",
        _names("zusage_gebrochen zusage_nicht_eingehalten"),
    ),
    EventSpec(
        EventKind.PLAN_AGREED,
        None,
        "A payment plan was agreed (`event plan`).",
        _names("plan ratenzahlung ratenplan ratenvereinbarung"),
    ),
    EventSpec(
        EventKind.INSTALMENT_MISSED,
        "instalment-missed",
        "An instalment was missed (dunning resumes).",
        _names("rate_verpasst rate_ausgefallen"),
    ),
    EventSpec(
        EventKind.PLAN_COMPLETED,
        None,
        "Every instalment of the plan was paid (the engine sees it itself).",
        _names("plan_erfuellt raten_bezahlt"),
        level="engine",
    ),
    EventSpec(
        EventKind.INSOLVENCY,
        "insolvency",
        "Insolvency proceedings opened (everything stops).",
        _names("insolvenz insolvenzverfahren"),
        level="customer",
    ),
    EventSpec(
        EventKind.WRITE_OFF,
        "write-off",
        "Write the claim off.",
        _names("ausbuchung abschreibung write-off writeoff"),
    ),
    EventSpec(EventKind.HOLD, "hold", "Put the invoice on hold.", _names("sperre anhalten halt")),
    EventSpec(EventKind.RELEASE, "release", "Release a hold.", _names("freigabe aufheben")),
    EventSpec(
        EventKind.DEATH_NOTICE,
        "death",
        "The debtor died (C6: at least six weeks' pause).",
        _names("tod todesfall sterbefall death verstorben"),
        level="customer",
    ),
    EventSpec(
        EventKind.DELIVERY_FAILED,
        "delivery-failed",
        "A message could not be delivered.",
        _names("unzustellbar zustellung_fehlgeschlagen"),
    ),
    EventSpec(
        EventKind.COURT_ORDER_SERVED,
        "court-served",
        "The court payment order was served (C3: limitation suspended, two weeks to object).",
        _names("mahnbescheid_zugestellt zustellung_mahnbescheid"),
    ),
    EventSpec(
        EventKind.OBJECTION_FILED,
        "objection",
        "The debtor objected to the payment order (§ 694 ZPO).",
        _names("widerspruch_mahnbescheid"),
    ),
    EventSpec(
        EventKind.ENFORCEMENT_APPLIED,
        "enforcement",
        "Enforcement order applied for (§ 699 ZPO).",
        _names("vollstreckungsbescheid_beantragt"),
    ),
    EventSpec(
        EventKind.CONVERSATION,
        "conversation",
        "The customer was reached by phone or in person (D3: no call for 7 days after).",
        _names("gespraech telefonat kontakt_erreicht"),
    ),
    EventSpec(
        EventKind.CALLBACK_REQUESTED,
        "callback",
        "The customer asks to be called back (a task for the operators; --note says when).",
        _names("rueckruf rueckrufbitte rueckruf_erbeten callback"),
        task="callback",
    ),
)

BY_KIND: dict[EventKind, EventSpec] = {spec.kind: spec for spec in EVENTS}


def kinds(level: str) -> tuple[str, ...]:
    """The kinds recorded at `level` (see `EventSpec.level`), in the table's order."""
    return tuple(spec.kind.value for spec in EVENTS if spec.level == level)
