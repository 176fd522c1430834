"""MT940 (SWIFT customer statement) as `BankEntry`s, via the `mt-940` package.

The package parses the tags (`:25:` account, `:28C:` statement number, `:61:` statement
line with amount, credit/debit mark and dates) but is lenient on purpose: it guesses a
date for "30 February" and quietly keeps an account line found in the middle of the
transactions.  A payment import must not guess, so this module first walks the file
itself, remembers the line of every tag, checks the order of tags and the `:61:` dates,
and names file and line for anything wrong; only then does it hand each statement to the
package.

The German `:86:` field (DK Anlage 3) is split here too: `GVC?00posting text?20…?29
remittance?30 bank?31 IBAN?32…?33 name?34 return reason?60…?63 more remittance`, lines
joined without a separator (the 65-character wrap falls inside words).  Other banks'
free-text `:86:` is kept as it is, lines joined by spaces.  Files are decoded as UTF-8,
else ISO-8859-1 (German banks use both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import mt940

from mahnwerk.engine.bank.camt import RETURN_GVCS
from mahnwerk.engine.bank.entries import BankEntry, Kind, StatementError, check_balance

_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):")
# Tags of MT940 (and MT942, to recognise it); anything else at a line start, such as
# ":12:" inside a wrapped remittance line, is text.
_KNOWN_TAGS = frozenset(
    "13 13D 20 21 25 25P 28 28C 34F 60F 60M 61 62F 62M 64 65 86 90C 90D NS".split()
)
_MT942_TAGS = frozenset({"13", "13D", "34F", "90C", "90D"})
_CONTROL = re.compile(r"[\x00\x02\x04-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RETURN_WORDS = re.compile(
    r"RETOURE|R(?:UE|Ü)CKLASTSCHRIFT|R(?:UE|Ü)CKBELASTUNG|R(?:UE|Ü)CK(?:UE|Ü)BERWEISUNG", re.I
)
_SEPA_KEYS = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE)\+|(MTLG):")
# Tags a statement may hold after its last :61:.
_TRAILER_TAGS = frozenset({"62F", "62M", "64", "65", "86", "NS"})


@dataclass
class _Line:
    """A `:61:` statement line with the `:86:` that follows it."""

    line: int
    value: str
    details: list[str] = field(default_factory=list)


@dataclass
class _Statement:
    line: int
    text: list[str] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)
    has_account: bool = False
    tags: dict[str, int] = field(default_factory=dict)  # first line of each tag
    last: int = 0  # the statement's last line


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")
    # SWIFT transmissions frame each message with SOH ... ETX; they are not content.
    text = text.replace("\x01", "").replace("\x03", "")
    if m := _CONTROL.search(text):
        line = text.count("\n", 0, m.start()) + 1
        raise StatementError(
            path,
            f"control character {m.group()!r} in the file",
            "the file is damaged or not a text statement; download it again",
            line,
        )
    return text


def _split(path: Path, text: str) -> list[_Statement]:
    """Statements (from one `:20:` to the next) with the line of each tag, order checked."""
    statements: list[_Statement] = []
    current: _Statement | None = None
    last_tag = ""
    seen_61 = False
    details_open = False
    for number, raw in _lines(text):
        line = raw.rstrip()
        if line in ("-", "-}") or line.startswith("{") or (not line and current is None):
            continue
        tag_match = _tag_of(path, line, number)
        tag = tag_match.group(1) if tag_match else ""
        if tag == "20":
            current = _Statement(number)
            statements.append(current)
            seen_61 = False
        if current is None:
            _before_first(path, line, tag, number)
            continue
        current.text.append(raw)
        current.last = number
        if not tag:
            if details_open:
                current.lines[-1].details.append(line)
            elif last_tag == "61" and current.lines:
                current.lines[-1].value += line
            continue
        value = line[tag_match.end() :] if tag_match else line
        current.tags.setdefault(tag, number)
        if tag == "25":
            current.has_account = True
        if tag == "61":
            if not current.has_account:
                raise StatementError(
                    path, ":61: before the account line :25:", "the statement is incomplete", number
                )
            current.lines.append(_Line(number, value))
            seen_61 = True
        elif tag == "86" and seen_61 and last_tag == "61":
            current.lines[-1].details.append(value)
        elif seen_61 and tag not in _TRAILER_TAGS:
            raise StatementError(
                path,
                f":{tag}: after the transactions began (line {current.lines[-1].line})",
                "a statement has its header (:20:, :25:, :28C:, :60F:) before the first :61:; "
                "the file is damaged",
                number,
            )
        details_open = tag == "86" and seen_61 and last_tag == "61"
        last_tag = tag
    if not statements or not any(s.lines or s.has_account for s in statements):
        raise StatementError(
            path,
            "no MT940 statement in the file (no :20: … :25: … :61: tags)",
            "export the statement as MT940 or camt.053 from online banking",
            1,
        )
    return statements


def _before_first(path: Path, line: str, tag: str, number: int) -> None:
    """A line before the first `:20:`: only blank lines and `:NS:` may come there."""
    if line.strip() and tag not in ("", "NS"):
        raise StatementError(
            path,
            f"tag :{tag}: before the first :20: (start of a statement)",
            "the file is cut off at the start; download it again",
            number,
        )


def _tag_of(path: Path, line: str, number: int) -> re.Match[str] | None:
    """The line's known tag (`:61:` …), None for a continuation line; an MT942 is refused."""
    tag_match = _TAG.match(line)
    if tag_match and tag_match.group(1) not in _KNOWN_TAGS:
        return None
    if tag_match and tag_match.group(1) in _MT942_TAGS:
        raise StatementError(
            path,
            f"this is an MT942 interim report (tag :{tag_match.group(1)}:), not a booked statement",
            "import the MT940 end-of-day statement for the same day",
            number,
        )
    return tag_match


