"""How fast messages are queued and rendered: 100,000 of them on one SQLite file.

The issue's figure, in phases, each timed on its own:

    queue      100,000 outbox rows written the way the runner writes them (one
               `INSERT … ON CONFLICT DO NOTHING` executemany per batch of 2,000,
               each batch its own transaction);
    plan       dispatch's read of everything due: the rows, their customers, the
               invoices with state, fees and interest lines from the ledger, and
               the decision per row (cancel, fall back, bundle);
    render     every message rendered from its template: subject, plain text and
               (e-mails and letters) HTML — what dispatch does before it sends;
    pdf        a sample of letters drawn as DIN 5008 PDFs (`--pdf-sample`, default
               300) the way dispatch draws them (200 at a time into one document,
               then split into one file each), per letter: the PDF is the slow part
               of a letter, so it is reported per piece rather than multiplied out;
    eml        a sample of e-mails built as MIME messages (`--pdf-sample` too).

The portfolio is built directly (not timed): one customer per four invoices,
every invoice with its dunning state and ledger lines (principal, a fee, an
interest line), and one queued message per invoice over the shipped templates:
40 % `zahlungserinnerung` e-mails, 15 % each `mahnung_1`, `mahnung_2` and
`letzte_mahnung` letters, 10 % `vorab_hinweis_sms` SMS and 5 % English
`zahlungserinnerung` e-mails.  Bundling is off by default so that 100,000 rows
are 100,000 messages; `--bundle` turns it on (four invoices per customer then
travel in fewer messages).

    /tmp/venv/bin/python bench/bench_messages.py [--messages 100000] [--bundle]
        [--pdf-sample 300] [--db PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mahnwerk.engine.comms.config import parse_settings
from mahnwerk.engine.comms.context import build_context
from mahnwerk.engine.comms.dispatch import PDF_CHUNK, plan
from mahnwerk.engine.comms.mail import build_email
from mahnwerk.engine.comms.pdf import Letter, letters_pdf, letters_pdf_each
from mahnwerk.engine.comms.templates import TemplateStore
from mahnwerk.engine.models import OUTBOX
from mahnwerk.engine.store.db import init_db, make_engine

NOW = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)
MIX = (
    (40, "zahlungserinnerung", "email", "erinnerung", "de"),
    (15, "mahnung_1", "letter", "mahnung_1", "de"),
    (15, "mahnung_2", "letter", "mahnung_2", "de"),
    (15, "letzte_mahnung", "letter", "letzte_mahnung", "de"),
    (10, "vorab_hinweis_sms", "sms", "vorab", "de"),
    (5, "zahlungserinnerung", "email", "erinnerung", "en"),
)
SETTINGS = {
    "creditor": {
        "name": "Muster Versand GmbH",
        "street": "Hauptstraße 1",
        "postal_code": "10115",
        "city": "Berlin",
        "iban": "DE89 3704 0044 0532 0130 00",
        "payment_link": "https://pay.example.com/{reference}",
    },
    "smtp": {"host": "localhost", "sender": "Muster Versand GmbH <f@muster.example>"},
}


def kind_of(n: int) -> tuple[str, str, str, str]:
    slot = n % 100
    for share, *rest in MIX:
        if slot < share:
            return tuple(rest)  # type: ignore[return-value]
        slot -= share
    raise AssertionError


def build(path: Path, n: int) -> None:
    """Customers, invoices, states and ledger lines with plain sqlite3 (not timed)."""
    init_db(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    customers = (n + 3) // 4
    con.executemany(
        "INSERT INTO customer (id, external_id, name, type, email, phone, street, postal_code,"
        " city, country, language, tags, vulnerable, opted_out, timezone) VALUES"
        " (?, ?, ?, 'B2C', ?, '+4915112345678', 'Heidestraße 17', '51147', 'Köln', 'DE', ?,"
        " '', 0, '', 'Europe/Berlin')",
        [
            (
                c,
                f"K{c:07d}",
                f"Kundin Nr. {c}",
                f"kunde{c}@example.org",
                "en" if c % 20 == 0 else "de",
            )
            for c in range(1, customers + 1)
        ],
    )
    issue, due = date(2026, 2, 1), date(2026, 3, 3)
    con.executemany(
        "INSERT INTO invoice (id, external_id, customer_id, issue_date, due_date, amount,"
        " currency, due_date_agreed, notice_30_days) VALUES (?, ?, ?, ?, ?, ?, 'EUR', 0, 0)",
        [
            (
                i,
                f"R{i:09d}",
                (i - 1) // 4 + 1,
                issue.isoformat(),
                due.isoformat(),
                f"{100 + i % 900}.{i % 100:02d}",
            )
            for i in range(1, n + 1)
        ],
    )
    states = []
    ledger = []
    for i in range(1, n + 1):
        amount = Decimal(f"{100 + i % 900}.{i % 100:02d}")
        _, _, state, _ = kind_of(i)
        interest = (amount * Decimal("6.27") * 30 / 36500).quantize(Decimal("0.01"))
        states.append((i, state, "2026-04-30", str(amount), "1.00", str(interest)))
        ledger += [
            (i, "principal", str(amount), issue.isoformat(), None, None, None),
            (i, "fee", "1.00", "2026-04-30", None, None, None),
            (i, "interest", str(interest), "2026-04-30", "2026-04-01", "2026-04-30", "6.27"),
        ]
    con.executemany(
        "INSERT INTO dunning_state (invoice_id, segment, ladder, state, entered_on,"
        " principal_open, fees_open, interest_open, held, lump_sum_charged, promises,"
        " interest_active, written_reminders, disputed, plan_active, plan_paid, credit_stopped,"
        " row_version) VALUES (?, 'default', 'standard', ?, ?, ?, ?, ?, 0, 0, 0, 1, 0, 0, 0, 0,"
        " 0, 0)",
        states,
    )
    con.executemany(
        "INSERT INTO ledger (invoice_id, kind, amount, booked_on, period_from, period_to, rate,"
        " provisional) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        ledger,
    )
    con.commit()
    con.close()


def queue(engine, n: int) -> float:
    """Outbox rows written like the runner writes them; returns seconds."""
    rows = []
    for i in range(1, n + 1):
        template, channel, state, language = kind_of(i)
        rows.append(
            {
                "idempotency_key": f"{i}:{state}:{template}:{channel}:2026-05-04",
                "invoice_id": i,
                "customer_id": (i - 1) // 4 + 1,
                "channel": channel,
                "template": template,
                "language": language,
                "tone": None,
                "status": "queued",
                "not_before": NOW - timedelta(hours=2),
                "created_at": NOW - timedelta(hours=3),
                "attempts": 0,
                "payload": json.dumps({"state": state, "offers": []}),
                "rule": "policies/de_b2c_standard.mahn:43",
            }
        )
    start = time.perf_counter()
    for k in range(0, len(rows), 2000):
        with engine.begin() as conn:
            conn.execute(sqlite_insert(OUTBOX).on_conflict_do_nothing(), rows[k : k + 2000])
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--bundle", action="store_true")
    ap.add_argument("--pdf-sample", type=int, default=300)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="mahnwerk-bench-msg-"))
    path = args.db or folder / "messages.db"
    if path.exists():
        path.unlink()
    t = time.perf_counter()
    build(path, args.messages)
    print(f"built {args.messages:,} invoices in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    engine = make_engine(f"sqlite:///{path}")
    settings = parse_settings({**SETTINGS, "delivery": {"bundle": args.bundle}}, "bench", env={})
    store = TemplateStore()

    queued = queue(engine, args.messages)

    start = time.perf_counter()
    with engine.connect() as conn:
        the_plan = plan(conn, settings, store, NOW)
    planned = time.perf_counter() - start
    assert the_plan.due == args.messages and not the_plan.cancel

    start = time.perf_counter()
    sample_letters: list[Letter] = []
    sample_mails = []
    chars = 0
    for bundle in the_plan.bundles:
        key = store.find(bundle.template, bundle.language, bundle.channel, bundle.tone)
        ctx = build_context(
            settings=settings,
            customer=bundle.customer,
            invoices=bundle.invoices,
            template=bundle.template,
            channel=bundle.channel,
            language=bundle.language,
            tone=bundle.tone,
            letter_date=NOW.date(),
            state=json.loads(bundle.rows[0].payload).get("state"),
        )
        out = store.render(key, ctx)
        chars += len(out.text)
        if bundle.channel == "letter" and len(sample_letters) < args.pdf_sample:
            sample_letters.append(
                Letter(
                    settings.creditor,
                    ctx["recipient"].lines,
                    out.subject,
                    out.html or "",
                    NOW.date(),
                    bundle.language,
                    bundle.customer.number,
                    ctx["reference"],
                )
            )
        if bundle.channel == "email" and len(sample_mails) < args.pdf_sample:
            sample_mails.append((bundle, ctx, out))
    rendered = time.perf_counter() - start
    messages = len(the_plan.bundles)

    letters_pdf(sample_letters[:1])  # warm up: font files read from disk once
    start = time.perf_counter()
    for k in range(0, len(sample_letters), PDF_CHUNK):
        letters_pdf_each(sample_letters[k : k + PDF_CHUNK])  # as dispatch draws them
    pdf_each = (time.perf_counter() - start) / max(len(sample_letters), 1)

    start = time.perf_counter()
    for bundle, ctx, out in sample_mails:
        build_email(
            sender=settings.smtp.sender,
            to=bundle.customer.email,
            to_name=ctx["recipient"].name,
            subject=out.subject,
            text=out.text,
            html=out.html,
            message_id=bundle.message_id,
            date=NOW,
        ).as_bytes()
    eml_each = (time.perf_counter() - start) / max(len(sample_mails), 1)

    figures = {
        "outbox_rows": args.messages,
        "messages": messages,
        "bundle": args.bundle,
        "queue_s": round(queued, 2),
        "queue_rows_per_s": round(args.messages / queued),
        "plan_s": round(planned, 2),
        "render_s": round(rendered, 2),
        "render_messages_per_s": round(messages / rendered),
        "render_plus_queue_s": round(queued + planned + rendered, 2),
        "avg_text_chars": round(chars / messages),
        "pdf_ms_per_letter": round(pdf_each * 1000, 1),
        "eml_ms_per_mail": round(eml_each * 1000, 2),
    }
    print(
        f"queue   {args.messages:>9,} rows      {queued:7.2f} s "
        f"({figures['queue_rows_per_s']:,} rows/s)"
    )
    print(f"plan    {args.messages:>9,} rows      {planned:7.2f} s")
    print(
        f"render  {messages:>9,} messages  {rendered:7.2f} s "
        f"({figures['render_messages_per_s']:,} messages/s, text + HTML)"
    )
    print(f"total   queue + plan + render    {figures['render_plus_queue_s']:7.2f} s")
    print(
        f"pdf     {len(sample_letters):>9,} letters   {figures['pdf_ms_per_letter']:7.1f} ms "
        "per letter (DIN 5008, fpdf2)"
    )
    print(
        f"eml     {len(sample_mails):>9,} e-mails   {figures['eml_ms_per_mail']:7.2f} ms "
        "per e-mail (MIME, text + HTML)"
    )
    if args.json:
        print(json.dumps(figures))
    engine.dispose()
    if args.db is None:
        path.unlink()


if __name__ == "__main__":
    main()
