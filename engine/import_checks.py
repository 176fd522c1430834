"""Checking imported rows against the file and the database: the `_Checker` that
collects every error of a file, the upsert plan, and the customers' checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table

from mahnwerk.engine.import_cells import (
    _EMAIL,
    _PHONE,
    _PLZ,
    MAX_AMOUNT,
    CellError,
    _optional,
    parse_bool,
    parse_country,
    parse_customer_type,
    parse_language,
    parse_list,
    parse_region,
    parse_timezone,
)
from mahnwerk.engine.import_table import CsvTable, Row, RowError
from mahnwerk.engine.models import Customer
from mahnwerk.engine.store.imports import existing as stored


class _Checker:
    """Collects the errors of one file; `cell` reads a value or records why it can't."""

    def __init__(
        self, table: CsvTable, today: date | None = None, allow_future: bool = False
    ) -> None:
        self.table = table
        self.errors: list[RowError] = []
        self.today = today  # the import day, for dates that cannot lie ahead
        self.allow_future = allow_future

    def error(self, row: Row, column: str, message: str, hint: str = "") -> None:
        self.errors.append(
            RowError(
                self.table.path, row.line, self.table.columns.get(column, column), message, hint
            )
        )

    def passes(self, row: Row, checks: Iterable[tuple[bool, str, str, str]]) -> bool:
        """An error for each (failed, column, message, hint) that failed, in order;
        whether none did.
        """
        ok = True
        for failed, column, message, hint in checks:
            if failed:
                self.error(row, column, message, hint)
                ok = False
        return ok

    def cell(self, row: Row, column: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(row.cells.get(column, ""))
        except CellError as exc:
            self.error(row, column, exc.message, exc.hint)
            return _BAD

    def required(self, row: Row, column: str, what: str) -> str | None:
        value = row.cells.get(column, "")
        if not value:
            self.error(row, column, f"{what} is empty", f"every row needs its {what}")
            return None
        return value

    def unique(self, rows: list[Row], column: str, what: str) -> None:
        seen: dict[str, int] = {}
        for row in rows:
            key = row.cells.get(column, "")
            if not key:
                continue
            if key in seen:
                self.error(
                    row,
                    column,
                    f"{what} {key!r} also on line {seen[key]}",
                    f"each {what} once per file",
                )
            else:
                seen[key] = row.line


class _Bad:
    """Marks a cell that failed to parse, so later checks on it are skipped."""

    def __repr__(self) -> str:
        return "<bad>"


_BAD: Any = _Bad()


def _positive(checker: _Checker, row: Row, amount: Any, what: str) -> None:
    if amount is _BAD:
        return
    if amount <= 0:
        checker.error(
            row,
            "amount",
            f"{what} must be more than 0, is {amount}",
            "leave credit notes and refunds out of this file",
        )
    elif amount >= MAX_AMOUNT:
        checker.error(row, "amount", f"amount {amount} is too large", "check the amount")


@dataclass(slots=True)
class _Plan:
    """What to write: new rows, changed rows (with their id) and the count of equal ones."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0


def _plan_upsert(
    plan: _Plan,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
) -> None:
    if existing is None:
        plan.inserts.append(values)
    elif all(existing[k] == v for k, v in values.items()):
        plan.unchanged += 1
    else:
        plan.updates.append({**values, "id": existing["id"]})


def _opted_out(text: str) -> str:
    return parse_list(text).lower()


# Customer columns read by one function of the cell alone (country and region need more).
_CUSTOMER_FIELDS: dict[str, Callable[[str], Any]] = {
    "email": _optional,
    "phone": _optional,
    "street": _optional,
    "postal_code": _optional,
    "city": _optional,
    "language": parse_language,
    "tags": parse_list,
    "opted_out": _opted_out,
    "vulnerable": parse_bool,
    "timezone": parse_timezone,
}


#: Cells that end up in letters and e-mail headers: no control characters allowed.
_TEXT_COLUMNS = ("name", "email", "phone", "street", "postal_code", "city")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _refuse_controls(checker: _Checker, row: Row, column: str, value: Any) -> None:
    """A line break or other control character in a name or address is refused, located.

    `"Name\nBcc: …"` would become a second header line in every e-mail to the customer
    and a broken address block in every letter; it is a damaged export, not a name.
    """
    if not isinstance(value, str) or not (m := _CONTROL.search(value)):
        return
    what = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}.get(
        m.group(), f"the control character U+{ord(m.group()):04X}"
    )
    checker.error(
        row,
        column,
        f"{what} in {value!r}",
        "names and addresses are one line of text: remove it in the source and export again",
    )


def _check_customers(checker: _Checker, conn: Connection) -> tuple[_Plan, Table]:
    table: Table = Customer.__table__  # type: ignore[attr-defined]
    present = checker.table.columns.keys()
    fields = [c for c in present if c != "customer_id"]
    existing = stored(conn, table, fields)
    rows = checker.table.rows
    checker.unique(rows, "customer_id", "customer number")
    simple = [(c, parse) for c, parse in _CUSTOMER_FIELDS.items() if c in present]
    plan = _Plan()
    for row in rows:
        values: dict[str, Any] = {}
        external_id = checker.required(row, "customer_id", "customer number")
        values["name"] = checker.required(row, "name", "name")
        values["type"] = checker.cell(row, "type", parse_customer_type)
        country = "DE"
        if "country" in present:
            country = values["country"] = checker.cell(row, "country", parse_country)
        for column, parse in simple:
            values[column] = checker.cell(row, column, parse)
        if "region" in present and country is not _BAD:
            values["region"] = checker.cell(
                row, "region", lambda t, country=country: parse_region(t, country)
            )
        for column in _TEXT_COLUMNS:
            _refuse_controls(checker, row, column, values.get(column))
        email = values.get("email")
        if email and not _EMAIL.fullmatch(email):
            checker.error(
                row,
                "email",
                f"not an e-mail address: {email!r}",
                "write name@example.de or leave the cell empty",
            )
        phone = values.get("phone")
        if phone and (not _PHONE.fullmatch(phone) or sum(ch.isdigit() for ch in phone) < 3):
            checker.error(
                row,
                "phone",
                f"not a phone number: {phone!r}",
                "write digits, spaces and + ( ) / - only, e.g. +49 30 1234567",
            )
        postal = values.get("postal_code")
        if country == "DE" and postal and not _PLZ.fullmatch(postal):
            hint = "German postal codes have five digits"
            if re.fullmatch(r"\d{4}", postal):
                hint += f" (0{postal}? Excel drops leading zeros: format the column as text)"
            checker.error(row, "postal_code", f"not a German postal code: {postal!r}", hint)
        if external_id is None or values["name"] is None:
            continue
        if any(v is _BAD for v in values.values()):
            continue
        values["external_id"] = external_id
        _plan_upsert(plan, values, existing.get(external_id))
    return plan, table
