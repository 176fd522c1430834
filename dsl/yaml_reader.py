"""Reads the YAML form of a policy (`*.yaml`) into the IR.

The YAML form says exactly what the text form says (`policies/README.md` has
both side by side) and yields an equal `ir.Policy`.  It is read from PyYAML's
*composed* node tree, never from constructed Python objects, for two reasons:

* every node keeps its `start_mark`/`end_mark`, so every IR node gets the
  line and column of the user's own text, and a condition's type error points
  at the very operand, as it does in the text form;
* every scalar stays the string the author typed: YAML 1.1 would turn the key
  `on:` (the event rules) and values like `no` (Norwegian) or `NO` (Norway)
  into booleans, and `20:00` into the number 1200.

Values inside scalars (amounts, durations, percentages, times of day, names)
are checked with the text grammar's own terminals, so whatever the YAML form
accepts the text form can say too (`mahnwerk policy convert` relies on it).
Conditions are parsed with `expr.parse_expr`; their positions are mapped back
through quotes, escapes and line folding to the file.

Like the text reader, this reader collects every problem of the file in the
`Collector` and returns None if there was any.

The reader is one class assembled from its parts, each in a module named for
what it reads: `yaml_values` (positions, scalars, amounts, durations,
conditions), `yaml_sections` (the top level, calendar, limits, segments,
ladders), `yaml_states` (states, triggers, transitions, event rules) and
`yaml_actions` (what a state does on entry).  `yaml_vocab` holds the key
vocabularies and hints, `yaml_syntax` PyYAML's errors in plain words.
"""

from __future__ import annotations

import yaml

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Collector
from mahnwerk.dsl.yaml_actions import _ActionReader
from mahnwerk.dsl.yaml_sections import _SectionReader
from mahnwerk.dsl.yaml_states import _StateReader
from mahnwerk.dsl.yaml_syntax import _reader_error, _syntax_error
from mahnwerk.dsl.yaml_values import _ValueReader


def read_yaml(source: str, path: str, collector: Collector) -> ir.Policy | None:
    """Parse `source` (the contents of `path`); problems go to `collector`."""
    before = len(collector.errors)
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        _syntax_error(exc, source, path, collector)
        return None
    except yaml.YAMLError as exc:  # a character YAML does not allow anywhere
        _reader_error(exc, source, path, collector)
        return None
    policy = _Reader(source, path, collector).policy(root)
    if len(collector.errors) > before:
        return None
    return policy


class _Reader(_SectionReader, _StateReader, _ActionReader, _ValueReader):
    """The whole reader: each part reads its own keys, all share the positions and values."""
