"""Checks a policy IR and builds one state graph per customer segment.

    read (yaml_reader | text_reader) -> ir.Policy -> check -> CompiledPolicy

The checker reports every problem of a file at once, each at the user's own
text: unknown names, unreachable states, states with no way out, cycles of
time triggers, triggers that fire together with no priority, type errors in
conditions, and the legal lints a policy alone reveals (§ 288 Abs. 5 BGB lump
sum for consumers, interest above the statutory rate, fees above the cap,
court or credit-bureau steps without a person's approval).

The graph of a segment has the ladder's states as nodes plus `open` (where
every invoice starts), the terminals and `paused`; an edge carries the list of
`Rule`s that can move an invoice along it, each with its trigger, guard,
priority and source position.  The engine walks these rules; `render` draws
them.

The parts: `compile_graph` (the `Rule`, the compiled policy and the graph built
from a ladder), `compile_checks` (the structural checks) and `compile_lints`
(limits, residual, amounts and the legal lints).  This module reads, checks and
compiles, and every name it ever offered stays importable from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType

import networkx as nx

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile_checks import _Checker
from mahnwerk.dsl.compile_graph import (
    CompiledPolicy,
    Rule,
    build_graph,
    ladder_rules,
    state_sources,
)
from mahnwerk.dsl.compile_lints import CONSUMER_FEE_CAP, MAX_RESIDUAL_TOLERANCE, may_hold_consumers
from mahnwerk.dsl.errors import Collector, Diagnostic, PolicyError, Span

TEXT_SUFFIXES = {".mahn", ".txt", ".policy"}
YAML_SUFFIXES = {".yaml", ".yml"}


def read_policy(source: str, path: str, collector: Collector) -> ir.Policy | None:
    """Read either syntax, chosen by the file's suffix (or its first word)."""
    suffix = Path(path).suffix.lower()
    if suffix in YAML_SUFFIXES or (
        suffix not in TEXT_SUFFIXES and not source.lstrip().startswith("policy ")
    ):
        from mahnwerk.dsl.yaml_reader import read_yaml

        return read_yaml(source, path, collector)
    from mahnwerk.dsl.text_reader import read_text

    return read_text(source, path, collector)


def load_policy(path: str | Path, known_templates: Iterable[str] | None = None) -> CompiledPolicy:
    """Read, check and compile the policy file at `path`; raise `PolicyError` on errors."""
    return compile_source(read_policy_source(path), str(path), known_templates)


POLICY_MAX_BYTES = 256 * 1024
"""The largest policy file read.  The shipped policies are 7–16 KB; a 480 KB policy of 5,000
segments takes about 10 s and 150 MB to check here, a 10 MB one took 51 s and 1.2 GB."""


def read_policy_source(path: str | Path) -> str:
    """A policy file's text; a file that is missing, too large or not UTF-8 is a located
    `PolicyError`."""
    path = str(path)
    try:
        if (size := Path(path).stat().st_size) > POLICY_MAX_BYTES:
            raise PolicyError(
                [
                    _io_error(
                        path,
                        f"the policy file is {size // 1024:,} KB, more than the limit of "
                        f"{POLICY_MAX_BYTES // 1024} KB for one policy; split it into "
                        "policies deployed with --for, or generate fewer segments",
                    )
                ]
            )
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError([_io_error(path, f"cannot read the policy: {exc.strerror}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(
            [_io_error(path, "the file is not UTF-8 text; save it as UTF-8", line)]
        ) from None


def _io_error(path: str, message: str, line: int = 1) -> Diagnostic:
    return Diagnostic("error", Span(path, line, 1), message, code="E000")


def compile_source(
    source: str, path: str, known_templates: Iterable[str] | None = None
) -> CompiledPolicy:
    collector = Collector(path, source)
    policy = read_policy(source, path, collector)
    collector.raise_if_errors()
    assert policy is not None
    return compile_policy(policy, source, collector, known_templates)


def compile_policy(
    policy: ir.Policy,
    source: str = "",
    collector: Collector | None = None,
    known_templates: Iterable[str] | None = None,
) -> CompiledPolicy:
    """Check `policy` and build its graphs; raise `PolicyError` listing every error."""
    c = collector or Collector(policy.path, source or None)
    templates = set(known_templates) if known_templates is not None else None
    checker = _Checker(policy, c, templates)
    checker.run()
    c.raise_if_errors()
    ladder_graphs = {
        ladder.name: _freeze(checker.graphs.get(ladder.name) or build_graph(policy, ladder))
        for ladder in policy.ladders
    }
    graphs = {}
    for segment in policy.segments:
        # A read-only view of the ladder's graph with the segment's own name on it.
        view = nx.subgraph_view(ladder_graphs[segment.ladder])
        view.graph = {**ladder_graphs[segment.ladder].graph, "segment": segment.name}
        graphs[segment.name] = view
    per_ladder = {name: _outgoing(g) for name, g in ladder_graphs.items()}
    outgoing = {
        (segment.name, state): rules
        for segment in policy.segments
        for state, rules in per_ladder[segment.ladder].items()
    }
    states = {
        (segment.name, state.name): state
        for segment in policy.segments
        for state in policy.ladder(segment.ladder).states
    }
    return CompiledPolicy(
        policy=policy,
        graphs=MappingProxyType(graphs),
        ladder_graphs=MappingProxyType(ladder_graphs),
        warnings=tuple(c.warnings),
        source=source,
        sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
        outgoing=MappingProxyType(outgoing),
        states=MappingProxyType(states),
    )


def _outgoing(g: nx.DiGraph) -> dict[str, tuple[Rule, ...]]:
    out: dict[str, tuple[Rule, ...]] = {}
    for node in g.nodes:
        rules = [r for _, _, data in g.out_edges(node, data=True) for r in data["rules"]]
        out[node] = tuple(sorted(rules, key=lambda r: -r.priority))
    return out


def _freeze(g: nx.DiGraph) -> nx.DiGraph:
    return nx.freeze(g)


def check_file(path: str | Path, known_templates: Iterable[str] | None = None) -> list[Diagnostic]:
    """Every diagnostic of one file (errors and warnings), never raising for policy errors."""
    try:
        compiled = load_policy(path, known_templates)
    except PolicyError as exc:
        return sorted(exc.diagnostics + exc.warnings, key=lambda d: (d.span.line, d.span.col))
    return list(compiled.warnings)


__all__ = [
    "CONSUMER_FEE_CAP",
    "MAX_RESIDUAL_TOLERANCE",
    "POLICY_MAX_BYTES",
    "TEXT_SUFFIXES",
    "YAML_SUFFIXES",
    "CompiledPolicy",
    "Rule",
    "build_graph",
    "check_file",
    "compile_policy",
    "compile_source",
    "ladder_rules",
    "load_policy",
    "may_hold_consumers",
    "read_policy",
    "read_policy_source",
    "state_sources",
]
