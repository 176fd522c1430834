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
now as files into a folder (`.eml`, `.pdf`, `.sms.txt`, `.call.txt`: each
channel's `dry_run_file`).

Where the parts live: the decisions per row in `planning.py`, the database
transactions in `ledger.py`, and everything about one channel — its settings,
recipient, quiet hours, transport and dry-run file — in its module under
`channels/`, registered once in `channels/__init__.py`.  This module only runs
the steps in order and knows no channel by name.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine

from mahnwerk.dsl.statute import BERLIN
from mahnwerk.engine.audit import seal
from mahnwerk.engine.comms import channels as registry
from mahnwerk.engine.comms import ledger
from mahnwerk.engine.comms.channels.letter import letter_of
from mahnwerk.engine.comms.config import ConfigError, Settings
from mahnwerk.engine.comms.context import CustomerFacts, build_context
from mahnwerk.engine.comms.ledger import delivery_failed_inbox, log_rows, reconcile
from mahnwerk.engine.comms.mail import SendError, TransportDown
from mahnwerk.engine.comms.pdf import letters_pdf, letters_pdf_each, print_batch, write_atomically
from mahnwerk.engine.comms.planning import Bundle, local_day, message_id_for, plan
from mahnwerk.engine.comms.templates import Rendered, TemplateError, TemplateStore
from mahnwerk.engine.store.messages import latest_run_window

T = TypeVar("T")
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


class Dispatcher:
    """One dispatch: transports opened on first use and closed at the end.

    It is the `Job` its channels work in (`channels/base.py`): settings, templates,
    the day's folder, file names, dates, open transports and the print batch."""

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
        self._transports: dict[str, Any] = {}
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

    # -- what the channels use (channels/base.py: Job) -----------------------

    def stem(self, bundle: Bundle) -> str:
        digest = bundle.message_id.strip("<>").split("@")[0][:12]
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", bundle.customer.number)
        return f"{safe}_{bundle.template}_{digest}"

    def when(self, bundle: Bundle) -> datetime:
        """The instant a message is dated: now, or in a preview of a run's post the moment
        it would go out at the earliest (its `not_before`)."""
        if self.dated_as_queued:
            return max(r.not_before for r in bundle.rows)
        return self.now

    def keep(self, path: Path) -> None:
        self.stats.files.append(path)

    def transport(self, name: str, opener: Callable[[], T]) -> T:
        if name not in self._transports:
            self._transports[name] = opener()
        return self._transports[name]

    def print_later(self, path: Path) -> None:
        self._letters.append(path)

    # -- the whole dispatch --------------------------------------------------

    def run(
        self,
        limit: int | None = None,
        channels: Iterable[str] | None = None,
        queued_since: datetime | None = None,
    ) -> DispatchStats:
        if not self.dry_run:
            self._settle()
        with self.engine.connect() as conn:
            the_plan = plan(
                conn, self.settings, self.store, self.now, limit, channels, queued_since
            )
        self.stats.due = the_plan.due
        self._cancel(the_plan.cancel)
        try:
            bundles = the_plan.bundles
            for k in range(0, len(bundles), PDF_CHUNK):
                self._deliver_chunk(bundles[k : k + PDF_CHUNK])
        finally:
            for transport in self._transports.values():
                transport.close()
        self._print_batch()
        if not self.dry_run:
            seal(self.engine)  # the hash chain over this dispatch's log entries
        return self.stats

    def _settle(self) -> None:
        """Before planning: what a crashed dispatcher left, and bounces that arrived."""
        settled = reconcile(self.engine, self.now, self.settings.delivery.lease_seconds)
        self.stats.reconciled_requeued = settled.requeued
        if self.settings.bounces is not None:
            from mahnwerk.engine.comms.bounces import read_bounces

            bounced = read_bounces(self.engine, self.settings.bounces, self.now)
            self.stats.bounced = bounced.failed

    def _cancel(self, items: list[tuple[Any, str]]) -> None:
        if not items:
            return
        self.stats.cancelled += len(items)
        for _, reason in items:
            self.stats.reasons[reason.split(";")[0]] += 1
        if not self.dry_run:
            ledger.cancel(self.engine, items, self.now)

    def _print_batch(self) -> None:
        """The day's letters in one PDF for the print shop; a letter is sent once its
        batch is on disk."""
        stats = self.stats
        if self._letters:
            name = f"print-batch-{self.now.astimezone(BERLIN).strftime('%Y%m%d-%H%M%S')}.pdf"
            path = self.folder / name
            write_atomically(path, print_batch(self._letters))
            stats.batch = path
        for bundle, result in self._printed:
            self._record_sent(bundle, f"{result} (in {stats.batch})")

    # -- one bundle ----------------------------------------------------------

    def _deliver_chunk(self, bundles: list[Bundle]) -> None:
        """Render a chunk, draw its letters in one go, then deliver one by one."""
        ready = [b for b in bundles if self._rendered(b)]
        self._draw_letters([b for b in ready if registry.get(b.channel).paper])
        for bundle in ready:
            if registry.get(bundle.channel).paper and not self._laid_out(bundle):
                continue
            try:
                self._deliver(bundle)
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
                self._isolate(bundle, exc)

    def _rendered(self, bundle: Bundle) -> bool:
        """Render `bundle`; False (the rows stay queued) if its channel is down or its
        template fails."""
        if bundle.channel in self._down:
            return False  # the channel is unavailable in this dispatch; the rows stay queued
        try:
            bundle.rendered = self._render(bundle)
        except TemplateError as exc:
            self.stats.errors.append(f"{exc} (rows {bundle.ids} stay queued)")
            return False
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the others
            self.stats.errors.append(
                f"customer {bundle.customer.number}: {bundle.template} cannot be rendered "
                f"({type(exc).__name__}: {exc}); rows {bundle.ids} stay queued"
            )
            return False
        return True

    def _draw_letters(self, letters: list[Bundle]) -> None:
        """All letters of a chunk drawn in one go (much faster than one by one)."""
        try:
            pdfs = letters_pdf_each([letter_of(self, b) for b in letters])
        except Exception:  # one letter's HTML the PDF writer cannot lay out: found later
            pdfs = [None] * len(letters)
        for bundle, data in zip(letters, pdfs, strict=True):
            bundle.pdf = data

    def _laid_out(self, bundle: Bundle) -> bool:
        """A letter the chunk could not draw, drawn alone; False if it cannot be."""
        if bundle.pdf is not None:
            return True
        try:
            letter = letter_of(self, bundle)
            bundle.pdf = letters_pdf([letter], title=letter.subject)
        except Exception as exc:
            self.stats.errors.append(
                f"{bundle.template}: the letter cannot be laid out as PDF ({exc}); "
                f"rows {bundle.ids} stay queued"
            )
            return False
        return True

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
        channel = registry.get(bundle.channel)
        if bundle.channel in self._down:
            return
        recipient, problem = channel.recipient(bundle)
        if self.dry_run:
            channel.dry_run_file(self, bundle)
            self._count_sent(bundle)
            return
        try:  # a channel without settings is down for this dispatch; nothing is claimed
            channel.check_settings(self.settings)
        except ConfigError as exc:
            self._down[bundle.channel] = str(exc)
            self.stats.errors.append(f"{bundle.channel}: {exc}; its messages stay queued")
            return
        if not ledger.claim(self.engine, bundle, recipient, self.now):
            return
        if self.hooks.after_claim:
            self.hooks.after_claim(bundle)
        if problem:
            self._record_failure(bundle, problem, permanent=True)
            return
        self._transmit(channel, bundle, recipient)

    def _transmit(self, channel: registry.Channel, bundle: Bundle, recipient: str | None) -> None:
        """Hand the message over; record it once the other side has it (module docstring)."""
        try:
            result = channel.transmit(self, bundle, recipient)
        except TransportDown as exc:
            self._down[bundle.channel] = str(exc)
            self.stats.errors.append(f"{bundle.channel}: {exc}")
            ledger.release(self.engine, bundle, str(exc), self.now)
            return
        except SendError as exc:
            self._record_failure(bundle, str(exc), exc.permanent)
            return
        if self.hooks.after_transmit:
            self.hooks.after_transmit(bundle)
        if channel.batched:
            self._printed.append((bundle, result))
            return
        self._record_sent(bundle, result)

    def _render(self, bundle: Bundle) -> Rendered:
        channel = registry.get(bundle.channel)
        key = self.store.find(bundle.template, bundle.language, channel.templates, bundle.tone)
        payloads = [json.loads(r.payload or "{}") for r in bundle.rows]
        ctx = build_context(
            settings=self.settings,
            customer=bundle.customer,
            invoices=bundle.invoices,
            template=bundle.template,
            channel=channel.templates,
            language=bundle.language,
            tone=bundle.tone,
            letter_date=local_day(self.when(bundle)),
            state=payloads[0].get("state"),
            offers=[o for p in payloads for o in p.get("offers", [])],
            announces=payloads[0].get("announces", []),
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

    # -- recording (the transactions are in ledger.py) -----------------------

    def _record_sent(self, bundle: Bundle, result: str) -> None:
        ledger.record_sent(self.engine, bundle, result, self.now)
        self._count_sent(bundle)

    def _count_sent(self, bundle: Bundle) -> None:
        stats = self.stats
        stats.rows_sent += len(bundle.rows)
        stats.messages[bundle.channel] += 1
        if bundle.note:
            stats.fallbacks += len(bundle.rows)
        if len(bundle.rows) > 1:
            stats.bundled_rows += len(bundle.rows)

    def _record_failure(self, bundle: Bundle, error: str, permanent: bool) -> None:
        rules = self.settings.delivery
        if ledger.record_failure(self.engine, bundle, error, permanent, rules, self.now):
            self.stats.failed += len(bundle.rows)
        else:
            self.stats.retried += len(bundle.rows)


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
    window = latest_run_window(engine)
    if window is None:
        return DispatchStats()
    latest, until = window
    dispatcher = Dispatcher(engine, settings, until, dry_run=True, out=out)
    dispatcher.dated_as_queued = True  # each message dated when it would go out
    return dispatcher.run(queued_since=latest)


__all__ = [
    "PDF_CHUNK",
    "Bundle",
    "DispatchStats",
    "Dispatcher",
    "Hooks",
    "delivery_failed_inbox",
    "dispatch",
    "local_day",
    "log_rows",
    "message_id_for",
    "plan",
    "preview_latest_run",
    "reconcile",
]
