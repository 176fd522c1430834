"""Checks a template must pass before it may go to a customer (rules B3 and E1).

A template is checked by rendering it with a *probe*: a made-up message whose
every fact is distinctive (a creditor "Prüf-Gläubigerin GmbH", a contract
dated 03.02.2026, interest at 9,27 % from 16.04.2026 to 29.05.2026 on
1.234,56 € …) and then looking for each fact in the output.  That catches a
missing element however the template is written — a variable left out, an
`{% if %}` that hides it, a layout that drops a block — which reading the
template source could not.

Public functions (the BDD scenarios call these):

* `check_collection_letter(source, language="de")` → the § 13a RDG elements
  (B3) a first collection letter's template text misses; empty if complete.
* `debt_words(subject, language=None)` → the debt words (E1) in a subject line.
* `check_subject(subject, language)` → problems of an e-mail subject (E1).
* `check_envelope(settings)` → problems of what shows through the window (E1).
* `check_store(store, settings)` → every problem of every template: syntax,
  missing variables, E1 subjects, B3 for collection letters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mahnwerk.engine.comms import formatting
from mahnwerk.engine.comms.config import Collection, Creditor, Settings, parse_settings
from mahnwerk.engine.comms.context import (
    COST_REASONS,
    CostLine,
    CustomerFacts,
    InterestLine,
    InvoiceFacts,
    build_context,
)
from mahnwerk.engine.comms.templates import TemplateError, TemplateKey, TemplateStore

#: Templates that announce or make the first collection demand (§ 13a RDG applies).
COLLECTION_TEMPLATES = frozenset({"inkasso_ankuendigung"})
COLLECTION_PREFIXES = ("inkasso", "collection", "uebergabe", "handover")

#: E1: words that reveal a debt to whoever sees a subject line or an envelope.
DEBT_WORDS = {
    "de": (
        "mahnung",
        "gemahnt",
        "mahnbescheid",
        "zahlungserinnerung",
        "zahlungsaufforderung",
        "inkasso",
        "schulden",
        "schuldner",
        "forderung",
        "rückstand",
        "rückständig",
        "überfällig",
        "säumig",
        "verzug",
        "vollstreckung",
        "gericht",
        "letzte",
        "offener betrag",
        "offene posten",
        "pfändung",
    ),
    "en": (
        "reminder",
        "overdue",
        "debt",
        "debtor",
        "dunning",
        "collection",
        "arrears",
        "default",
        "final notice",
        "demand",
        "late payment",
        "outstanding",
        "unpaid",
        "court",
        "bailiff",
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: `file: rule: message`."""

    file: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.rule}: {self.message}"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def debt_words(subject: str, language: str | None = None) -> list[str]:
    """The debt words in a subject line (E1), in both languages unless one is given."""
    folded = _fold(subject)
    languages = [language] if language in DEBT_WORDS else list(DEBT_WORDS)
    found = []
    for lang in languages:
        for word in DEBT_WORDS[lang]:
            if re.search(r"(?<!\w)" + re.escape(word), folded):
                found.append(word)
    return found


def check_subject(subject: str, language: str, file: str = "<subject>") -> list[Problem]:
    """E1: an e-mail subject must not tell a colleague or family member about a debt."""
    words = debt_words(subject, language)
    if not words:
        return []
    return [
        Problem(
            file,
            "E1",
            f"subject {subject!r} reveals a debt ({', '.join(words)}); "
            "write a neutral subject such as 'Ihre Rechnung 4711' / 'Your invoice 4711'",
        )
    ]


def check_creditor(settings: Settings) -> list[Problem]:
    """What every letter must say about the sender, by legal form (`legal.missing`): the
    register details of § 35a GmbHG, §§ 37a, 125a HGB, § 80 AktG, and a phone number and
    e-mail address for the customer.  Each problem names the missing key."""
    from mahnwerk.engine.comms.legal import missing

    return [Problem(settings.path, "sender", str(gap)) for gap in missing(settings.creditor)]


def check_envelope(settings: Settings) -> list[Problem]:
    """E1: the return line in the address window shows only the creditor's name and address."""
    words = debt_words(settings.creditor.address_line)
    if not words:
        return []
    return [
        Problem(
            settings.path,
            "E1",
            f"the return address {settings.creditor.address_line!r}"
            f" shows through the envelope window and reveals a debt ({', '.join(words)})",
        )
    ]


# ---------------------------------------------------------------------------
# The probe
# ---------------------------------------------------------------------------

