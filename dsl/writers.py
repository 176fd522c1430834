"""Writes a policy IR back out as text (`*.mahn`) or YAML (`mahnwerk policy convert`).

Both writers lay a policy out the way a person would write it — settings,
limits, segments, ladders, event rules, with blank lines between them and one
statement per line — and what they write reads back (`text_reader.read_text`,
`yaml_reader.read_yaml`) to an IR equal to the one given.  Comments are not
kept: the IR has none.

An IR the readers could never have produced (a name with a space, a text with
a line break, a negative letter gap, a timed transition whose state is not its
source) cannot be written faithfully; the writers raise `ValueError` for it
rather than write something that means another thing.

The YAML is meant for other tools too (yamllint, yq, a script with
`yaml.safe_load`): every text that some YAML reader would take for a boolean,
a number, a date or null is quoted — the key `"on"` included — so each of them
reads the same strings our reader does.

The two forms are `writer_text` and `writer_yaml`; what both check and write
the same way (names, amounts, durations, conditions) is in `writer_values`.
"""

from __future__ import annotations

from mahnwerk.dsl.writer_text import text_action, text_trigger, to_text
from mahnwerk.dsl.writer_yaml import to_yaml

__all__ = ["text_action", "text_trigger", "to_text", "to_yaml"]
