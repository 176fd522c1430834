"""Bank statements: read camt.053/054 and MT940, match credits to invoices, queue the rest.

Layout, one concern per module:

* `entries`    — the format-neutral `BankEntry` every reader produces, and `StatementError`;
* `camt`       — ISO 20022 camt.053 / camt.054 (XML, namespace-agnostic);
* `swift`      — MT940 (SWIFT text, via the `mt-940` package);
* `references` — finding invoice numbers in remittance text (spaces, case, prefixes, typos);
* `matching`   — the pure decision: which invoices an entry pays, and how much each;
* `store`      — the database side: import (one transaction, never twice), the queue of
  entries for a person, `assign` and `dismiss`.

A matched credit becomes ordinary `payment` rows (source `bank`, invoice set), which the
next `mahnwerk run` applies like any other payment; nothing here touches dunning state.
"""

from __future__ import annotations

from mahnwerk.engine.bank.entries import BankEntry, StatementError, read_statement
from mahnwerk.engine.bank.store import (
    AssignError,
    BankImportResult,
    assign,
    dismiss,
    entry,
    import_statement,
    latest_booking,
    list_queue,
    rematch,
    remember_account,
)

__all__ = [
    "AssignError",
    "BankEntry",
    "BankImportResult",
    "StatementError",
    "assign",
    "dismiss",
    "entry",
    "import_statement",
    "latest_booking",
    "list_queue",
    "read_statement",
    "rematch",
    "remember_account",
]
