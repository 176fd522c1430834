"""`letters check`: does the GiroCode of every letter and e-mail say what the message says?

Each message template is rendered with the probe (`checks.probe_context`: one invoice of
1.234,56 € with 2,00 € costs and 13,79 € interest — open 1.250,35 €, reference
`PR-2026-0815`) and the creditor of the settings, and its code is *read back*:

* letters from the **rendered PDF**, rasterised at 200 dpi (pypdfium2) and decoded by
  zxing-cpp — not from the PNG the letter embeds.  What is checked is what the print shop
  prints: a code drawn too small, cut by the page edge, covered by text or placed on a
  page that is not printed would pass an image check and fail the customer;
* e-mails from the inline PNG the message carries (an e-mail has no page to rasterise).

A code must carry the creditor's name, IBAN and BIC, the message's open amount and its
reference (the Verwendungszweck the letter prints).  A message that shows the creditor's
IBAN asks for money and must carry a code; one that does not asks for nothing and gets
none — said as a note, like a creditor without an IBAN (then no message gets a code).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mahnwerk.engine.comms import formatting, girocode
from mahnwerk.engine.comms.checks import Problem, probe_context
from mahnwerk.engine.comms.config import Settings
from mahnwerk.engine.comms.pdf import Letter, letters_pdf_each
from mahnwerk.engine.comms.templates import (
    HTML_CHANNELS,
    TemplateError,
    TemplateKey,
    TemplateStore,
)

DPI = 200


@dataclass
class Report:
    """Problems (exit 1) and notes (said, not failed) of the GiroCode check."""

    problems: list[Problem]
    notes: list[str]
    checked: int = 0  # messages whose code was read back and agreed


def _compare(
    file: str, codes: list[girocode.Payment], ctx: dict[str, Any], asks: bool
) -> list[Problem]:
    """What is wrong with the codes read from one message, given what it says."""
    creditor, language = ctx["creditor"], ctx["language"]
    if not codes:
        if asks and ctx["girocodes"].reason is None:
            return [
                Problem(
                    file,
                    "girocode",
                    "the message asks for money (it names the IBAN) but carries no "
                    "GiroCode: write {{ m.pay() }} or {{ m.girocode() }}",
                )
            ]
        return []
    if ctx["girocodes"].reason is not None:
        return [Problem(file, "girocode", f"a GiroCode although {ctx['girocodes'].reason}")]
    problems = []
    amount = sum((c.amount for c in codes), Decimal("0.00"))
    want = ctx["totals"]["balance"]
    if amount != want:
        problems.append(
            Problem(
                file,
                "girocode",
                f"the GiroCode asks for {formatting.money(amount, language)}, the letter's "
                f"open amount is {formatting.money(want, language)}",
            )
        )
    texts = " ".join(c.text for c in codes)
    if len(codes) == 1 and texts != ctx["reference"]:
        problems.append(
            Problem(
                file,
                "girocode",
                f"the GiroCode's remittance text is {texts!r}, the letter's reference "
                f"{ctx['reference']!r}",
            )
        )
    expected = (girocode.payee_name(creditor), creditor.iban.replace(" ", ""), creditor.bic)
    for code in codes:
        if (code.name, code.iban, code.bic) != expected:
            problems.append(
                Problem(
                    file,
                    "girocode",
                    f"the GiroCode pays {code.name} {code.iban} {code.bic}, not the "
                    f"creditor {' '.join(expected)}",
                )
            )
    return problems


def _asks(text: str, ctx: dict[str, Any]) -> bool:
    iban = ctx["creditor"].iban
    return bool(iban) and iban in " ".join(text.split())


def check_girocodes(store: TemplateStore, settings: Settings) -> Report:
    """Render, draw and read back every letter and e-mail template's code."""
    report = Report([], [])
    letters: list[tuple[TemplateKey, dict[str, Any], bool, Letter]] = []
    for key in store.keys():
        if key.channel not in HTML_CHANNELS or key.language not in formatting.LOCALES:
            continue
        ctx = probe_context(key.name, key.language, key.channel, key.tone, settings=settings)
        try:
            rendered = store.render(key, ctx)
        except TemplateError:
            continue  # `check_template` reports it
        asks = _asks(rendered.text, ctx)
        if key.channel == "email":
            _, images = girocode.inline_images(rendered.html or "", settings.creditor)
            codes = [code for _, png in images for code in girocode.read_png(png)]
            _record(report, key, codes, ctx, asks)
            continue
        letter = Letter(
            settings.creditor,
            ctx["recipient"].lines,
            rendered.subject,
            rendered.html or rendered.text,
            ctx["letter_date"],
            key.language,
            ctx["customer"].number,
            ctx["reference"],
        )
        letters.append((key, ctx, asks, letter))
    for (key, ctx, asks, _), pdf in zip(
        letters, letters_pdf_each([x[3] for x in letters]), strict=True
    ):
        codes = [code for page in girocode.read_pdf(pdf, DPI) for code in page]
        _record(report, key, codes, ctx, asks)
    reason = unavailable_reason(settings)
    if reason:
        report.notes.append(f"GiroCode: none on any letter or e-mail: {reason}")
    name = settings.creditor.name
    if reason is None and girocode.payee_name(settings.creditor) != " ".join(name.split()):
        report.notes.append(
            f"GiroCode: the creditor's name is longer than {girocode.MAX_NAME} characters; "
            f"codes carry {girocode.payee_name(settings.creditor)!r} (the bank compares it "
            "with the account holder)"
        )
    return report


def unavailable_reason(settings: Settings) -> str | None:
    return girocode.unavailable(settings.creditor, (girocode.CURRENCY,), girocode.CENT)


def _record(
    report: Report,
    key: TemplateKey,
    codes: list[girocode.Payment],
    ctx: dict[str, Any],
    asks: bool,
) -> None:
    problems = _compare(key.filename, codes, ctx, asks)
    report.problems.extend(problems)
    if codes and not problems:
        report.checked += 1
    elif not codes and not asks and ctx["girocodes"].reason is None:
        report.notes.append(f"{key.filename}: no GiroCode: the message asks for no money")


__all__ = ["DPI", "Report", "check_girocodes"]
