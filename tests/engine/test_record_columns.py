"""A `Record` and the `dunning_state` table it is stored in name the same facts.

The store maps rows to records by the dataclass's fields (`store._RECORD_COLUMNS`); a field
added to `Record` without its column (or a column left behind) would fail only at the first
run that writes it.  This fails at once, naming the difference.
"""

from __future__ import annotations

from dataclasses import fields

from mahnwerk.engine.models import DS
from mahnwerk.engine.state import Record
from mahnwerk.engine.store import _RECORD_COLUMNS


def test_every_record_field_is_a_dunning_state_column() -> None:
    columns = set(DS.c.keys())
    assert [f for f in _RECORD_COLUMNS if f not in columns] == []


def test_the_runner_maps_every_field_but_the_key() -> None:
    assert set(_RECORD_COLUMNS) == {f.name for f in fields(Record)} - {"invoice_id"}


def test_an_update_sets_the_columns_whose_stored_value_changes() -> None:
    """`changed_row`: what the run's SQLite update sets (issue 21) — a changed field, and a
    column read as a default (NULL read as 0 or False) that a full write would fill in."""
    from datetime import date
    from decimal import Decimal

    from mahnwerk.engine.store import changed_row, record_row

    before = Record("R1", state="erinnerung", principal_open=Decimal("100.00"))
    stored = list(record_row(before).values())
    assert changed_row(before, stored) == {}
    after = before.evolve(state="mahnung_1", next_check_on=date(2025, 9, 22))
    assert changed_row(after, stored) == {"state": "mahnung_1", "next_check_on": date(2025, 9, 22)}
    stored[_RECORD_COLUMNS.index("fees_charged")] = None  # a NULL the record reads as 0
    assert changed_row(before, stored) == {"fees_charged": 0}
