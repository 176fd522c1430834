"""Draws a segment's state graph: as plain text, Mermaid or Graphviz dot.

The words used for triggers and actions are the text form's own
(`14d in mahnung_1`, `letter "mahnung_1"`), so what an operator sees in a
graph is what the policy file says.
"""

from __future__ import annotations

import networkx as nx

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import Rule
from mahnwerk.dsl.expr import format_expr
from mahnwerk.dsl.writer_text import text_action, text_trigger  # not `writers`: no PyYAML


def describe_trigger(trigger: ir.Trigger | None) -> str:
    """A trigger in the text form's words; `None` is an automatic edge (a handover done)."""
    return "when done" if trigger is None else text_trigger(trigger)


def describe_action(action: ir.Action) -> str:
    """One action in the text form's words (the writer's own, so both always agree)."""
    return text_action(action)


def describe_rule(rule: Rule) -> str:
    text = describe_trigger(rule.trigger)
    if rule.handler is not None and rule.handler.until is not None:
        text += f" until {format_expr(rule.handler.until)}"
    if rule.guard is not None and rule.handler is None:
        text += f" when {format_expr(rule.guard)}"
    return text


def _ordered_nodes(g: nx.DiGraph) -> list[str]:
    kinds = {"initial": 0, "step": 1, "manual": 1, "pause": 2, "terminal": 3}
    order = {n: i for i, n in enumerate(g.nodes)}
    return sorted(g.nodes, key=lambda n: (kinds[g.nodes[n]["kind"]], order[n]))


def _edges(g: nx.DiGraph, with_handlers: bool) -> list[tuple[str, str, list[Rule]]]:
    out = []
    for u, v, data in g.edges(data=True):
        rules = [r for r in data["rules"] if with_handlers or r.kind not in ("handler", "builtin")]
        if rules:
            out.append((u, v, rules))
    return out


def to_text(g: nx.DiGraph, with_handlers: bool = False) -> str:
    """A ladder as an indented list: each state, how it is entered, what it does."""
    lines = [f"segment {g.graph.get('segment', '-')}  (ladder {g.graph['ladder']})"]
    for node in _ordered_nodes(g):
        data = g.nodes[node]
        if data["kind"] in ("pause", "terminal") and not with_handlers:
            if not any(v == node for _, v, _ in _edges(g, False)):
                continue
        title = f"  {data['title']!s}" if data["title"] != node else ""
        span = data["span"]
        where = f"  [{span.path}:{span.line}]" if span.line else ""
        lines.append(
            f"● {node}{title}{where}"
            + ("  (waits for a person)" if data["kind"] == "manual" else "")
        )
        state = data.get("state")
        if state is not None:
            for action in state.actions:
                lines.append(f"│   does: {describe_action(action)}")
        for _, target, rules in sorted(
            ((u, v, r) for u, v, r in _edges(g, with_handlers) if u == node),
            key=lambda e: -max(r.priority for r in e[2]),
        ):
            for rule in rules:
                lines.append(f"├─▶ {target}  {describe_rule(rule)}")
    return "\n".join(lines) + "\n"


def _mermaid_id(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)


def _mermaid_text(text: str) -> str:
    """A label Mermaid reads as plain text: no `:`, `;`, `#` or braces, which it would parse."""
    for ch, instead in ((":", ""), (";", ","), ("#", "Nr."), ("{", "("), ("}", ")")):
        text = text.replace(ch, instead)
    return text.replace('"', "'")


def _mermaid_body(g: nx.DiGraph, with_handlers: bool, prefix: str, indent: str) -> list[str]:
    def node_id(name: str) -> str:
        return _mermaid_id(prefix + name)

    lines = [f"{indent}[*] --> {node_id(ir.INITIAL_STATE)}"]
    for node in _ordered_nodes(g):
        title = g.nodes[node]["title"]
        if prefix or title != node:
            lines.append(f"{indent}{node_id(node)} : {_mermaid_text(str(title))}")
    for u, v, rules in _edges(g, with_handlers):
        label = _mermaid_text(" / ".join(describe_rule(r) for r in rules))
        lines.append(f"{indent}{node_id(u)} --> {node_id(v)} : {label}")
    for node in _ordered_nodes(g):
        if g.nodes[node]["kind"] == "terminal" and any(
            v == node for _, v, _ in _edges(g, with_handlers)
        ):
            lines.append(f"{indent}{node_id(node)} --> [*]")
    return lines


def to_mermaid(g: nx.DiGraph, with_handlers: bool = False) -> str:
    """One segment's ladder as a Mermaid state diagram."""
    lines = [
        "stateDiagram-v2",
        f"    %% segment {g.graph.get('segment', '-')}, ladder {g.graph['ladder']}",
    ]
    lines += _mermaid_body(g, with_handlers, "", "    ")
    return "\n".join(lines) + "\n"


def to_mermaid_all(graphs: list[nx.DiGraph], with_handlers: bool = False) -> str:
    """Every segment in ONE Mermaid document: a composite state per segment.

    State ids are prefixed with the segment's name, because Mermaid's ids are global: two
    segments' `erinnerung` would otherwise be drawn as one state.
    """
    if len(graphs) == 1:
        return to_mermaid(graphs[0], with_handlers)
    lines = ["stateDiagram-v2"]
    for g in graphs:
        segment = str(g.graph.get("segment", "-"))
        sid = _mermaid_id(f"segment_{segment}")
        lines.append(
            f'    state "segment {_mermaid_text(segment)} (ladder {g.graph["ladder"]})" as {sid} {{'
        )
        lines += _mermaid_body(g, with_handlers, f"{segment}__", "        ")
        lines.append("    }")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(g: nx.DiGraph, with_handlers: bool = False) -> str:
    name = f"{g.graph.get('segment', '-')}"
    lines = [
        f"digraph {_dot_quote(name)} {{",
        "  rankdir=LR;",
        "  node [shape=box, style=rounded];",
    ]
    for node in _ordered_nodes(g):
        data = g.nodes[node]
        shape = {"terminal": "doublecircle", "initial": "circle", "pause": "octagon"}.get(
            data["kind"]
        )
        if data["kind"] in ("terminal", "pause") and not any(
            v == node for _, v, _ in _edges(g, with_handlers)
        ):
            continue
        attrs = [f"label={_dot_quote(str(data['title']))}"]
        if shape:
            attrs.append(f"shape={shape}")
        lines.append(f"  {_dot_quote(node)} [{', '.join(attrs)}];")
    for u, v, rules in _edges(g, with_handlers):
        label = "\\n".join(describe_rule(r) for r in rules)
        lines.append(f"  {_dot_quote(u)} -> {_dot_quote(v)} [label={_dot_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": to_text, "mermaid": to_mermaid, "dot": to_dot}