PROBE_CREDITOR = Creditor(
    name="Prüf-Gläubigerin GmbH",
    street="Probestraße 17",
    postal_code="04109",
    city="Leipzig",
    country="DE",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    bank="Commerzbank",
    email="konto@pruef.example",
    phone="0341 123456",
    payment_link="https://pay.example/{reference}",
    legal_form="GmbH",
    seat="Leipzig",
    register_court="Amtsgericht Leipzig",
    register_number="HRB 4711",
    managing_directors=("Paula Prüfer",),
)
PROBE_COLLECTION = Collection(
    agency="Prüf-Inkasso AG",
    address="Einzugsweg 5, 80331 München",
    supervisory_authority="Bundesamt für Justiz, 53113 Bonn",
    registered_as="Rechtsdienstleistungsregister Nr. 4711",
    vat_deductible=False,
)


def probe_settings(neutral_subjects: bool = True) -> Settings:
    from mahnwerk.engine.comms.config import Delivery

    return Settings(
        "<probe>", PROBE_CREDITOR, PROBE_COLLECTION, Delivery(neutral_subjects=neutral_subjects)
    )


def probe_context(
    name: str,
    language: str,
    channel: str,
    tone: str | None = None,
    settings: Settings | None = None,
    business: bool = False,
    deceased: bool = False,
) -> dict[str, Any]:
    """A made-up message with distinctive facts, for checks and previews without a database."""
    return build_context(
        settings=settings or probe_settings(),
        customer=_probe_customer(language, business, deceased),
        invoices=[_probe_invoice(language)],
        template=name,
        channel=channel,
        language=language,
        tone=tone,
        letter_date=date(2026, 6, 1),
        state="inkasso",
        offers=["offer payment plan of 6 instalments"],
    )


def _probe_invoice(language: str) -> InvoiceFacts:
    label, reason = COST_REASONS.get(language, COST_REASONS["de"])["fee"]
    return InvoiceFacts(
        id=1,
        number="PR-2026-0815",
        issue_date=date(2026, 2, 3),
        due_date=date(2026, 4, 15),
        amount=Decimal("1234.56"),
        currency="EUR",
        state="inkasso",
        principal=Decimal("1234.56"),
        fees=Decimal("2.00"),
        interest=Decimal("13.79"),
        costs=(CostLine("fee", label, reason, Decimal("2.00"), date(2026, 5, 29)),),
        interest_lines=(
            InterestLine(
                date(2026, 4, 16),
                date(2026, 5, 29),
                44,
                Decimal("9.27"),
                Decimal("1234.56"),
                Decimal("13.79"),
                False,
            ),
        ),
        # issue 19: the facts a Skonto letter names (a 2 % Skonto paid two days late)
        deduction={
            "kind": "skonto",
            "percent": Decimal("2.00"),
            "days": 14,
            "last_day": date(2026, 2, 17),
            "paid": Decimal("1209.87"),
            "paid_on": date(2026, 2, 19),
            "deducted": Decimal("24.69"),
            "rule": None,
        },
    )


def _probe_customer(language: str, business: bool, deceased: bool) -> CustomerFacts:
    return CustomerFacts(
        id=1,
        number="K-0042",
        name="Erika Mustermann",
        type="B2B" if business else "B2C",
        email="erika@example.org",
        phone="+4915100000000",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        country="DE",
        language=language,
        opted_out=frozenset(),
        deceased_since=date(2026, 5, 1) if deceased else None,
    )


def _collection_elements(ctx: dict[str, Any], language: str) -> list[tuple[str, list[str]]]:
    """(element of § 13a RDG, texts that must all appear) for the probe message."""
    c, col = ctx["creditor"], ctx["collection"]
    inv = ctx["invoices"][0]
    line = ctx["interest_lines"][0]
    cost = ctx["costs"][0]
    de = language == "de"
    elements = [
        ("creditor's name", [c.name]),
        ("creditor's address", [c.street, f"{c.postal_code} {c.city}"]),
        ("the contract (invoice number)", [inv.number]),
        ("the contract's date", [formatting.day(inv.issue_date, language)]),
        ("interest: principal", [formatting.money(line.principal, language)]),
        ("interest: rate", [formatting.percent(line.rate, language)]),
        (
            "interest: period",
            [formatting.day(line.period_from, language), formatting.day(line.period_to, language)],
        ),
        ("costs: type", [cost.label]),
        ("costs: amount", [formatting.money(cost.amount, language)]),
        ("costs: reason", [cost.reason]),
        (
            "whether the address was traced",
            ["Anschrift", "ermittelt"] if de else ["address", "traced"],
        ),
        ("the supervisory authority", [col.supervisory_authority]),
    ]
    if not col.vat_deductible:
        elements.append(
            (
                "VAT statement (creditor cannot deduct it)",
                ["Umsatzsteuer", "Vorsteuer"] if de else ["VAT", "deduct"],
            )
        )
    return elements


