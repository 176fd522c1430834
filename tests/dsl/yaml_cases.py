"""What the YAML reader's tests share: a policy's head, ladder and event rules,
and helpers that read a source and return its policy or its problems.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import compile_source
from mahnwerk.dsl.errors import Collector, PolicyError
from mahnwerk.dsl.yaml_reader import read_yaml

PATH = "policy.yaml"

HEAD = """\
policy: test
version: 1
currency: EUR
timezone: Europe/Berlin
calendar: { country: DE }
language: de
segments:
  - name: default
    ladder: standard
"""
# HEAD is lines 1-9; `ladders:` below starts at line 10.
LADDER = """\
ladders:
  standard:
    erinnerung:
      after: 7d after due
      send: { channel: email, template: zahlungserinnerung }
    klaerung:
      after: 14d in erinnerung
      notify: forderungsmanagement
      wait: true
"""
EVENTS = """\
on:
  dispute_opened: pause
  insolvency: stop -> insolvent
"""


def read(source: str) -> tuple[ir.Policy | None, Collector]:
    c = Collector(PATH, source)
    return read_yaml(source, PATH, c), c


def ok(source: str) -> ir.Policy:
    policy, c = read(source)
    assert not c.items, "\n".join(d.render(source) for d in c.items)
    assert policy is not None
    return policy


def problems(source: str) -> list[tuple[int, int, str, str]]:
    """(line, col, code, message) of every error the reader reports."""
    policy, c = read(source)
    assert c.errors, "expected errors"
    assert policy is None
    return [(d.span.line, d.span.col, d.code, d.message) for d in c.errors]


def only(source: str) -> tuple[int, int, str, str]:
    found = problems(source)
    assert len(found) == 1, found
    return found[0]


def hint(source: str) -> str | None:
    _, c = read(source)
    assert len(c.errors) == 1, [d.message for d in c.errors]
    return c.errors[0].hint


def checked(source: str) -> list[tuple[int, int, str, str]]:
    """Errors of the whole check (reader and compiler), as the CLI shows them."""
    with pytest.raises(PolicyError) as info:
        compile_source(source, PATH)
    return [(d.span.line, d.span.col, d.code, d.message) for d in info.value.diagnostics]


def policy_with_state(body: str) -> str:
    """HEAD, a ladder whose first state `s` has `body` (indented 6), then EVENTS.

    `s:` is on line 12, so the first line of `body` is line 13.
    """
    lines = "".join(f"      {line}\n" for line in dedent(body).strip("\n").splitlines())
    return HEAD + "ladders:\n  standard:\n    s:\n" + lines + EVENTS
