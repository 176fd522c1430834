"""Fixtures of the TUI tests; the book and the helpers live in `tui_book` (importable by name,
unlike a conftest module, whose name every test folder shares)."""

from tui_book import bank_book, book, sqlite_bank_book, sqlite_book  # noqa: F401  (fixtures)
