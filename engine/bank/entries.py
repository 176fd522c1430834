"""One booked line of a bank statement, whatever format it came in.

Every reader (`camt`, `swift`) turns its file into `BankEntry` values; matching and the
database only ever see these.  What an entry keeps is what a person needs to recognise
the money (who paid, what they wrote, which statement) and what the import needs to
recognise the same entry again: `key`, stable across re-imports of the same file.

`kind` sorts entries before anything is matched, because only a customer's credit
transfer can pay an invoice:

* `credit`   — money received (camt `CRDT`, MT940 `C`): a candidate payment;
* `debit`    — money paid out (`DBIT`, `D`): not ours to match, stored for completeness;
* `return`   — a returned payment or direct debit (camt return information or a return
  bank transaction code, MT940 GVC 108/109/159/… or a "RETOURE" posting text): never a
  payment; a person has to look at it (a returned direct debit means the invoice it
  collected is open again);
* `reversal` — a bank's correction of an earlier booking (camt `RvslInd`, MT940 `RC`/`RD`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from mahnwerk.errors import MahnwerkError

Kind = Literal["credit", "debit", "return", "reversal"]
CENT = Decimal("0.01")


class StatementError(MahnwerkError, ValueError):
    """A statement file that cannot be read; nothing of it is imported.

    Rendered `FILE:LINE: message — hint` (or `FILE: …` when no line is known), like
    the CSV importer's errors, so a person can open the file at the right place.
    """

    def __init__(self, path: str | Path, message: str, hint: str = "", line: int = 0) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        self.hint = hint
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(
            f"{where}: {message}" + (f" — {hint}" if hint else "") + "; nothing was imported"
        )


@dataclass(frozen=True, slots=True)
class BankEntry:
    """One booked entry (or, for a batch booking, one transaction inside it)."""

    account: str
    statement: str
    booked_on: date
    amount: Decimal
    currency: str
    direction: Literal["C", "D"]
    kind: Kind
    remittance: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    end_to_end_id: str = ""
    entry_ref: str = ""
    bank_code: str = ""
    value_date: date | None = None
    line: int = 0
    seq: int = 0
    occurrence: int = 0
    source: str = field(default="", compare=False)

    @property
    def identity(self) -> tuple[str, ...]:
        """What makes a booking this booking, whatever file or statement brings it.

        Account, booking and value date, direction, amount, the payer's reference (the
        end-to-end id, else the remittance text reduced to letters and digits, without the
        SEPA field names MT940 puts in front of it) and the bank's own reference where
        there is one.  The statement number is *not* part of it: two statements that
        overlap (a weekly and a daily export, an MT940 and a camt.053 of the same account)
        bring the same booking twice, and it must be booked once.
        """
        return (
            self.account,
            self.booked_on.isoformat(),
            (self.value_date or self.booked_on).isoformat(),
            self.direction,
            str(self.amount),
            self.end_to_end_id or reference_text(self.remittance),
            self.entry_ref,
        )

    @property
    def key(self) -> str:
        """The identity and the entry's rank among identical bookings (`occurrence`).

        Two genuinely separate transfers with the same fields on one day differ only by
        their position: the first such booking in a (balanced, hence complete) statement
        is occurrence 0, the second 1, and any other complete statement of that day ranks
        them the same way.
        """
        base = [*self.identity, str(self.occurrence)]
        return hashlib.sha256("\x1f".join(base).encode()).hexdigest()[:32]


_SEPA_FIELD = re.compile(r"\b(EREF|KREF|MREF|CRED|DEBT|ABWA|ABWE|SVWZ)\+|\bMTLG:")


def reference_text(remittance: str) -> str:
    """The remittance as the payer wrote it: the SVWZ part if MT940 labelled it, letters and
    digits only (banks wrap, space and case the same text differently per format)."""
    text = remittance.upper()
    if "SVWZ+" in text:
        text = text.split("SVWZ+", 1)[1]
    text = _SEPA_FIELD.split(text)[0] if _SEPA_FIELD.search(text) else text
    return re.sub(r"[^0-9A-Z]", "", text)


def number_occurrences(entries: list[BankEntry]) -> list[BankEntry]:
    """Give entries with the same identity ranks 0, 1, 2 … in file order."""
    from dataclasses import replace

    seen: dict[tuple[str, ...], int] = {}
    out = []
    for entry in entries:
        rank = seen.get(entry.identity, 0)
        seen[entry.identity] = rank + 1
        out.append(replace(entry, occurrence=rank))
    return out


def cents(path: str | Path, text: str, line: int, what: str) -> Decimal:
    """A statement amount as Decimal in cents; `8.850` is fine, `8.855` is refused."""
    from decimal import InvalidOperation

    raw = text.strip().replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise StatementError(path, f"{what}: not an amount: {text!r}", "", line) from None
    if not value.is_finite() or value != value.quantize(CENT):
        raise StatementError(
            path,
            f"{what}: amount {text!r} is not in whole cents",
            "mahnwerk books euro and cent; ask the bank for the statement in the account currency",
            line,
        )
    return value.quantize(CENT)


def money_text(value: Decimal) -> str:
    """An amount as a German bookkeeper writes it in a note: 1.234,50 (matching's notes too)."""
    return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def check_balance(
    path: str | Path,
    statement: str,
    opening: Decimal,
    closing: Decimal,
    movements: Decimal,
    line: int = 0,
    names: tuple[str, str] = (":60F:", ":62F:"),
) -> None:
    """Refuse a statement whose entries do not lead from its opening to its closing balance.

    A statement is complete only when opening balance + credits - debits = closing balance:
    a file cut off in the middle (a download that broke, a copy that was truncated) or an
    entry left out would otherwise be booked as if it were the whole day, and the complete
    statement imported later would add the missing entries next to the ones already taken.
    """
    if opening + movements == closing:
        return
    raise StatementError(
        path,
        f"statement {statement} does not balance: opening {names[0]} {money_text(opening)} "
        f"plus the entries ({money_text(movements)}) is {money_text(opening + movements)}, but "
        f"the closing balance {names[1]} is {money_text(closing)} — entries are missing or the "
        "file is cut off",
        "download the complete statement from online banking again",
        line,
    )


def read_statement(path: str | Path) -> list[BankEntry]:
    """Read a camt.053/camt.054 (XML) or MT940 file into entries, or raise `StatementError`.

    The format is recognised from the content, not the file name: banks name their
    exports anything (`.sta`, `.txt`, `.940`, `.xml`, `.camt`).
    """
    from mahnwerk.engine import limits

    path = Path(path)
    try:
        too_big = path.stat().st_size > limits.STATEMENT_FILE_BYTES
        if too_big:
            raise StatementError(
                path,
                f"the file is {path.stat().st_size / limits.MiB:.1f} MB, more than the limit "
                f"of {limits.size(limits.STATEMENT_FILE_BYTES)} for one statement file",
                "export a shorter period (a day or a week per file)",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise StatementError(path, f"cannot read the file: {exc.strerror or exc}") from None
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if head.startswith(b"<"):
        from mahnwerk.engine.bank.camt import read_camt

        # Counted before parsing: a tree of millions of tiny elements costs gigabytes.
        if (tags := data.count(b"<") // 2) > limits.XML_ELEMENTS:
            raise StatementError(
                path,
                f"about {tags:,} XML elements, more than the limit of "
                f"{limits.size(limits.XML_ELEMENTS)} for one statement file",
                "export a shorter period (a day or a week per file)",
            )

        return number_occurrences(read_camt(path, data))
    if b":20:" in data or b":61:" in data or head.startswith(b"{1:"):
        from mahnwerk.engine.bank.swift import read_mt940

        return number_occurrences(read_mt940(path, data))
    raise StatementError(
        path,
        "neither camt XML nor MT940",
        "export the account statement as camt.053 (XML) or MT940 (SWIFT) from online banking",
        1,
    )


__all__ = ["BankEntry", "Kind", "StatementError", "cents", "check_balance", "read_statement"]
