"""`mahnwerk letters …` and `mahnwerk dispatch`: templates, previews, delivery.

Wired into `cli.py` with one call, `register(app)`.  The work is done in
`mahnwerk.engine.comms`; this module parses options and prints.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk import clock
from mahnwerk.engine.comms.config import EXAMPLE, ConfigError, Settings, load_settings
from mahnwerk.engine.comms.templates import CHANNELS, TemplateError, TemplateStore
from mahnwerk.options import DbOption, open_engine

letters_app = typer.Typer(no_args_is_help=True, help="Message templates: check and preview.")

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Settings file (default: $MAHNWERK_CONFIG or mahnwerk.toml in this folder).",
        show_default=False,
    ),
]
TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        help="Folder of own templates, searched before the shipped ones "
        "(default: [delivery] templates in the settings).",
    ),
]


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _settings(config: str | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None


def _store(templates: Path | None, settings: Settings | None) -> TemplateStore:
    folders = []
    if templates is not None:
        folders.append(templates)
    elif settings is not None and settings.delivery.templates:
        folders.append(Path(settings.delivery.templates))
    try:
        return TemplateStore(folders)
    except TemplateError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None


def _now(value: str | None) -> datetime:
    """`--now` for reproducible runs and tests; else the wall clock, read here only."""
    if value is None:
        return clock.now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _err(f"error: --now {value!r} is not a time; write e.g. 2026-04-01T09:00+02:00")
        raise typer.Exit(2) from None
    if moment.tzinfo is None:
        _err(f"error: --now {value!r} has no time zone; add one, e.g. +02:00 or Z")
        raise typer.Exit(2)
    return moment


@letters_app.command("check")
def letters_check(
    templates: TemplatesOption = None,
    config: ConfigOption = None,
    policy: Annotated[
        list[Path] | None,
        typer.Option(
            "--policy",
            help="Also check that every template this policy sends exists in every "
            "language and channel (repeatable).",
        ),
    ] = None,
    languages: Annotated[
        str | None, typer.Option(help="Customers' languages besides the policies', e.g. de,en.")
    ] = None,
) -> None:
    """Check every template: renders without gaps, neutral e-mail subjects (E1), the
    § 13a RDG elements of collection letters (B3), and that the GiroCode of every letter and
    e-mail decodes to its amount and reference; with --policy, that none the policy sends
    is missing (named at the policy line).  Exit 1 on any problem."""
    from mahnwerk.cmd_lifecycle import template_errors
    from mahnwerk.engine.comms.checks import check_store, probe_settings
    from mahnwerk.engine.comms.girocode_check import DPI, check_girocodes

    settings = _settings(config) if config or Path("mahnwerk.toml").is_file() else None
    store = _store(templates, settings)
    problems: list = list(check_store(store, settings))
    spoken = [x.strip() for x in (languages or "").split(",") if x.strip()]
    for path in policy or []:
        problems += [d.render() for d in template_errors(path, store, spoken)]
    codes = check_girocodes(store, settings or probe_settings())
    problems += codes.problems
    for note in codes.notes:
        typer.echo(note)
    typer.echo(
        f"GiroCode: {codes.checked} letters and e-mails carry a code that decodes to their "
        f"amount and reference (letters read from the rendered PDF at {DPI} dpi)"
    )
    for p in problems:
        _err(str(p))
    count = len(store.keys())
    if problems:
        _err(f"{len(problems)} problem(s) in {count} template(s)")
        raise typer.Exit(1)
    typer.echo(f"{count} templates: ok")


@letters_app.command("templates")
def letters_templates(templates: TemplatesOption = None) -> None:
    """List the templates: name, language, channel, tone, file."""
    store = _store(templates, None)
    for key in sorted(store.keys(), key=lambda k: (k.name, k.channel, k.language, k.tone or "")):
        typer.echo(
            f"{key.name:24} {key.language}  {key.channel:7} {key.tone or '-':9} {key.filename}"
        )


@letters_app.command("config-example")
def letters_config_example() -> None:
    """Print an example mahnwerk.toml."""
    typer.echo(EXAMPLE, nl=False)


@letters_app.command("preview")
def letters_preview(
    invoice: Annotated[str, typer.Option("--invoice", help="Invoice number.")],
    template: Annotated[str, typer.Option("--template", help="Template name, e.g. mahnung_1.")],
    channel: Annotated[
        str | None, typer.Option(help="email, letter, sms or call (default: what exists).")
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="de or en (default: the customer's).")
    ] = None,
    tone: Annotated[str | None, typer.Option(help="friendly, firm … (default: plain).")] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Letter date, YYYY-MM-DD (default: today).")
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML instead of text.")] = False,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Also write the letter as PDF to this file.")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    templates: TemplatesOption = None,
) -> None:
    """Show a message as the customer would receive it, rendered from the database."""
    from mahnwerk.engine.comms.context import build_context, load_customers, load_invoices
    from mahnwerk.engine.comms.pdf import Letter, letters_pdf
    from mahnwerk.engine.store.invoices import invoice_keys

    settings = _settings(config)
    store = _store(templates, settings)
    engine = open_engine(db)
    with engine.connect() as conn:
        head = invoice_keys(conn, invoice)
        if head is None:
            _err(f"error: no invoice {invoice!r}: import it first or check the number")
            raise typer.Exit(1)
        customer = load_customers(conn, {head.customer_id})[head.customer_id]
        lang = language or customer.language
        facts = load_invoices(conn, {head.id}, lang)[head.id]
    chosen = channel or next(
        (c for c in CHANNELS if store.has(template, lang, c, tone)),
        None,
    )
    if chosen is None or chosen not in CHANNELS:
        _err(
            f"error: no template {template!r} in language {lang!r}"
            + (f" on channel {channel!r}" if channel else "")
            + f"; known: {', '.join(sorted(store.names()))}"
        )
        raise typer.Exit(1)
    day = date.fromisoformat(on) if on else clock.now().date()
    try:
        key = store.find(template, lang, chosen, tone)
        ctx = build_context(
            settings=settings,
            customer=customer,
            invoices=[facts],
            template=template,
            channel=chosen,
            language=lang,
            tone=tone,
            letter_date=day,
            state=facts.state,
        )
        rendered = store.render(key, ctx)
    except (TemplateError, ValueError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    from mahnwerk.engine.comms.preview import what_happens_next

    typer.echo(f"# {key.filename} → {', '.join(ctx['recipient'].lines)}")
    # the truth beside the letter: a paused or disputed invoice gets no letter at all
    said, blocked = what_happens_next(facts, day)
    typer.echo(f"# what happens next: {said}")
    if blocked:
        typer.echo(f"# so this {chosen} is NOT sent now; below is only how it would read")
    if rendered.subject:
        typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(rendered.html if html and rendered.html else rendered.text)
    if pdf is not None:
        letter = Letter(
            settings.creditor,
            ctx["recipient"].lines,
            rendered.subject,
            rendered.html or rendered.text,
            day,
            lang,
            customer.number,
            ctx["reference"],
        )
        pdf.write_bytes(letters_pdf([letter], title=rendered.subject))
        typer.echo(f"PDF: {pdf}")


def dispatch_cmd(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write .eml/.pdf files instead of sending.")
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for --dry-run files.")] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="The instant to dispatch for (default: now).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many outbox rows.")] = None,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Only these channels (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Deliver the queued messages that are due: each exactly once, bundled per customer."""
    from mahnwerk.engine.comms.dispatch import dispatch

    settings = _settings(config)
    if dry_run and out is None:
        out = Path("dispatch-preview")
    engine = open_engine(db)
    try:
        stats = dispatch(
            engine,
            settings,
            _now(now),
            dry_run=dry_run,
            out=out,
            limit=limit,
            channels=channel or None,
        )
    except (ConfigError, TemplateError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    d = stats.as_dict()
    if as_json:
        typer.echo(json.dumps(d, indent=2))
    else:
        what = "written" if dry_run else "sent"
        typer.echo(
            f"{d['due']} due: {d['rows_sent']} {what} in "
            f"{sum(d['messages'].values())} message(s) {d['messages'] or ''}, "
            f"{d['retried']} to retry, {d['failed']} failed, {d['cancelled']} cancelled, "
            f"{d['fallbacks']} as letter instead (D7/C6)"
            + (
                f"; after a crash: {d['reconciled_requeued']} queued again (same Message-ID)"
                if d["reconciled_requeued"]
                else ""
            )
            + (
                f"; {d['bounced']} bounced later (delivery_failed for the next run)"
                if d["bounced"]
                else ""
            )
        )
        for reason, n in sorted(d["reasons"].items()):
            typer.echo(f"  cancelled {n}: {reason}")
        if d["print_batch"]:
            typer.echo(f"print batch: {d['print_batch']}")
        if dry_run:
            typer.echo(f"files in {out}: {len(d['files'])}")
    for error in stats.errors:
        _err(f"error: {error}")
    if stats.errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(letters_app, name="letters")
    app.command("dispatch")(dispatch_cmd)
