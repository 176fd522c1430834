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
    def key(self) -> str:
        """Identity of the entry, the same every time the same file is read.

        With the bank's own reference (camt `AcctSvcrRef`/`NtryRef`, MT940 bank
        reference) the key does not depend on the statement, so the same booking in a
        camt.053 and in a camt.054 is recognised; without one, the statement and the
        entry's rank among identical-looking entries of that statement (`occurrence`)
        tell two equal transfers on one day apart.
        """
        base = [self.account, self.booked_on.isoformat(), self.direction, str(self.amount)]
        if self.entry_ref:
            base += ["ref", self.entry_ref, str(self.occurrence)]
        else:
            base += [
                "stmt",
                self.statement,
                self.remittance,
                self.counterparty_iban,
                self.counterparty_name,
                self.end_to_end_id,
                str(self.occurrence),
            ]
        return hashlib.sha256("\x1f".join(base).encode()).hexdigest()[:32]


def number_occurrences(entries: list[BankEntry]) -> list[BankEntry]:
    """Give entries that look alike (same identity fields) ranks 0, 1, 2 … in file order."""
    from dataclasses import replace

    seen: dict[tuple[object, ...], int] = {}
    out = []
    for entry in entries:
        ident = (
            entry.account,
            entry.statement if not entry.entry_ref else "",
            entry.booked_on,
            entry.direction,
            entry.amount,
            entry.entry_ref,
            entry.remittance if not entry.entry_ref else "",
            entry.counterparty_iban if not entry.entry_ref else "",
            entry.counterparty_name if not entry.entry_ref else "",
            entry.end_to_end_id if not entry.entry_ref else "",
        )
        rank = seen.get(ident, 0)
        seen[ident] = rank + 1
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


def read_statement(path: str | Path) -> list[BankEntry]:
    """Read a camt.053/camt.054 (XML) or MT940 file into entries, or raise `StatementError`.

    The format is recognised from the content, not the file name: banks name their
    exports anything (`.sta`, `.txt`, `.940`, `.xml`, `.camt`).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StatementError(path, f"cannot read the file: {exc.strerror or exc}") from None
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if head.startswith(b"<"):
        from mahnwerk.engine.bank.camt import read_camt

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


__all__ = ["BankEntry", "Kind", "StatementError", "cents", "read_statement"]
