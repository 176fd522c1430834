"""The YAML reader's states: a state's trigger and actions, time and event
triggers, transitions, and the policy's event rules (`on:`).
"""

from __future__ import annotations

import difflib
import re
from functools import partial

from yaml.nodes import MappingNode, Node, ScalarNode

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Span
from mahnwerk.dsl.yaml_actions import _ACTIONS
from mahnwerk.dsl.yaml_vocab import (
    _HANDLER_FORMS,
    EVENT_NAMES,
    MISSING,
    STATE_HINTS,
    STATE_KEYS,
    SYNTAX,
    TERMINAL_LIST,
    TRANSITION_HINTS,
    TRANSITION_KEYS,
    UNKNOWN_EVENT,
    _describe,
    _full,
    _is_empty,
    _Key,
)


class _StateReader:
    """States, their triggers, transitions and the event rules."""

    def state(self, item: _Key) -> ir.State | None:
        name = self.name(item.key, "state name", "erinnerung")
        where = f"state {item.name!r}"
        if not isinstance(item.value, MappingNode):
            self.c.error(
                self.span(item.value),
                f"{where} must be a mapping of its trigger and actions, "
                f"not {_describe(item.value)}",
                hint="write e.g. `after: 7d after due` and `send: { channel: email, "
                "template: zahlungserinnerung }` below it",
                code=SYNTAX,
            )
            return None
        keys = self.mapping(item.value, STATE_KEYS, where, item.name, "...", STATE_HINTS)
        if keys is None:
            return None
        ok = name is not None
        span = self.span(item.key, item.value)
        trigger = self.state_trigger(keys, where, span)
        ok &= trigger is not None
        got, found_ok = self.optional(
            keys,
            {
                "title": partial(self.text, example="Zahlungserinnerung"),
                "from": partial(self.names, example="erinnerung"),
                "when": partial(self.expr, example="not invoice.disputed"),
            },
        )
        ok &= found_ok
        actions: list[ir.Action] = []
        manual = False
        for key, entry in keys.items():
            if key in _ACTIONS:
                found_actions = _ACTIONS[key](self, entry)
                ok &= found_actions is not None
                actions.extend(found_actions or ())
            elif key == "wait":
                flag = self.flag(entry.value, "wait")
                ok &= flag is not None
                manual = bool(flag)
        if not ok:
            return None
        assert name is not None and trigger is not None
        return ir.State(
            name=name,
            trigger=trigger,
            actions=ir.canonical_actions(actions),
            guard=got.get("when"),
            title=got.get("title"),
            sources=got.get("from") or (),
            manual=manual,
            span=span,
        )

    def state_trigger(self, keys: dict[str, _Key], where: str, span: Span) -> ir.Trigger | None:
        if "after" in keys and "on" in keys:
            self.c.error(
                self.span(keys["on"].key),
                f"{where} has two triggers, `after:` and `on:`",
                hint="keep one; for a second way into the state add a transition",
                code=SYNTAX,
            )
            return None
        if "after" in keys:
            return self.time_trigger(keys["after"])
        if "on" in keys:
            return self.event_trigger(keys["on"])
        self.c.error(
            span,
            f"{where} does not say when an invoice enters it",
            hint="add `after: 7d after due`, `after: 14d in <state>` or `on: <event>`",
            code=MISSING,
        )
        return None

    def time_trigger(self, item: _Key) -> ir.TimeTrigger | None:
        example = "7d after due"
        node = item.value
        value = self.scalar(node, "after", "a time like 7d after due", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        span = self.pair(item)
        m = re.fullmatch(r"(\s*)(.+?)\s+(before|after)\s+(\S+)\s*", value)
        if m:
            offset = self.duration_text(node, "after", m[2], m.start(2), example)
            if m[4] not in ("due", "issue"):
                self.c.error(
                    self.sub_span(node, m.start(4), m.end(4)),
                    f"`after`: time is counted from `due` or `issue`, not {m[4]!r}",
                    hint=f"write e.g. `after: {m[2]} {m[3]} due`, "
                    f"or `after: {m[2]} in <state>` for the time spent in a state",
                    code=SYNTAX,
                )
                return None
            if offset is None:
                return None
            signed = -offset if m[3] == "before" else offset
            return ir.TimeTrigger(signed, ir.Anchor(m[4]), None, span)
        m = re.fullmatch(r"\s*(.+?)\s+in\s+(\S+)\s*", value)
        if m:
            offset = self.duration_text(node, "after", m[1], m.start(1), "14d in erinnerung")
            state = m[2]
            if not _full("NAME", state):
                self.c.error(
                    self.sub_span(node, m.start(2), m.end(2)),
                    f"`after`: {state!r} is not a state name",
                    hint="write e.g. `after: 14d in erinnerung`",
                    code=SYNTAX,
                )
                return None
            if offset is None:
                return None
            return ir.TimeTrigger(offset, ir.Anchor.STATE, state, span)
        self.c.error(
            self.span(node),
            f"`after` must read like `7d after due`, `3d before due`, "
            f"`10 business days after issue` or `14d in erinnerung`, not {value!r}",
            hint="a duration, then `before`/`after` and `due`/`issue`, or `in` and a state",
            code=SYNTAX,
        )
        return None

    def event(self, node: Node, key: str) -> ir.EventKind | None:
        value = self.scalar(node, key, "an event", "delivery_failed")
        if value is None:
            return None
        if value not in EVENT_NAMES:
            near = difflib.get_close_matches(value, EVENT_NAMES, n=1)
            hint = (
                f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(sorted(EVENT_NAMES))
            )
            self.c.error(self.span(node), f"unknown event {value!r}", hint=hint, code=UNKNOWN_EVENT)
            return None
        return ir.EventKind(value)

    def event_trigger(self, item: _Key) -> ir.EventTrigger | None:
        event = self.event(item.value, "on")
        return None if event is None else ir.EventTrigger(event, self.pair(item))

    def transition(self, node: Node) -> ir.Transition | None:
        example = "{ after: 30d, in: letzte_mahnung, to: abschreibung }"
        if not isinstance(node, MappingNode):
            self.c.error(
                self.span(node),
                f"a transition must be a mapping, not {_describe(node)}",
                hint=f"write e.g. `- {example}`",
                code=SYNTAX,
            )
            return None
        keys = self.mapping(
            node, TRANSITION_KEYS, "a transition", "transitions", example, TRANSITION_HINTS
        )
        if keys is None:
            return None
        span = self.span(node)
        ok = self.missing(
            keys,
            span,
            (
                (
                    key,
                    f"this transition does not say `{key}:` which state",
                    f"write e.g. `- {example}`",
                )
                for key in ("in", "to")
            ),
        )
        states, _ = self.optional(
            keys,
            {
                "in": partial(self.name, example="erinnerung"),
                "to": partial(self.name, example="mahnung_1"),
            },
        )
        source, target = states.get("in"), states.get("to")
        trigger: ir.Trigger | None = None
        if "after" in keys and "on" in keys:
            self.c.error(
                self.span(keys["on"].key),
                "a transition has one trigger: `after:` or `on:`",
                hint="write two transitions",
                code=SYNTAX,
            )
        elif "after" in keys:
            item = keys["after"]
            offset = self.duration(item.value, "after", "30d")
            if offset is not None and source is not None:
                trigger = ir.TimeTrigger(offset, ir.Anchor.STATE, source, self.pair(item))
        elif "on" in keys:
            trigger = self.event_trigger(keys["on"])
        else:
            self.c.error(
                span,
                "this transition does not say when it fires",
                hint="add `after: 14d` (time in the `in` state) or `on: <event>`",
                code=MISSING,
            )
        got, found_ok = self.optional(
            keys,
            {
                "when": partial(self.expr, example="balance > 100 EUR"),
                "priority": partial(self.integer, what="the priority", minimum=0, example="1"),
            },
        )
        if not ok or not found_ok or source is None or target is None or trigger is None:
            return None
        return ir.Transition(source, target, trigger, got.get("when"), got.get("priority"), span)

    # event rules -------------------------------------------------------------------
    def handlers(self, node: Node) -> tuple[ir.Handler, ...]:
        if _is_empty(node):
            return ()
        if not isinstance(node, MappingNode):
            self.shape_error(node, "on", "a mapping of events to what happens", "{ hold: pause }")
            return ()
        out = []
        for item in self.items(node):
            handler = self.handler(item)
            if handler is not None:
                out.append(handler)
        return tuple(out)

    def handler(self, item: _Key) -> ir.Handler | None:
        event = self.event(item.key, "on")
        node = item.value
        value = self.scalar(node, item.name, _HANDLER_FORMS, "pause")
        if event is None or value is None:
            return None
        assert isinstance(node, ScalarNode)
        span = self.pair(item)
        text = value.strip()
        if text in ("pause", "resume", "ignore"):
            return ir.Handler(event, ir.HandlerAction(text), None, None, span)
        m = re.match(r"\s*pause\s+until\s+", value)
        if m and value[m.end() :].strip():
            until = self.expr_at(node, m.end())
            return (
                None
                if until is None
                else ir.Handler(event, ir.HandlerAction.PAUSE, None, until, span)
            )
        m = re.fullmatch(r"\s*(stop\s*->\s*|goto\s+)(\S+)\s*", value)
        if m:
            target = m[2]
            if not _full("NAME", target):
                self.c.error(
                    self.sub_span(node, m.start(2), m.end(2)),
                    f"{target!r} is not a state name",
                    hint="write e.g. `stop -> insolvent`",
                    code=SYNTAX,
                )
                return None
            action = ir.HandlerAction.GOTO if m[1].startswith("goto") else ir.HandlerAction.STOP
            return ir.Handler(event, action, target, None, span)
        if re.fullmatch(r"stop\s*", text) or re.fullmatch(r"stop\s+\w+", text):
            hint = f"write `stop -> <terminal>`: one of {TERMINAL_LIST}"
        else:
            hint = "e.g. `pause until promised_date + 3 business days`"
        self.c.error(
            self.span(node),
            f"`{item.name}` must be one of {_HANDLER_FORMS}, not {value!r}",
            hint=hint,
            code=SYNTAX,
        )
        return None