def _lines(text: str) -> list[tuple[int, str]]:
    """Numbered lines; a tag broken after its colon (`:` / `86:…`, seen in the wild) is rejoined."""
    raw = text.splitlines()
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(raw):
        line = raw[i]
        if line.strip() == ":" and i + 1 < len(raw) and re.match(r"^(\d{2}[A-Z]?|NS):", raw[i + 1]):
            out.append((i + 1, ":" + raw[i + 1]))
            i += 2
            continue
        out.append((i + 1, line))
        i += 1
    return out


def _check_date(path: Path, entry: _Line) -> None:
    digits = entry.value[:6]
    try:
        date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        raise StatementError(
            path,
            f":61: value date {digits!r} is no such day",
            "the first six digits of :61: are YYMMDD; the bank's export is wrong",
            entry.line,
        ) from None


def _details(lines: list[str]) -> dict[str, str]:
    """Split a `:86:` field: DK-structured (`166?00…?20…`) or free text."""
    joined = "".join(lines).lstrip()
    m = re.match(r"^(\d{3})(.)", joined)
    if not m or m.group(2).isalnum():
        return {"remittance": " ".join(" ".join(lines).split())}
    sep = m.group(2)
    fields: dict[str, list[str]] = {}
    for part in joined[3:].split(sep)[1:]:
        fields.setdefault(part[:2], []).append(part[2:])

    def get(*keys: str) -> str:
        return "".join(v for k in keys for v in fields.get(k, []))

    remittance = get(*(str(n) for n in range(20, 30)), "60", "61", "62", "63")
    eref = ""
    if e := re.search(
        r"EREF\+(.*?)(?=(?:KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE)\+|MTLG:|$)", remittance
    ):
        eref = e.group(1).strip()
        if eref.upper() == "NOTPROVIDED":
            eref = ""
    return {
        "gvc": m.group(1),
        "posting_text": get("00"),
        "remittance": " ".join(_SEPA_KEYS.sub(lambda k: f" {k.group()}", remittance).split()),
        "iban": get("31").replace(" ", "").upper(),
        "name": " ".join(get("32", "33").split()),
        "return_reason": get("34"),
        "eref": eref,
    }


def read_mt940(path: Path, data: bytes) -> list[BankEntry]:
    """All entries of an MT940 file, each with the line of its `:61:`."""
    text = _decode(path, data)
    entries: list[BankEntry] = []
    for statement in _split(path, text):
        for entry in statement.lines:
            _check_date(path, entry)
        try:
            parsed = mt940.parse("\n".join(statement.text))
        except (RuntimeError, ValueError, KeyError, IndexError, ArithmeticError, TypeError) as exc:
            raise StatementError(
                path,
                f"cannot read the statement starting here: {exc.args[0] if exc.args else exc}",
                "the bank's export is damaged; download it again",
                statement.line,
            ) from None
        transactions = parsed.transactions
        if len(transactions) != len(statement.lines):
            raise StatementError(
                path,
                f"{len(statement.lines)} :61: lines but {len(transactions)} transactions read",
                "the statement is damaged",
                statement.line,
            )
        account = _account(str(parsed.data.get("account_identification") or ""))
        if not account:
            raise StatementError(path, "statement without an account (:25:)", "", statement.line)
        number = "/".join(
            str(parsed.data.get(k) or "")
            for k in ("transaction_reference", "statement_number", "sequence_number")
        )
        _check_complete(path, statement, parsed.data, transactions, number)
        for seq, (line, tx) in enumerate(zip(statement.lines, transactions, strict=True), 1):
            entries.append(_entry(path, account, number, seq, line, tx.data, parsed.currency))
    return entries


_BLZ_ACCOUNT = re.compile(r"^(\d{8})/(\d{1,10})(?:[A-Z]{3})?$")


