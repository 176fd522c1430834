"""`mahnwerk dispatch`: deliver what the engine queued, each message exactly once.

The engine only queues rows in the `outbox`; this module delivers them.  One
dispatch takes every row that is `queued` and due (`not_before <= now` — D2:
the runner puts quiet hours, Sundays and holidays into `not_before`, and
dispatch never sends earlier), decides per row, bundles, renders, sends and
records.

Decisions per row, before anything is sent:

* the invoice moved on since the row was queued (paid, another level, handed
  over), is disputed, held or paused, or an event waiting in the inbox stops
  it (dispute, hold, insolvency, death notice, write-off) → `cancelled`, with
  the reason in `last_error`;
* D7: the customer opted out of the channel (`customer.opted_out`, e.g.
  `email,sms`) → sent as a letter if a letter template of that name exists,
  else `cancelled`; C6: for a deceased customer, e-mail and SMS become a
  letter to the heirs as well;
* D3: rows of one customer, channel, template, language and tone go into ONE
  message listing all their invoices (a bundle); each row is still marked
  sent exactly once.

At least once, never lost.  Each bundle has a Message-ID derived from its
rows' idempotency keys (the same on every attempt), and moves through two
short transactions around the transport:

1. *claim*: the rows go `queued → sending` (only if still queued, so two
   dispatchers never take the same row) and a `delivery` row is written with
   status `transmitting`;
2. *record*: only after the other side has taken the message — the SMTP
   server's 250 reply to the final ".", the SMS provider's 2xx answer, the
   letter's PDF inside a print batch written to disk — `sent` (or a retry, or
   a permanent failure) for the delivery and its rows, with an audit event
   per row.

A crash between the two leaves a delivery `transmitting`.  The next dispatch
reconciles deliveries older than the lease (`[delivery] lease_seconds`, so a
dispatcher still at work is left alone): they are abandoned and their rows
queued again, and the message goes out again with the same Message-ID (SMS:
the same `Idempotency-Key` header; letters: the same PDF file name).  So a
crash can cause one duplicate, recognisable by its id, but never a message
the books call sent that the server did not accept — the next letter, the
fee and the default by reminder rest on that record.  (Deliveries that an
older version left `committed` are treated the same way.)

One bad message never stops the others: a bundle whose message cannot be
built (a name with a line break in a mail header, a PDF the writer cannot
lay out) or rendered fails alone, with its reason, and the rest go out.

Failures: a temporary one (SMTP 4xx, HTTP 5xx/429, timeouts) queues the rows
again with `not_before` pushed back (backoff doubling from
`[delivery] backoff_seconds`); after `max_attempts`, or at once for a
permanent one (SMTP 5xx bounce, a rejected number, no address at all), the
rows are `failed` and each invoice gets an inbox entry `delivery_failed` with
the channel — the next run lets the policy react (e.g. send a letter).

Bounces that arrive later by mail (delivery status notifications) are read
from `[bounces]` (a Maildir or an IMAP mailbox) at the start of each dispatch
and handled like a permanent failure: see `bounces.py`.

`dry_run=True` changes nothing in the database: it writes what would go out
now as `.eml`, `.pdf`, `.sms.txt` and `.call.txt` files into a folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from mahnwerk.dsl import ir
from mahnwerk.engine.audit import seal
from mahnwerk.engine.comms import girocode
from mahnwerk.engine.comms.config import ConfigError, Settings
from mahnwerk.engine.comms.context import (
    CustomerFacts,
    InvoiceFacts,
    build_context,
    cost_words,
    load_customers,
    load_invoices,
)
from mahnwerk.engine.comms.mail import SendError, SmtpTransport, TransportDown, build_email
from mahnwerk.engine.comms.pdf import (
    Letter,
    letters_pdf,
    letters_pdf_each,
    print_batch,
    write_atomically,
)
from mahnwerk.engine.comms.sms import SmsWebhook
from mahnwerk.engine.comms.templates import Rendered, TemplateError, TemplateStore
from mahnwerk.engine.models import DELIVERY, DELIVERY_ITEM, DS, EVENT, INBOX, INV, OUTBOX
from mahnwerk.engine.residual import PARKED

BERLIN = ZoneInfo("Europe/Berlin")
_CHUNK = 500
#: Inbox events that make a queued message wrong before the next run applies them.
STOPPING_EVENTS = frozenset({"dispute_opened", "hold", "insolvency", "death_notice", "write_off"})
SENDABLE = ("email", "letter", "sms", "call")
#: Bundles rendered (and letters drawn into one PDF, then split) at a time.
PDF_CHUNK = 200


@dataclass
class DispatchStats:
    """What one dispatch did; `messages` counts deliveries, `rows` outbox rows."""

    due: int = 0
    rows_sent: int = 0
    messages: Counter = field(default_factory=Counter)  # per channel
    bundled_rows: int = 0  # rows that travelled together with another row
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    fallbacks: int = 0  # D7/C6: sent as a letter instead
    reconciled_requeued: int = 0
    bounced: int = 0  # rows sent earlier that a bounce report (DSN) now marked failed
    files: list[Path] = field(default_factory=list)
    batch: Path | None = None
    errors: list[str] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "rows_sent": self.rows_sent,
            "messages": dict(self.messages),
            "bundled_rows": self.bundled_rows,
            "retried": self.retried,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "fallbacks": self.fallbacks,
            "reconciled_requeued": self.reconciled_requeued,
            "bounced": self.bounced,
            "files": [str(p) for p in self.files],
            "print_batch": str(self.batch) if self.batch else None,
            "errors": self.errors,
            "reasons": dict(self.reasons),
        }


@dataclass
class Hooks:
    """Fault injection for the crash tests: called at the named moments of a delivery."""

    after_claim: Callable[[Bundle], None] | None = None
    after_transmit: Callable[[Bundle], None] | None = None  # sent, not yet recorded


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


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


# ---------------------------------------------------------------------------
# Reconciliation after a crash
# ---------------------------------------------------------------------------


@dataclass
class Reconciled:
    requeued: int = 0  # outbox rows queued again


def reconcile(engine: Engine, now: datetime, lease_seconds: int) -> Reconciled:
    """Queue again what a crashed dispatcher left unrecorded (see the module docstring)."""
    cutoff = now - timedelta(seconds=lease_seconds)
    out = Reconciled()
    with engine.begin() as conn:
        stale = conn.execute(
            select(DELIVERY.c.id)
            .where(
                DELIVERY.c.status.in_(("transmitting", "committed")),
                DELIVERY.c.started_at <= cutoff,
            )
            .order_by(DELIVERY.c.id)
        ).all()
        for d in stale:
            ids = [
                r.outbox_id
                for r in conn.execute(
                    select(DELIVERY_ITEM.c.outbox_id).where(DELIVERY_ITEM.c.delivery_id == d.id)
                )
            ]
            conn.execute(
                update(DELIVERY)
                .where(DELIVERY.c.id == d.id)
                .values(
                    status="abandoned",
                    finished_at=now,
                    error="the dispatcher stopped before it recorded the outcome: queued again, "
                    "to go out again with the same Message-ID",
                )
            )
            res = conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending")
                .values(status="queued")
            )
            out.requeued += res.rowcount or 0
    return out


def _rows(conn: Connection, ids: list[int]) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(ids):
        out.extend(conn.execute(select(OUTBOX).where(OUTBOX.c.id.in_(chunk))).all())
    return out


def log_rows(
    conn: Connection,
    rows: list[Any],
    kind: str,
    now: datetime,
    message: str,
    payload: dict[str, Any] | None = None,
) -> None:
    if not rows:
        return
    conn.execute(
        insert(EVENT),
        [
            {
                "invoice_id": r.invoice_id,
                "customer_id": r.customer_id,
                "kind": kind,
                "occurred_on": local_day(now),
                "recorded_at": now,
                "actor": "dispatch",
                "rule": r.rule,
                "state_from": None,
                "state_to": None,
                "message": message,
                "payload": json.dumps(payload or {"outbox_id": r.id}),
                "run_id": None,
            }
            for r in rows
        ],
    )


def delivery_failed_inbox(
    conn: Connection,
    rows: list[Any],
    channel: str,
    template: str,
    error: str,
    today: date,
    now: datetime,
) -> None:
    """A `delivery_failed` inbox event per invoice: the next run lets the policy react."""
    inbox = [
        {
            "invoice_id": r.invoice_id,
            "kind": "delivery_failed",
            "occurred_on": today,
            "payload": json.dumps(
                {
                    "channel": channel,
                    "template": template,
                    "outbox_id": r.id,
                    "reason": error,
                    "note": f"{channel} {template}: {error}",
                }
            ),
            "recorded_at": now,
            "actor": "dispatch",
        }
        for r in rows
        if r.invoice_id is not None
    ]
    if inbox:
        conn.execute(insert(INBOX), inbox)


# ---------------------------------------------------------------------------
# Planning: which rows go out, how, and together with which
# ---------------------------------------------------------------------------


@dataclass
class Plan:
    bundles: list[Bundle]
    cancel: list[tuple[Any, str]]  # (row, reason)
    due: int


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
    query = (
        select(OUTBOX)
        .where(OUTBOX.c.status == "queued", OUTBOX.c.not_before <= now)
        .order_by(OUTBOX.c.customer_id, OUTBOX.c.id)
    )
    if queued_since is not None:
        query = query.where(OUTBOX.c.created_at >= queued_since)
    if channels:
        query = query.where(OUTBOX.c.channel.in_(list(channels)))
    if limit:
        query = query.limit(limit)
    rows = conn.execute(query).all()
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
        reason = _stale_reason(row, inv, stopping, today)
        if reason:
            cancel.append((row, reason))
            continue
        channel, note = row.channel, None
        if channel not in SENDABLE:
            cancel.append((row, f"unknown channel {channel!r}"))
            continue
        if channel in customer.opted_out and channel != "letter":
            channel, note = "letter", f"D7: the customer opted out of {row.channel}"
        elif customer.deceased_since is not None and channel in ("email", "sms", "call"):
            channel, note = "letter", "C6: the customer died; letters go to the heirs"
        if note is not None:
            if "letter" in customer.opted_out:
                cancel.append((row, f"{note}, and of letters too"))
                continue
            if not store.has(row.template, row.language, "letter", row.tone):
                cancel.append((row, f"{note}; no letter template {row.template!r} to fall back to"))
                continue
            notes[row.id] = note
        key: tuple = (row.customer_id, channel, row.template, row.language, row.tone)
        # D9/C2: one letter announces one set of steps, so only rows announcing the same
        # steps share a letter (the engine recorded each invoice's notice by its own row).
        announced = tuple(sorted(json.loads(row.payload or "{}").get("announces", [])))
        key = (*key[:5], announced)
        if not settings.delivery.bundle:
            key = (*key, row.id)
        groups[key].append(row)
    bundles = []
    domain = _domain(settings)
    for (customer_id, channel, template, language, tone, *_), members in groups.items():
        invoices = [
            facts_by_lang[language][r.invoice_id] for r in members if r.invoice_id is not None
        ]
        note = next((notes[r.id] for r in members if r.id in notes), None)
        bundle = Bundle(
            members, customers[customer_id], invoices, channel, template, language, tone, note
        )
        bundle.message_id = message_id_for((r.idempotency_key for r in members), domain)
        bundles.append(bundle)
    add_residuals(conn, bundles, today)
    return Plan(bundles, cancel, len(rows))


#: Messages that carry a customer's parked residuals: the regular written ones.
_RESIDUAL_CHANNELS = ("letter", "email")


def add_residuals(conn: Connection, bundles: list[Bundle], today: date) -> None:
    """Issue 11: a residual the policy asks for `in next letter` rides along, once per
    dispatch, in the customer's first letter or e-mail — listed with its amount and in the
    total and payment reference — until it is paid.  The engine parked its invoice
    (`residual.PARKED`), so it has no message of its own and never escalates."""
    first: dict[int, Bundle] = {}
    for bundle in bundles:
        if bundle.channel in _RESIDUAL_CHANNELS:
            first.setdefault(bundle.customer.id, bundle)
    if not first:
        return
    parked: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(sorted(first)):
        query = (
            select(INV.c.customer_id, INV.c.id)
            .join(DS, DS.c.invoice_id == INV.c.id)
            .where(INV.c.customer_id.in_(chunk), DS.c.pause_reason == PARKED)
            .order_by(INV.c.id)
        )
        for customer_id, invoice_id in conn.execute(query):
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
    out: dict[int, str] = {}
    for chunk in _chunks(sorted(ids)):
        for r in conn.execute(
            select(INBOX.c.invoice_id, INBOX.c.kind).where(
                INBOX.c.invoice_id.in_(chunk),
                INBOX.c.applied_run_id.is_(None),
                INBOX.c.kind.in_(sorted(STOPPING_EVENTS)),
                INBOX.c.occurred_on <= today,
            )
        ):
            out[r.invoice_id] = r.kind
    return out


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


# ---------------------------------------------------------------------------
# Delivery
# ---------------------------------------------------------------------------


class Dispatcher:
    """One dispatch: transports opened on first use and closed at the end."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        now: datetime,
        store: TemplateStore | None = None,
        dry_run: bool = False,
        out: Path | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.engine, self.settings, self.now = engine, settings, now
        self.store = store or TemplateStore(
            [Path(settings.delivery.templates)] if settings.delivery.templates else None
        )
        self.dry_run = dry_run
        self.out = Path(out) if out else None
        self.hooks = hooks or Hooks()
        self.dated_as_queued = False
        self.stats = DispatchStats()
        self._smtp: SmtpTransport | None = None
        self._sms: SmsWebhook | None = None
        self._down: dict[str, str] = {}
        self._letters: list[Path] = []  # PDFs for this dispatch's print batch
        self._printed: list[tuple[Bundle, str]] = []  # letters recorded once the batch exists
        self.today = local_day(now)
        stamp = now.astimezone(BERLIN).strftime("%Y-%m-%d")
        if dry_run:
            if self.out is None:
                raise ValueError("a dry run needs a folder to write into (--out)")
            self.folder = self.out
        else:
            self.folder = Path(settings.delivery.letters_folder) / stamp

    # -- the whole dispatch --------------------------------------------------

    def run(
        self,
        limit: int | None = None,
        channels: Iterable[str] | None = None,
        queued_since: datetime | None = None,
    ) -> DispatchStats:
        stats = self.stats
        if not self.dry_run:
            settled = reconcile(self.engine, self.now, self.settings.delivery.lease_seconds)
            stats.reconciled_requeued = settled.requeued
            if self.settings.bounces is not None:
                from mahnwerk.engine.comms.bounces import read_bounces

                bounced = read_bounces(self.engine, self.settings.bounces, self.now)
                stats.bounced = bounced.failed
        with self.engine.connect() as conn:
            the_plan = plan(
                conn, self.settings, self.store, self.now, limit, channels, queued_since
            )
        stats.due = the_plan.due
        if the_plan.cancel:
            stats.cancelled += len(the_plan.cancel)
            for _, reason in the_plan.cancel:
                stats.reasons[reason.split(";")[0]] += 1
            if not self.dry_run:
                self._cancel(the_plan.cancel)
        try:
            bundles = the_plan.bundles
            for k in range(0, len(bundles), PDF_CHUNK):
                self._deliver_chunk(bundles[k : k + PDF_CHUNK])
        finally:
            if self._smtp:
                self._smtp.close()
            if self._sms:
                self._sms.close()
        if self._letters:
            name = f"print-batch-{self.now.astimezone(BERLIN).strftime('%Y%m%d-%H%M%S')}.pdf"
            path = self.folder / name
            write_atomically(path, print_batch(self._letters))
            stats.batch = path
        for bundle, result in self._printed:  # a letter is sent once its batch is on disk
            self._record_sent(bundle, f"{result} (in {stats.batch})")
        if not self.dry_run:
            seal(self.engine)  # the hash chain over this dispatch's log entries
        return stats

    def _cancel(self, items: list[tuple[Any, str]]) -> None:
        with self.engine.begin() as conn:
            for row, reason in items:
                res = conn.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id == row.id, OUTBOX.c.status == "queued")
                    .values(status="cancelled", last_error=reason)
                )
                if res.rowcount:
                    log_rows(
                        conn,
                        [row],
                        "message_cancelled",
                        self.now,
                        f"{row.channel} {row.template} not sent: {reason}",
                    )

    # -- one bundle ----------------------------------------------------------

    def _deliver_chunk(self, bundles: list[Bundle]) -> None:
        """Render a chunk, draw its letters in one go, then deliver one by one."""
        ready = []
        for bundle in bundles:
            if bundle.channel in self._down:
                continue  # the channel is unavailable in this dispatch; the rows stay queued
            try:
                bundle.rendered = self._render(bundle)
            except TemplateError as exc:
                self.stats.errors.append(f"{exc} (rows {bundle.ids} stay queued)")
                continue
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the others
                self.stats.errors.append(
                    f"customer {bundle.customer.number}: {bundle.template} cannot be rendered "
                    f"({type(exc).__name__}: {exc}); rows {bundle.ids} stay queued"
                )
                continue
            ready.append(bundle)
        letters = [b for b in ready if b.channel == "letter"]
        try:
            pdfs = letters_pdf_each([self._letter_obj(b) for b in letters])
        except Exception:  # one letter's HTML the PDF writer cannot lay out: find it below
            pdfs = [None] * len(letters)
        for bundle, data in zip(letters, pdfs, strict=True):
            bundle.pdf = data
        for bundle in ready:
            if bundle.channel == "letter" and bundle.pdf is None:
                try:
                    letter = self._letter_obj(bundle)
                    bundle.pdf = letters_pdf([letter], title=letter.subject)
                except Exception as exc:
                    self.stats.errors.append(
                        f"{bundle.template}: the letter cannot be laid out as PDF ({exc}); "
                        f"rows {bundle.ids} stay queued"
                    )
                    continue
            try:
                self._deliver(bundle)
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
                self._isolate(bundle, exc)

    def _isolate(self, bundle: Bundle, exc: Exception) -> None:
        """A message that cannot be built fails alone, with its reason; the rest go out."""
        reason = f"the message cannot be built: {type(exc).__name__}: {exc}"
        who = f"customer {bundle.customer.number}, {bundle.channel} {bundle.template}"
        if self.dry_run or bundle.delivery_id is None:
            self.stats.errors.append(f"{who}: {reason} (rows {bundle.ids} not sent)")
            return
        self.stats.errors.append(f"{who}: {reason} (rows {bundle.ids} failed)")
        self._record_failure(bundle, reason, permanent=True)

    def _deliver(self, bundle: Bundle) -> None:
        stats = self.stats
        if bundle.channel in self._down:
            return
        recipient, problem = self._recipient(bundle)
        if self.dry_run:
            self._write_dry(bundle)
            return
        try:  # a channel without settings is down for this dispatch; nothing is claimed
            if bundle.channel == "email":
                self.settings.need_smtp()
            elif bundle.channel == "sms":
                self.settings.need_sms()
        except ConfigError as exc:
            self._down[bundle.channel] = str(exc)
            stats.errors.append(f"{bundle.channel}: {exc}; its messages stay queued")
            return
        if not self._claim(bundle, recipient):
            return
        if self.hooks.after_claim:
            self.hooks.after_claim(bundle)
        if problem:
            self._record_failure(bundle, problem, permanent=True)
            return
        try:
            result = self._transmit(bundle, recipient)
        except TransportDown as exc:
            self._down[bundle.channel] = str(exc)
            stats.errors.append(f"{bundle.channel}: {exc}")
            self._release(bundle, str(exc))
            return
        except SendError as exc:
            self._record_failure(bundle, str(exc), exc.permanent)
            return
        if self.hooks.after_transmit:
            self.hooks.after_transmit(bundle)
        if bundle.channel == "letter":
            self._printed.append((bundle, result))
            return
        self._record_sent(bundle, result)

    def _render(self, bundle: Bundle) -> Rendered:
        key = self.store.find(bundle.template, bundle.language, bundle.channel, bundle.tone)
        ctx = build_context(
            settings=self.settings,
            customer=bundle.customer,
            invoices=bundle.invoices,
            template=bundle.template,
            channel=bundle.channel,
            language=bundle.language,
            tone=bundle.tone,
            letter_date=local_day(self._when(bundle)),
            state=json.loads(bundle.rows[0].payload or "{}").get("state"),
            offers=[
                o for r in bundle.rows for o in json.loads(r.payload or "{}").get("offers", [])
            ],
            announces=json.loads(bundle.rows[0].payload or "{}").get("announces", []),
            portal_link=self._portal_link(bundle.customer),
        )
        bundle.ctx = ctx
        return self.store.render(key, ctx)

    def _portal_link(self, customer: CustomerFacts) -> str | None:
        """The customer's portal link (`[portal] base_url`), reused while half its time is
        left, so a message sent again carries the same link.  A dry run writes nothing,
        so its files carry none."""
        base = self.settings.portal.base_url
        if not base or self.dry_run:
            return None
        from mahnwerk.portal.links import link_for

        with self.engine.begin() as conn:
            made = link_for(conn, customer.id, customer.number, self.settings.portal, self.now,
                            "dispatch")  # fmt: skip
        return made.url(base)

    def _recipient(self, bundle: Bundle) -> tuple[str | None, str | None]:
        c = bundle.customer
        if bundle.channel == "email":
            if not c.email or "@" not in c.email:
                return None, "no e-mail address for the customer"
            return c.email, None
        if bundle.channel == "sms":
            phone = re.sub(r"[\s/()-]", "", c.phone or "")
            if not re.fullmatch(r"\+?\d{6,16}", phone):
                return None, f"no usable mobile number for the customer ({c.phone!r})"
            return phone, None
        if bundle.channel == "letter":
            if not (c.street and c.postal_code and c.city):
                return None, "no postal address for the customer"
            return ", ".join(bundle.ctx["recipient"].lines), None
        return c.phone or c.name, None  # call: a person phones

    # -- the three transactions ---------------------------------------------

    def _claim(self, bundle: Bundle, recipient: str | None) -> bool:
        rendered = bundle.rendered
        assert rendered is not None
        with self.engine.begin() as conn:
            res = conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "queued")
                .values(status="sending", attempts=OUTBOX.c.attempts + 1)
            )
            if res.rowcount != len(bundle.ids):
                conn.rollback()  # another dispatcher took some of these rows
                return False
            attempt = max(r.attempts for r in bundle.rows) + 1
            bundle.delivery_id = conn.execute(
                insert(DELIVERY).values(
                    message_id=bundle.message_id,
                    channel=bundle.channel,
                    customer_id=bundle.customer.id,
                    template=bundle.template,
                    language=bundle.language,
                    recipient=recipient,
                    status="transmitting",
                    attempt=attempt,
                    started_at=self.now,
                    subject=rendered.subject,
                    body=rendered.text,
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(DELIVERY_ITEM),
                [{"delivery_id": bundle.delivery_id, "outbox_id": i} for i in bundle.ids],
            )
        return True

    def _record_sent(self, bundle: Bundle, result: str) -> None:
        stats = self.stats
        with self.engine.begin() as conn:
            conn.execute(
                update(DELIVERY)
                .where(DELIVERY.c.id == bundle.delivery_id)
                .values(status="sent", finished_at=self.now, error=None, artefact=result)
            )
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "sending")
                .values(status="sent", sent_at=self.now, last_error=bundle.note)
            )
            together = (
                f", together with {len(bundle.rows) - 1} more" if len(bundle.rows) > 1 else ""
            )
            how = f" ({bundle.note})" if bundle.note else ""
            log_rows(
                conn,
                bundle.rows,
                "message_sent",
                self.now,
                f"{bundle.channel} {bundle.template} {bundle.message_id}{together}{how}",
            )
        stats.rows_sent += len(bundle.rows)
        stats.messages[bundle.channel] += 1
        if bundle.note:
            stats.fallbacks += len(bundle.rows)
        if len(bundle.rows) > 1:
            stats.bundled_rows += len(bundle.rows)

    def _release(self, bundle: Bundle, error: str) -> None:
        """The channel was down: nothing went out, the rows wait for the next dispatch."""
        with self.engine.begin() as conn:
            conn.execute(
                update(DELIVERY)
                .where(DELIVERY.c.id == bundle.delivery_id)
                .values(status="abandoned", finished_at=self.now, error=error)
            )
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "sending")
                .values(status="queued", attempts=OUTBOX.c.attempts - 1, last_error=error)
            )

    def _record_failure(self, bundle: Bundle, error: str, permanent: bool) -> None:
        stats = self.stats
        d = self.settings.delivery
        attempts = max(r.attempts for r in bundle.rows) + 1
        if not permanent and attempts >= d.max_attempts:
            permanent, error = True, f"{error} (gave up after {attempts} attempts)"
        with self.engine.begin() as conn:
            conn.execute(
                update(DELIVERY)
                .where(DELIVERY.c.id == bundle.delivery_id)
                .values(status="failed", finished_at=self.now, error=error)
            )
            if not permanent:
                delay = timedelta(seconds=d.backoff_seconds * 2 ** (attempts - 1))
                conn.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "sending")
                    .values(status="queued", not_before=self.now + delay, last_error=error)
                )
                stats.retried += len(bundle.rows)
                return
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(bundle.ids), OUTBOX.c.status == "sending")
                .values(status="failed", last_error=error)
            )
            log_rows(
                conn,
                bundle.rows,
                "message_failed",
                self.now,
                f"{bundle.channel} {bundle.template} failed: {error}",
            )
            delivery_failed_inbox(
                conn, bundle.rows, bundle.channel, bundle.template, error, self.today, self.now
            )
        stats.failed += len(bundle.rows)

    # -- transports -----------------------------------------------------------

    def _transmit(self, bundle: Bundle, recipient: str | None) -> str:
        """Hand the message over; returns once the other side has it (see the docstring)."""
        if bundle.channel == "email":
            msg = self._email(bundle, recipient or "")  # built first: a bad header fails here
            if self._smtp is None:
                self._smtp = SmtpTransport(self.settings.need_smtp())
            return self._smtp.send(msg)
        if bundle.channel == "sms":
            if self._sms is None:
                self._sms = SmsWebhook(self.settings.need_sms(), self.store)
            assert bundle.rendered is not None
            text, creditor = bundle.rendered.text, self.settings.creditor.name
            return self._sms.send(recipient or "", text, bundle.message_id, creditor)
        if bundle.channel == "letter":
            return str(self._letter_file(bundle, self.folder))
        if bundle.channel == "call":
            return str(self._call_file(bundle, self.folder / "calls"))
        raise SendError(f"unknown channel {bundle.channel!r}", permanent=True)

    def _stem(self, bundle: Bundle) -> str:
        digest = bundle.message_id.strip("<>").split("@")[0][:12]
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", bundle.customer.number)
        return f"{safe}_{bundle.template}_{digest}"

    def _when(self, bundle: Bundle) -> datetime:
        """The instant a message is dated: now, or in a preview of a run's post the moment
        it would go out at the earliest (its `not_before`)."""
        if self.dated_as_queued:
            return max(r.not_before for r in bundle.rows)
        return self.now

    def _letter_obj(self, bundle: Bundle) -> Letter:
        r, ctx = bundle.rendered, bundle.ctx
        assert r is not None and r.html is not None and ctx is not None
        return Letter(
            self.settings.creditor,
            ctx["recipient"].lines,
            r.subject,
            r.html,
            local_day(self._when(bundle)),
            bundle.language,
            bundle.customer.number,
            ctx["reference"],
            ctx["portal_link"],
        )

    def _letter_file(self, bundle: Bundle, folder: Path) -> Path:
        path = folder / f"{self._stem(bundle)}.pdf"
        if bundle.pdf is None:
            letter = self._letter_obj(bundle)
            bundle.pdf = letters_pdf([letter], title=letter.subject)
        write_atomically(path, bundle.pdf)
        self._letters.append(path)
        self.stats.files.append(path)
        return path

    def _call_file(self, bundle: Bundle, folder: Path) -> Path:
        r = bundle.rendered
        assert r is not None
        path = folder / f"{self._stem(bundle)}.call.txt"
        write_atomically(path, (r.text + "\n").encode("utf-8"))
        self.stats.files.append(path)
        return path

    def _email(self, bundle: Bundle, to: str):
        r, ctx = bundle.rendered, bundle.ctx
        assert r is not None and ctx is not None
        smtp = self.settings.smtp
        sender = smtp.sender if smtp else f"{self.settings.creditor.name} <noreply@invalid>"
        attachments = []
        if (
            smtp
            and smtp.attach_pdf
            and self.store.has(bundle.template, bundle.language, "letter", bundle.tone)
        ):
            key = self.store.find(bundle.template, bundle.language, "letter", bundle.tone)
            letter_r = self.store.render(key, ctx)
            letter = Letter(
                self.settings.creditor,
                ctx["recipient"].lines,
                letter_r.subject,
                letter_r.html or "",
                local_day(self._when(bundle)),
                bundle.language,
                bundle.customer.number,
                ctx["reference"],
                ctx["portal_link"],
            )
            attachments.append((f"{self._stem(bundle)}.pdf", letters_pdf([letter])))
        html, inline = (
            girocode.inline_images(r.html, self.settings.creditor) if r.html else (None, [])
        )
        return build_email(
            sender=sender,
            to=to,
            to_name=ctx["recipient"].name,
            subject=r.subject,
            text=r.text,
            html=html,
            inline=inline,
            message_id=bundle.message_id,
            date=self._when(bundle),
            attachments=attachments,
        )

    def _write_dry(self, bundle: Bundle) -> None:
        """Dry run: the message as a file, nothing recorded."""
        stats, r = self.stats, bundle.rendered
        assert r is not None
        folder = self.folder
        if bundle.channel == "email":
            msg = self._email(bundle, bundle.customer.email or "missing-address@invalid")
            path = folder / f"{self._stem(bundle)}.eml"
            write_atomically(path, msg.as_bytes())
            stats.files.append(path)
        elif bundle.channel == "letter":
            self._letter_file(bundle, folder)
        elif bundle.channel == "sms":
            path = folder / f"{self._stem(bundle)}.sms.txt"
            write_atomically(path, f"To: {bundle.customer.phone}\n\n{r.text}\n".encode())
            stats.files.append(path)
        else:
            self._call_file(bundle, folder)
        stats.rows_sent += len(bundle.rows)
        stats.messages[bundle.channel] += 1
        if bundle.note:
            stats.fallbacks += len(bundle.rows)
        if len(bundle.rows) > 1:
            stats.bundled_rows += len(bundle.rows)