def missing_collection_elements(text: str, ctx: dict[str, Any], language: str) -> list[str]:
    """The § 13a RDG elements whose facts do not appear in a rendered letter (B3)."""
    flat = " ".join(text.split())
    return [
        element
        for element, needles in _collection_elements(ctx, language)
        if not all(" ".join(n.split()) in flat for n in needles)
    ]


def is_collection_template(name: str) -> bool:
    return name in COLLECTION_TEMPLATES or name.startswith(COLLECTION_PREFIXES)


def check_collection_letter(
    source: str,
    language: str = "de",
    name: str = "inkasso_ankuendigung",
    store: TemplateStore | None = None,
) -> list[str]:
    """B3: which § 13a RDG elements a first collection letter's template misses.

    `source` is the template text (it may extend the shipped layouts); the
    result is empty when the letter names the creditor and address, the
    contract and its date, the interest with principal, rate and period, each
    cost's type, amount and reason, whether the address was traced, the
    supervisory authority and (for a creditor who cannot deduct VAT) the VAT
    statement.  A template that does not render at all raises `TemplateError`.
    """
    store = store or TemplateStore()
    ctx = probe_context(name, language, "letter")
    subject, body = store.render_source(source, ctx, name=f"{name}.{language}.letter.j2")
    return missing_collection_elements(subject + "\n" + body, ctx, language)


def check_store(store: TemplateStore, settings: Settings | None = None) -> list[Problem]:
    """Every problem of every template in the store (rules B3, E1, and rendering)."""
    settings = settings or probe_settings()
    neutral = settings.delivery.neutral_subjects
    problems: list[Problem] = []
    for key in store.keys():
        problems.extend(check_template(store, key, neutral))
    if settings.path != "<probe>":
        problems.extend(check_creditor(settings))
    if neutral and settings.path != "<probe>":
        problems.extend(check_envelope(settings))
    return problems


def check_template(
    store: TemplateStore, key: TemplateKey, neutral_subjects: bool = True
) -> list[Problem]:
    """One template: renders for consumers, businesses and heirs; E1 subject; B3 content."""
    file = key.filename
    if key.language not in formatting.LOCALES:
        return [Problem(file, "language", f"no locale for {key.language!r}")]
    problems: list[Problem] = []
    rendered = None
    for business, deceased in ((False, False), (True, False), (False, True)):
        ctx = probe_context(
            key.name, key.language, key.channel, key.tone, business=business, deceased=deceased
        )
        try:
            rendered = store.render(key, ctx)
        except TemplateError as exc:
            return [
                Problem(
                    exc.file,
                    "render",
                    f"line {exc.line}: {exc.message}" if exc.line else exc.message,
                )
            ]
        first_line = rendered.text.split("\n")[0]
        if deceased and key.channel != "call" and ctx["customer"].name in first_line:
            problems.append(Problem(file, "C6", "the salutation names the deceased"))
    assert rendered is not None
    if key.channel == "email" and not rendered.subject:
        problems.append(Problem(file, "subject", "an e-mail needs {% block subject %}"))
    if key.channel == "email" and neutral_subjects:
        problems.extend(check_subject(rendered.subject, key.language, file))
    if key.channel == "sms":
        problems.extend(check_sms_length(store, key))
    if key.channel == "letter" and is_collection_template(key.name):
        ctx = probe_context(key.name, key.language, key.channel, key.tone)
        text = store.render(key, ctx)
        for element in missing_collection_elements(
            text.subject + "\n" + text.text, ctx, key.language
        ):
            problems.append(Problem(file, "B3", f"§ 13a RDG: the letter does not state {element}"))
    return problems


#: The longest portal link a message carries: a base address and the 35-character token.
PROBE_PORTAL_LINK = "https://kunden.example.com/p/Ab3dEf6hIj9k.QrStUvWxYz0123456789ab"


def check_sms_length(store: TemplateStore, key: TemplateKey) -> list[Problem]:
    """An SMS template must fit `sms.MAX_SEGMENTS` parts with the portal link in it."""
    from mahnwerk.engine.comms.sms import MAX_SEGMENTS, segments

    ctx = probe_context(key.name, key.language, key.channel, key.tone)
    ctx["portal_link"] = PROBE_PORTAL_LINK
    text = store.render(key, ctx).text.strip()
    if segments(text) <= MAX_SEGMENTS:
        return []
    return [
        Problem(
            key.filename,
            "sms_length",
            f"with a portal link the SMS takes {segments(text)} parts ({len(text)} characters); "
            f"at most {MAX_SEGMENTS}: shorten the text",
        )
    ]


__all__ = [
    "PROBE_PORTAL_LINK",
    "Problem",
    "check_collection_letter",
    "check_creditor",
    "check_envelope",
    "check_store",
    "check_sms_length",
    "check_subject",
    "check_template",
    "debt_words",
    "missing_collection_elements",
    "parse_settings",
    "probe_context",
]
