"""How large an input mahnwerk accepts, in one place, each limit named in its error.

Every input comes from outside — an export, a download, a file a person picked — and a
damaged or hostile one must not take the machine down before it is refused: a CSV whose
quote never closes becomes one 50 MB cell, a statement file can be a gigabyte of tags.
The limits sit far above anything real (numbers below) and far below what hurts, and the
error says which limit was hit, so a person with a genuinely large file knows what to do.
"""

from __future__ import annotations

MiB = 1024 * 1024

CSV_FILE_BYTES = 512 * MiB
"""A CSV import file: a million invoices as CSV are about 100 MB."""
CSV_CELL_CHARS = 10_000
"""One CSV cell: a name, an address, a bank's remittance text (SEPA: 140 characters)."""
STATEMENT_FILE_BYTES = 64 * MiB
"""One bank statement file: a busy account's daily camt.053 is a few MB."""
XML_ELEMENTS = 2_000_000
"""Elements in one camt file (an entry has about 40): counted before the file is parsed."""


def size(n: int) -> str:
    """`512 MB`, `64 MB`, `10,000` — how a limit is written in an error."""
    return f"{n // MiB} MB" if n >= MiB else f"{n:,}"


__all__ = ["CSV_CELL_CHARS", "CSV_FILE_BYTES", "STATEMENT_FILE_BYTES", "XML_ELEMENTS", "size"]