def _account(raw: str) -> str:
    """`:25:` as an IBAN where it is a German `BLZ/Kontonummer`, so an MT940 and a camt.053
    of the same account name the same account (and their bookings are recognised as one)."""
    account = raw.replace(" ", "").upper()
    if m := _BLZ_ACCOUNT.match(account):
        bban = m.group(1) + m.group(2).zfill(10)
        check = 98 - int(bban + "131400") % 97  # ISO 7064 mod 97-10, "DE00" moved to the end
        return f"DE{check:02d}{bban}"
    return account


#: Sign of a `:61:` amount by its mark: C credit, D debit, RC reversal of a credit, RD of a debit.
_SIGN = {"C": 1, "D": -1, "RC": -1, "RD": 1}


def _balance(data: dict[str, object], *keys: str) -> Decimal | None:
    for key in keys:
        amount = getattr(getattr(data.get(key), "amount", None), "amount", None)
        if isinstance(amount, Decimal):
            return amount
    return None


def _check_complete(
    path: Path, statement: _Statement, data: dict[str, object], transactions: object, number: str
) -> None:
    """Opening balance, entries and closing balance must add up, or nothing is imported."""
    opening = _balance(data, "final_opening_balance", "intermediate_opening_balance")
    closing = _balance(data, "final_closing_balance", "intermediate_closing_balance")
    if opening is None:
        raise StatementError(
            path,
            f"statement {number} has no opening balance (:60F: or :60M:)",
            "a complete MT940 statement has :60F: before its entries; download it again",
            statement.line,
        )
    if closing is None:
        raise StatementError(
            path,
            f"statement {number} (from line {statement.line}) ends without its closing balance "
            "(:62F: or :62M:): the file is cut off",
            "download the complete statement from online banking again",
            statement.last,
        )
    movements = Decimal(0)
    for tx in transactions:  # type: ignore[attr-defined]
        amount = getattr(tx.data.get("amount"), "amount", Decimal(0))
        movements += _SIGN.get(str(tx.data.get("status") or ""), 1) * abs(amount)
    close_tag = "62F" if "62F" in statement.tags else "62M"
    open_tag = "60F" if "60F" in statement.tags else "60M"
    check_balance(
        path,
        number,
        opening,
        closing,
        movements,
        statement.tags.get(close_tag, statement.last),
        (f":{open_tag}:", f":{close_tag}:"),
    )


def _entry(
    path: Path,
    account: str,
    statement: str,
    seq: int,
    line: _Line,
    data: dict[str, object],
    currency: str | None,
) -> BankEntry:
    amount_obj = data.get("amount")
    raw_amount = getattr(amount_obj, "amount", None)
    if not isinstance(raw_amount, Decimal):
        raise StatementError(path, ":61: without an amount", "", line.line)
    amount = abs(raw_amount)
    if amount != amount.quantize(Decimal("0.01")):
        raise StatementError(path, f":61: amount {amount} is not in cents", "", line.line)
    status = str(data.get("status") or "")
    details = _details(line.details)
    gvc = details.get("gvc") or str(data.get("transaction_code") or "")
    posting = details.get("posting_text", "")
    kind: Kind
    if gvc in RETURN_GVCS or _RETURN_WORDS.search(posting or ""):
        kind = "return"
    elif status in ("RC", "RD"):
        kind = "reversal"
    elif status == "C":
        kind = "credit"
    elif status == "D":
        kind = "debit"
    else:
        raise StatementError(path, f":61: credit/debit mark {status!r} unknown", "", line.line)
    booked = data.get("entry_date") or data.get("date")
    value_date = data.get("date")
    bank_ref = str(data.get("bank_reference") or "")
    customer_ref = str(data.get("customer_reference") or "")
    remittance = details["remittance"]
    if customer_ref and customer_ref.upper() != "NONREF" and customer_ref not in remittance:
        remittance = f"{remittance} {customer_ref}".strip()
    return BankEntry(
        account=account,
        statement=statement,
        booked_on=date(booked.year, booked.month, booked.day),  # type: ignore[union-attr]
        value_date=date(value_date.year, value_date.month, value_date.day)  # type: ignore[union-attr]
        if value_date
        else None,
        amount=amount.quantize(Decimal("0.01")),
        currency=str(getattr(amount_obj, "currency", None) or currency or "EUR").upper(),
        direction="C" if status in ("C", "RD") else "D",
        kind=kind,
        remittance=remittance,
        counterparty_name=details.get("name", ""),
        counterparty_iban=details.get("iban", ""),
        end_to_end_id=details.get("eref", ""),
        entry_ref=bank_ref if bank_ref.upper() != "NONREF" else "",
        bank_code=";".join(c for c in (gvc, posting) if c),
        line=line.line,
        seq=seq,
        source=f"line {line.line}",
    )


__all__ = ["read_mt940"]
