"""Payment terms on an invoice: Skonto tiers, discounts a policy offered, and the net due date.

German B2B invoices say "2 % Skonto bei Zahlung innerhalb von 7 Tagen, netto 30 Tage".  The
net due date is the invoice's `due_date` — default and interest (A1–A6) run from it, never
from a Skonto date.  The Skonto tiers are kept beside it, as a frozen value
(`Tier`, days counted from the issue date as XRechnung's `#SKONTO#TAGE=7#PROZENT=2.00#` and
the trade count them), stored as JSON in `invoice.skonto_terms`.  A discount a policy
offers (`offer discount 2 % until 7d after due`) is an `Offered` term on the invoice's
record: it has a fixed last day and the policy line that made it.

This module is pure (no database, no clock): `still_applying` says which terms a payment
on a given day can still use — the letter, the portal and the payment matching all ask it,
so they never disagree — and `match_payment` decides whether a payment earned one of them,
deducted one it was no longer entitled to, or neither.

When a payment is in time (A9): between businesses the money must be *credited* by the
last day; for a consumer a timely transfer order suffices, which mahnwerk cannot see, so a
credit within the A9 transit grace (three TARGET2 days, or the policy's `payment grace`)
after the last day still counts as in time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from mahnwerk.engine.money import CENT, cents

#: The default tolerance a payment may differ from the amount less the discount (in EUR).
DEFAULT_TOLERANCE = Decimal("0.05")
#: The Skonto letter sent for a discount deducted too late, unless the policy names another.
DEFAULT_DEDUCTION_TEMPLATE = "skonto_nachforderung"
#: At most this many Skonto tiers per invoice (CSV columns `Skonto 1 …` to `Skonto 3 …`).
MAX_TIERS = 3

_SKONTO = re.compile(r"#SKONTO#", re.IGNORECASE)
_FIELD = re.compile(r"([A-Z]+)=([^#]*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Tier:
    """One Skonto tier: `percent` off when paid within `days` of the issue date.

    `base` is XRechnung's BASISBETRAG: the amount the percentage applies to when it is not
    the whole invoice (e.g. only the goods, not the freight); None: the invoice amount.
    """

    days: int
    percent: Decimal
    base: Decimal | None = None

    def last_day(self, issue_date: date) -> date:
        return issue_date + timedelta(days=self.days)

    def as_dict(self) -> dict[str, object]:
        return {
            "days": self.days,
            "percent": str(self.percent),
            "base": None if self.base is None else str(self.base),
        }


@dataclass(frozen=True, slots=True)
class Offered:
    """A discount a policy offered on `offered_on`: `percent` off if paid by `until`."""

    until: date
    percent: Decimal
    rule: str  # the policy line (`policy.mahn:42`) that made the offer
    offered_on: date


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """What an invoice says about payment: its Skonto tiers and the net due date."""

    issue_date: date
    net_due: date
    tiers: tuple[Tier, ...] = ()

    def tier_days(self) -> tuple[date, ...]:
        return tuple(t.last_day(self.issue_date) for t in self.tiers)


@dataclass(frozen=True, slots=True)
class Term:
    """A term as one payment sees it: the last day, the discount in money, what to pay.

    `kind` is the ledger kind its discount is booked as: `skonto` (the invoice's own terms)
    or `discount` (an incentive the policy offered, `rule` citing its line).
    """

    kind: str
    last_day: date
    percent: Decimal
    discount: Decimal
    pay: Decimal
    rule: str | None = None
    days: int | None = None

    def describe(self) -> str:
        """For the audit trail: `Skonto 2 % (7 Tage, bis 2016-07-04)`."""
        name = "Skonto" if self.kind == "skonto" else "Nachlass"
        days = f"{self.days} Tage, " if self.days is not None else ""
        return f"{name} {_percent(self.percent)} % ({days}bis {self.last_day.isoformat()})"


def _percent(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


class TermError(ValueError):
    """A payment term that cannot be read; `line` is its line within the terms' text (1-based)."""

    def __init__(
        self, message: str, hint: str, line: int = 0, text: str = "", part: str = ""
    ) -> None:
        super().__init__(message)
        self.message, self.hint, self.line, self.text = message, hint, line, text
        self.part = part  # which CSV cell of a tier: days, percent or base


# ---------------------------------------------------------------------------
# Reading terms: XRechnung BT-20, CSV cells, the stored JSON
# ---------------------------------------------------------------------------


def _decimal(text: str, what: str, example: str, line: int, raw: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise TermError(
            f"{what} {text.strip()!r} is not a number", f"write it like {example}", line, raw
        ) from None
    if not value.is_finite():
        raise TermError(f"{what} {text.strip()!r} is not a number", f"write {example}", line, raw)
    return value


def parse_bt20(text: str | None) -> tuple[Tier, ...]:
    """The Skonto tiers of an e-invoice's payment terms (BT-20), in the order written.

    XRechnung writes one tier a line: `#SKONTO#TAGE=7#PROZENT=2.00#`, optionally
    `BASISBETRAG=123.45#`.  Other lines (free text, `#VERZUG#`) are not Skonto and stay in
    the verbatim text; a `#SKONTO#` line that cannot be read raises `TermError` naming its
    line — a term is never dropped silently.
    """
    tiers: list[Tier] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not _SKONTO.match(line):
            continue
        tiers.append(_bt20_line(line, number))
    return tuple(tiers)


def _bt20_line(line: str, number: int) -> Tier:
    example = "#SKONTO#TAGE=7#PROZENT=2.00#"
    if not line.endswith("#"):
        raise TermError(
            f"Skonto line {line!r} does not end with '#'", f"write it like {example}", number, line
        )
    fields: dict[str, str] = {}
    for part in line[len("#SKONTO#") : -1].split("#"):
        found = _FIELD.fullmatch(part.strip())
        if found is None:
            raise TermError(
                f"Skonto line {line!r}: {part!r} is not KEY=VALUE",
                f"write it like {example}",
                number,
                line,
            )
        key = found.group(1).upper()
        if key in fields:
            raise TermError(f"Skonto line {line!r} gives {key} twice", "give it once", number, line)
        fields[key] = found.group(2)
    unknown = sorted(set(fields) - {"TAGE", "PROZENT", "BASISBETRAG"})
    if unknown:
        raise TermError(
            f"Skonto line {line!r}: unknown field {unknown[0]}",
            "XRechnung knows TAGE, PROZENT and BASISBETRAG",
            number,
            line,
        )
    for required in ("TAGE", "PROZENT"):
        if required not in fields:
            raise TermError(
                f"Skonto line {line!r} does not say {required}",
                f"write it like {example}",
                number,
                line,
            )
    if not fields["TAGE"].strip().isdigit():
        raise TermError(
            f"Skonto line {line!r}: TAGE={fields['TAGE']} is not a whole number of days",
            "write the days as digits, e.g. TAGE=14",
            number,
            line,
        )
    percent = _decimal(fields["PROZENT"], "PROZENT", "PROZENT=2.00", number, line)
    base = (
        _decimal(fields["BASISBETRAG"], "BASISBETRAG", "BASISBETRAG=100.00", number, line)
        if "BASISBETRAG" in fields
        else None
    )
    return make_tier(int(fields["TAGE"]), percent, base, number, line)


def make_tier(
    days: int, percent: Decimal, base: Decimal | None = None, line: int = 0, raw: str = ""
) -> Tier:
    """A checked tier: days ≥ 0, 0 ≤ percent < 100, a positive base with cents at most."""
    if days < 0:
        raise TermError(
            f"{days} Skonto days is negative", "count days from the issue date", line, raw
        )
    if not Decimal(0) <= percent < 100:
        raise TermError(
            f"Skonto of {percent} % is not a percentage below 100",
            "write the percentage like 2.00",
            line,
            raw,
        )
    if base is not None and (base <= 0 or base != base.quantize(CENT)):
        raise TermError(
            f"Skonto base amount {base} is not a positive amount in cents",
            "write it like 100.00",
            line,
            raw,
        )
    return Tier(days, percent, base)


def tiers_json(tiers: Iterable[Tier]) -> str | None:
    """The stored form (`invoice.skonto_terms`); None for an invoice without Skonto."""
    items = [t.as_dict() for t in tiers]
    return json.dumps(items) if items else None


def tiers_from_json(text: str | None) -> tuple[Tier, ...]:
    if not text:
        return ()
    return tuple(
        Tier(
            int(item["days"]),
            Decimal(item["percent"]),
            None if item.get("base") is None else Decimal(item["base"]),
        )
        for item in json.loads(text)
    )


def offers_json(offers: Iterable[Offered]) -> str | None:
    items = [
        [o.until.isoformat(), str(o.percent), o.rule, o.offered_on.isoformat()] for o in offers
    ]
    return json.dumps(items) if items else None


def offers_from_json(text: str | None) -> tuple[Offered, ...]:
    if not text:
        return ()
    return tuple(
        Offered(date.fromisoformat(u), Decimal(p), rule, date.fromisoformat(on))
        for u, p, rule, on in json.loads(text)
    )


# ---------------------------------------------------------------------------
# Which terms apply, and what a payment earned
# ---------------------------------------------------------------------------


def all_terms(
    issue_date: date,
    amount: Decimal,
    open_balance: Decimal,
    tiers: Iterable[Tier],
    offers: Iterable[Offered] = (),
) -> tuple[Term, ...]:
    """Every term of the invoice with its discount in money, by last day.

    The discount is the percentage of the tier's base (else of the invoice amount), to the
    cent; what settles the invoice is the open balance less it.  A tier of 0 % (XRechnung
    writes the net period so) grants nothing and is left out.
    """
    found: list[Term] = []
    for tier in tiers:
        if tier.percent <= 0:
            continue
        discount = cents((tier.base if tier.base is not None else amount) * tier.percent / 100)
        found.append(
            Term(
                "skonto",
                tier.last_day(issue_date),
                tier.percent,
                discount,
                open_balance - discount,
                None,
                tier.days,
            )
        )
    for offer in offers:
        discount = cents(amount * offer.percent / 100)
        found.append(
            Term(
                "discount",
                offer.until,
                offer.percent,
                discount,
                open_balance - discount,
                offer.rule,
            )
        )
    return tuple(sorted(found, key=lambda t: (t.last_day, -t.discount)))


def still_applying(terms: Iterable[Term], on: date) -> tuple[Term, ...]:
    """The terms a payment made on `on` can still use (their last day not passed)."""
    return tuple(t for t in terms if on <= t.last_day and t.discount > 0 and t.pay > 0)


@dataclass(frozen=True, slots=True)
class PaymentMatch:
    """What a payment did against the terms: `earned` a term, or deducted one `late`."""

    term: Term
    deducted: Decimal  # what the payment fell short of the open balance
    late: bool


def match_payment(
    terms: Iterable[Term],
    amount: Decimal,
    open_balance: Decimal,
    principal_open: Decimal,
    credited: date,
    deadline: dict[date, date],
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> PaymentMatch | None:
    """The term a payment of `amount` credited on `credited` used, if any.

    A payment that equals the open balance less a term's discount, within `tolerance`,
    used that term.  It earned it if it was credited by the term's `deadline` (its last
    day, or the A9 grace after it for consumers: `deadline[last_day]`); of several it
    earned the largest.  One that used only terms whose day had passed deducted late
    ("unberechtigter Skontoabzug").  A payment of the full balance, or one that matches
    no term, used none.  The deduction is never more than the principal still open.
    """
    short = open_balance - amount
    if amount <= 0 or short <= 0 or short > principal_open:
        return None
    used = [t for t in terms if t.discount > 0 and abs(short - t.discount) <= tolerance]
    earned = [t for t in used if credited <= deadline.get(t.last_day, t.last_day)]
    if earned:
        best = max(earned, key=lambda t: (t.discount, t.last_day))
        return PaymentMatch(best, short, late=False)
    if used:
        latest = max(used, key=lambda t: (t.last_day, t.discount))
        return PaymentMatch(latest, short, late=True)
    return None


def tier_from_cells(days: str, percent: str, base: str = "") -> Tier:
    """A tier from CSV cells (`Skonto 1 Tage`, `Skonto 1 Prozent`, `Skonto 1 Basis`).

    Percent may be written `2`, `2,00`, `2.5 %`; the base like any amount of the file.
    """
    days = days.strip()
    if not days.isdigit():
        raise TermError(
            f"Skonto days {days!r} is not a whole number of days",
            "write the days, e.g. 14",
            part="days",
        )
    text = percent.strip().rstrip("%").strip().replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        raise TermError(
            f"Skonto percent {percent.strip()!r} is not a percentage",
            "write e.g. 2,00",
            part="percent",
        )
    amount: Decimal | None = None
    if base.strip():
        from mahnwerk.engine.importer import CellError, parse_amount

        try:
            amount = parse_amount(base)
        except CellError as exc:
            raise TermError(exc.message, exc.hint, part="base") from None
    try:
        return make_tier(int(days), Decimal(text), amount)
    except TermError as exc:
        exc.part = "base" if "base" in exc.message else "percent"
        raise
