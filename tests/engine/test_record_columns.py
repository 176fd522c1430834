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