def dispatch(
    engine: Engine,
    settings: Settings,
    now: datetime,
    *,
    dry_run: bool = False,
    out: Path | None = None,
    limit: int | None = None,
    channels: Iterable[str] | None = None,
    store: TemplateStore | None = None,
    hooks: Hooks | None = None,
    queued_since: datetime | None = None,
) -> DispatchStats:
    """Deliver every due message once (see the module docstring); `now` must be aware.

    `queued_since` narrows the dispatch to rows the engine queued at or after
    that instant (e.g. only the latest run's)."""
    if now.tzinfo is None:
        raise ValueError("dispatch needs an aware `now` (e.g. datetime.now(UTC))")
    return Dispatcher(engine, settings, now.astimezone(UTC), store, dry_run, out, hooks).run(
        limit, channels, queued_since
    )


def preview_latest_run(engine: Engine, settings: Settings, out: Path) -> DispatchStats:
    """Dry run of what the latest run queued, as files in `out` (the demo ends with it).

    Nothing in the database changes.  "Now" is the latest of those messages'
    `not_before`, so each of them is due, however the runner timed it (D2); each is
    dated at its own `not_before`, the moment it would go out."""
    from sqlalchemy import func

    with engine.connect() as conn:
        latest = conn.execute(
            select(func.max(OUTBOX.c.created_at)).where(OUTBOX.c.status == "queued")
        ).scalar()
        if latest is None:
            return DispatchStats()
        latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
        until = conn.execute(
            select(func.max(OUTBOX.c.not_before)).where(
                OUTBOX.c.status == "queued", OUTBOX.c.created_at >= latest
            )
        ).scalar()
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    dispatcher = Dispatcher(engine, settings, until, dry_run=True, out=out)
    dispatcher.dated_as_queued = True  # each message dated when it would go out
    return dispatcher.run(queued_since=latest)


__all__ = [
    "Bundle",
    "DispatchStats",
    "Dispatcher",
    "Hooks",
    "dispatch",
    "message_id_for",
    "plan",
    "preview_latest_run",
    "reconcile",
]
