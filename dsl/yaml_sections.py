"""The YAML reader's top level: the policy's settings, calendar, limits, residual,
contact limits, quiet hours, segments and ladders.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from functools import partial

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import NOWHERE, Span
from mahnwerk.dsl.expr import (
    Duration,
    parse_money,
)
from mahnwerk.dsl.yaml_vocab import (
    CHANNEL_NAMES,
    IMPOSSIBLE,
    LIMIT_KEYS,
    MISSING,
    SEGMENT_HINTS,
    SEGMENT_KEYS,
    SYNTAX,
    TOP_HINTS,
    TOP_KEYS,
    _describe,
    _full,
    _is_empty,
    _Key,
    _money_problem,
    _terminal,
)


class _SectionReader:
    """The policy's top-level keys; states and actions come from the other parts."""

    # the policy ------------------------------------------------------------------
    def policy(self, root: Node | None) -> ir.Policy | None:
        if root is None:
            self.c.error(
                Span(self.path, 1, 1),
                "the file holds no policy",
                hint="a YAML policy starts with `policy: <name>` and `version: 1`",
                code=MISSING,
            )
            return None
        if not isinstance(root, MappingNode):
            self.c.error(
                self.span(root),
                f"a YAML policy is a mapping of keys like `policy:` and `ladders:`, "
                f"not {_describe(root)}",
                hint="start the file with `policy: <name>`",
                code=SYNTAX,
            )
            return None
        span = self.span(root)
        top = self.mapping(root, TOP_KEYS, "the policy", "policy", "...", TOP_HINTS) or {}
        settings, _ = self.optional(
            top,
            {
                "policy": partial(self.text, example="de-b2c-standard"),
                "version": partial(self.integer, what="the version", minimum=1, example="1"),
                "currency": partial(self.name, example="EUR"),
                "timezone": partial(self.text, example="Europe/Berlin"),
                "language": partial(self.name, example="de"),
            },
        )
        name, version = settings.get("policy"), settings.get("version")
        if "calendar" in top:
            settings["calendar"] = self.calendar(top["calendar"])
        limits = self.limits(top["limits"]) if "limits" in top else ir.Limits(span=span)
        segments = self.segments(top["segments"].value) if "segments" in top else ()
        ladders = self.ladders(top["ladders"].value) if "ladders" in top else ()
        handlers = self.handlers(top["on"].value) if "on" in top else ()
        move, move_span = ir.SegmentMove.SAME_STATE, NOWHERE
        if "segment_change" in top:
            node = top["segment_change"].value
            chosen = self.choice(node, "segment_change", [m.value for m in ir.SegmentMove])
            if chosen is not None:
                move, move_span = ir.SegmentMove(chosen), self.pair(top["segment_change"])
        self.missing(  # the text reader's words (E012)
            top,
            span,
            (
                (key, f"the policy does not say its {what}", hint)
                for key, what, hint in (
                    ("policy", "name", "add `policy: <name>` at the top"),
                    ("version", "version", "add `version: 1`"),
                    ("currency", "currency", "add `currency: EUR`"),
                    ("timezone", "timezone", "add `timezone: Europe/Berlin`"),
                    (
                        "calendar",
                        "calendar",
                        "add `calendar: { country: DE, region: from customer }`",
                    ),
                    ("language", "language", "add `language: de`"),
                )
            ),
        )
        if (
            name is None
            or version is None
            or limits is None
            or any(
                settings.get(k) is None for k in ("currency", "timezone", "calendar", "language")
            )
        ):
            return None
        return ir.Policy(
            name=name,
            version=version,
            currency=settings["currency"],
            timezone=settings["timezone"],
            calendar=settings["calendar"],
            language=settings["language"],
            segments=segments,
            ladders=ladders,
            handlers=handlers,
            limits=limits,
            segment_move=move,
            segment_move_span=move_span,
            path=self.path,
            span=span,
        )

    def calendar(self, item: _Key) -> ir.Calendar | None:
        example = "{ country: DE, region: from customer }"
        keys = self.mapping(item.value, ("country", "region"), "the calendar", "calendar", example)
        if keys is None:
            return None
        span = self.pair(item)
        if "country" not in keys:
            self.c.error(
                span,
                "the calendar does not say its country",
                hint=f"write `calendar: {example}`",
                code=MISSING,
            )
            return None
        country = self.name(keys["country"].value, "country", "DE")
        if country is None:
            return None
        if "region" not in keys:
            return ir.Calendar(country, span=span)
        node = keys["region"].value
        value = self.scalar(node, "region", "a region", "BY")
        if value is None:
            return None
        if re.fullmatch(r"from\s+customer", value.strip()):
            return ir.Calendar(country, region_from_customer=True, span=span)
        if value.strip() == "from":
            self.c.error(
                self.span(node),
                "`region: from` names no region",
                hint="write `region: from customer` for the customer's own region",
                code=SYNTAX,
            )
            return None
        region = self.name(node, "region", "BY")
        return None if region is None else ir.Calendar(country, region=region, span=span)

    # limits ----------------------------------------------------------------------
    def limits(self, item: _Key) -> ir.Limits | None:
        span = self.pair(item)
        if _is_empty(item.value):
            return ir.Limits(span=span)
        keys = self.mapping(item.value, LIMIT_KEYS, "the limits", "limits", "{ fee_cap: 2.50 EUR }")
        if keys is None:
            return None
        values, ok = self.optional(
            keys,
            {
                "minimum_balance": self.money,
                "fee_cap": self.money,
                "minimum_handover": self.money,
                "skonto_tolerance": self.money,
                "late_skonto_write_off": self.money,
                "letter_gap": partial(self.duration, example="14 days"),
                "payment_grace": partial(self.duration, example="3 business days"),
                "late_skonto_letter": partial(self.text, example="skonto_nachforderung"),
                "late_skonto_ladder": self.flag,
                "fee_share": partial(
                    self.decimal, what="a percentage like 30%", example="30%", percent=True
                ),
            },
        )
        if "contacts" in keys:
            contacts = self.contacts(keys["contacts"].value)
            ok &= contacts is not None
            if contacts is not None:
                values["max_contacts"], values["contact_window"] = contacts
        if "residual" in keys:
            values["residual"] = self.residual(keys["residual"])
            ok &= values["residual"] is not None
        quiet: tuple[ir.QuietHours, ...] = ()
        if "quiet_hours" in keys:
            found = self.quiet_hours(keys["quiet_hours"])
            ok &= found is not None
            quiet = found or ()
        if not ok:
            return None
        spans = tuple((name, self.pair(keys[name])) for name in keys)
        return ir.Limits(quiet_hours=quiet, span=span, spans=spans, **values)

    def residual(self, item: _Key) -> ir.Residual | None:
        """`residual: up to 1.00 EUR write off` (or `… ask in next letter`), issue 11."""
        example = "up to 1.00 EUR write off"
        node = item.value
        value = self.scalar(node, "residual", "a tolerance and what to do", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        m = re.fullmatch(r"\s*(?:up\s+to\s+)?(\S+(?:\s+[^\d\s]{1,3}(?=\s|$))?)\s*(.*?)\s*", value)
        if m is None:
            self.shape_error(node, "residual", "a tolerance and what to do", example)
            return None
        amount, words = m[1], " ".join(m[2].split())
        if not _full("MONEY", amount):
            message, better = _money_problem(amount)
            self.c.error(
                self.sub_span(node, m.start(1), m.end(1)),
                f"`residual`: {message}",
                hint=f"write e.g. `residual: up to {better} write off`",
                code=SYNTAX,
            )
            return None
        choices = {a.value: a for a in ir.ResidualAction}
        if words and words not in choices:
            self.c.error(
                self.sub_span(node, m.start(2), m.end(2)),
                f"`residual`: {m[2]!r} is not what to do with a residual",
                hint=f"write `residual: up to {amount} write off` or "
                f"`residual: up to {amount} ask in next letter`",
                code=SYNTAX,
            )
            return None
        action = choices[words] if words else ir.ResidualAction.WRITE_OFF
        return ir.Residual(parse_money(amount), action, self.pair(item))

    def contacts(self, node: Node) -> tuple[int, Duration] | None:
        example = "at most 3 per 7 days"
        value = self.scalar(node, "contacts", "a contact limit", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        m = re.fullmatch(r"\s*(?:at\s+most\s+)?(\S+)\s+(?:contacts?\s+)?per\s+(.+?)\s*", value)
        if not m:
            self.shape_error(node, "contacts", "a contact limit", example)
            return None
        count = None
        if not re.fullmatch(r"\d+(\.\d+)?", m[1]):
            self.c.error(
                self.sub_span(node, m.start(1), m.end(1)),
                f"`contacts`: {m[1]!r} is not a number",
                hint=f"write e.g. `contacts: {example}`",
                code=SYNTAX,
            )
        elif Decimal(m[1]) != int(Decimal(m[1])) or Decimal(m[1]) < 1:
            self.c.error(
                self.sub_span(node, m.start(1), m.end(1)),
                f"the number of contacts must be a whole number ≥ 1, not {m[1]}",
                hint=f"write e.g. `contacts: {example}`",
                code=IMPOSSIBLE,
            )
        else:
            count = int(Decimal(m[1]))
        window = self.duration_text(node, "contacts", m[2], m.start(2), "7 days")
        if count is None or window is None:
            return None
        return count, window

    def quiet_hours(self, item: _Key) -> tuple[ir.QuietHours, ...] | None:
        """`{ sms: "20:00-08:00", call: [...] }`, or a list of such one-key mappings."""
        node = item.value
        example = '{ sms: "20:00-08:00" }'
        if isinstance(node, SequenceNode):
            entries = []
            for element in node.value:
                if not isinstance(element, MappingNode):
                    self.shape_error(element, "quiet_hours", "a channel and its hours", example)
                    return None
                entries.extend(self.items(element))
        elif isinstance(node, MappingNode):
            entries = list(self.items(node))
        else:
            self.shape_error(node, "quiet_hours", "a mapping of channels", example)
            return None
        out: list[ir.QuietHours] = []
        ok = True
        for entry in entries:
            if entry.name not in CHANNEL_NAMES:
                self.unknown_key(entry, tuple(CHANNEL_NAMES), "the quiet hours")
                ok = False
                continue
            channel = ir.Channel(entry.name)
            ranges = entry.value.value if isinstance(entry.value, SequenceNode) else [entry.value]
            for value_node in ranges:
                span = self.pair(entry) if value_node is entry.value else self.span(value_node)
                found = self.hours(value_node, entry.name)
                if found is None:
                    ok = False
                else:
                    out.append(ir.QuietHours(channel, found[0], found[1], span))
        return tuple(out) if ok else None

    def hours(self, node: Node, channel: str) -> tuple[time, time] | None:
        example = '"20:00-08:00"'
        value = self.scalar(node, channel, "a time range", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        clock = _terminal("CLOCK").pattern
        m = re.fullmatch(rf"\s*({clock})\s*(?:-|to)\s*({clock})\s*", value)
        if not m:
            self.shape_error(node, channel, "a time range", example)
            return None
        start = self.clock(node, channel, m[1], m.start(1))
        end = self.clock(node, channel, m[2], m.start(2))
        if start is None or end is None:
            return None
        return start, end

    # segments --------------------------------------------------------------------
    def segments(self, node: Node) -> tuple[ir.Segment, ...]:
        if _is_empty(node):
            return ()
        if not isinstance(node, SequenceNode):
            self.shape_error(
                node,
                "segments",
                "a list (one `- name: ...` per segment)",
                "[{ name: default, ladder: standard }]",
            )
            return ()
        out = []
        for element in node.value:
            segment = self.segment(element)
            if segment is not None:
                out.append(segment)
        return tuple(out)

    def segment(self, node: Node) -> ir.Segment | None:
        if not isinstance(node, MappingNode):
            self.c.error(
                self.span(node),
                f"a segment must be a mapping with `name:` and `ladder:`, not {_describe(node)}",
                hint="write e.g. `- { name: default, ladder: standard }`",
                code=SYNTAX,
            )
            return None
        keys = self.mapping(node, SEGMENT_KEYS, "a segment", "segments", "...", SEGMENT_HINTS) or {}
        span = self.span(node)
        self.missing(
            keys,
            span,
            (
                (key, f"this segment does not say its {key}", f"add `{key}: ...`")
                for key in ("name", "ladder")
            ),
        )
        got, ok = self.optional(
            keys,
            {
                "name": partial(self.name, example="default"),
                "ladder": partial(self.name, example="standard"),
                "when": partial(self.expr, example="customer.vulnerable"),
                "tone": partial(self.name, example="friendly"),
                "language": partial(self.name, example="en"),
            },
        )
        name, ladder = got.get("name"), got.get("ladder")
        if not ok or name is None or ladder is None:
            return None
        return ir.Segment(name, ladder, got.get("when"), got.get("tone"), got.get("language"), span)

    # ladders -----------------------------------------------------------------------
    def ladders(self, node: Node) -> tuple[ir.Ladder, ...]:
        if _is_empty(node):
            return ()
        if not isinstance(node, MappingNode):
            self.shape_error(
                node,
                "ladders",
                "a mapping of ladder names to their states",
                "{ standard: { erinnerung: { after: 7d after due } } }",
            )
            return ()
        out = []
        for item in self.items(node):
            name = self.name(item.key, "ladder name", "standard")
            ladder = self.ladder(item)
            if name is not None and ladder is not None:
                out.append(ladder)
        return tuple(out)

    def ladder(self, item: _Key) -> ir.Ladder | None:
        span = self.pair(item)
        if _is_empty(item.value):
            return ir.Ladder(item.name, (), (), span)
        if not isinstance(item.value, MappingNode):
            self.c.error(
                self.span(item.value),
                f"ladder {item.name!r} must map state names to their steps, "
                f"not {_describe(item.value)}",
                hint="write e.g. `erinnerung: { after: 7d after due, send: ... }`",
                code=SYNTAX,
            )
            return None
        states: list[ir.State] = []
        transitions: list[ir.Transition] = []
        ok = True
        for entry in self.items(item.value):
            # `transitions:` holds a list; a state (even one called so) is a mapping
            if entry.name == "transitions" and isinstance(entry.value, SequenceNode):
                for element in entry.value.value:
                    transition = self.transition(element)
                    ok &= transition is not None
                    if transition is not None:
                        transitions.append(transition)
                continue
            state = self.state(entry)
            ok &= state is not None
            if state is not None:
                states.append(state)
        if not ok:
            return None
        return ir.Ladder(item.name, tuple(states), tuple(transitions), span)
