"""The YAML reader's actions: what a state does on entry (send, offer, fee,
interest, approval, notify, report, handover and the switches), one method a
key, looked up in the `_ACTIONS` table.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from yaml.nodes import Node, ScalarNode, SequenceNode

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Span
from mahnwerk.dsl.yaml_vocab import (
    APPROVAL_KEYS,
    CHANNEL_NAMES,
    MISSING,
    OFFER_KEYS,
    SYNTAX,
    _full,
    _Key,
)


class _ActionReader:
    """One method per action key of a state."""

    # actions -------------------------------------------------------------------
    def each(self, item: _Key) -> Iterator[tuple[Node, Span]]:
        """The value of an action key, or each element of a list there, with its span."""
        if isinstance(item.value, SequenceNode):
            for element in item.value.value:
                yield element, self.span(element)
        else:
            yield item.value, self.pair(item)

    def send(self, item: _Key) -> list[ir.Action] | None:
        example = "{ channel: letter, template: mahnung_1 }"
        out: list[ir.Action] = []
        ok = True
        for node, span in self.each(item):
            keys = self.mapping(node, ("channel", "template"), "`send`", "send", example)
            if keys is None:
                ok = False
                continue
            channel = template = None
            for required in ("channel", "template"):
                if required not in keys:
                    self.c.error(
                        span,
                        f"`send` does not say its {required}",
                        hint=f"write e.g. `send: {example}`",
                        code=MISSING,
                    )
            if "channel" in keys:
                channel = self.choice(keys["channel"].value, "channel", CHANNEL_NAMES)
            if "template" in keys:
                template = self.text(keys["template"].value, "template", "mahnung_1")
            if channel is None or template is None:
                ok = False
                continue
            out.append(ir.Send(ir.Channel(channel), template, span))
        return out if ok else None

    def choice(self, node: Node, key: str, allowed: list[str]) -> str | None:
        value = self.scalar(node, key, "one of " + ", ".join(allowed), allowed[0])
        if value is None:
            return None
        if value not in allowed:
            near = difflib.get_close_matches(value, allowed, n=1, cutoff=0.5)
            self.c.error(
                self.span(node),
                f"unknown {key} {value!r}",
                hint=(f"did you mean {near[0]!r}? " if near else "")
                + "one of: "
                + ", ".join(allowed),
                code=SYNTAX,
            )
            return None
        return value

    def offer(self, item: _Key) -> list[ir.Action] | None:
        example = "{ kind: skonto, percent: 2%, within: 10d }"
        out: list[ir.Action] = []
        ok = True
        for node, span in self.each(item):
            if isinstance(node, ScalarNode):
                self.shape_error(node, "offer", "a mapping", example)
                ok = False
                continue
            keys = self.mapping(node, OFFER_KEYS, "`offer`", "offer", example)
            offer = None if keys is None else self.one_offer(keys, span)
            ok &= offer is not None
            if offer is not None:
                out.append(offer)
        return out if ok else None

    def one_offer(self, keys: dict[str, _Key], span: Span) -> ir.Offer | None:
        if "kind" not in keys:
            self.c.error(
                span,
                "`offer` does not say its kind",
                hint="add `kind: skonto` or `kind: payment_plan`",
                code=MISSING,
            )
            return None
        kind = self.choice(keys["kind"].value, "kind", ["skonto", "payment_plan", "discount"])
        if kind is None:
            return None
        wrong = {
            "skonto": ("instalments", "until"),
            "payment_plan": ("percent", "within", "until"),
            "discount": ("instalments", "within"),
        }[kind]
        ok = True
        for key in wrong:
            if key in keys:
                other = {"instalments": "payment_plan", "until": "discount"}.get(key, "skonto")
                self.c.error(
                    self.span(keys[key].key),
                    f"`{key}` belongs to a {other} offer, not to a {kind} offer",
                    hint=f"remove `{key}`, or write `kind: {other}`",
                    code=SYNTAX,
                )
                ok = False
        when = None
        if "when" in keys:
            when = self.expr(keys["when"].value, "when", "balance > 200 EUR")
            ok &= when is not None
        if kind == "payment_plan":
            instalments = None
            if "instalments" in keys:
                instalments = self.integer(
                    keys["instalments"].value, "instalments", "the number of instalments", 2, "6"
                )
                ok &= instalments is not None
            if not ok:
                return None
            return ir.Offer("payment_plan", instalments=instalments, when=when, span=span)
        if kind == "discount":
            return self.discount_offer(keys, span, when, ok)
        if "percent" not in keys:
            self.c.error(
                span,
                "a skonto offer does not say its percentage",
                hint="add `percent: 2%`",
                code=MISSING,
            )
            return None
        percent = self.decimal(
            keys["percent"].value, "percent", "a percentage like 2%", "2%", percent=True
        )
        within = None
        if "within" in keys:
            within = self.duration(keys["within"].value, "within", "10d")
            ok &= within is not None
        if not ok or percent is None:
            return None
        return ir.Offer("skonto", percent=percent, within=within, when=when, span=span)

    def discount_offer(
        self, keys: dict[str, _Key], span: Span, when: Any, ok: bool
    ) -> ir.Offer | None:
        """`{ kind: discount, percent: 2%, until: 7d after due }` (issue 19)."""
        for required, example in (("percent", "percent: 2%"), ("until", "until: 7d after due")):
            if required not in keys:
                self.c.error(
                    span,
                    "a discount offer does not say its "
                    + ("percentage" if required == "percent" else "last day (`until`)"),
                    hint=f"add `{example}`",
                    code=MISSING,
                )
                ok = False
        if not ok:
            return None
        percent = self.decimal(
            keys["percent"].value, "percent", "a percentage like 2%", "2%", percent=True
        )
        until = self.until(keys["until"])
        if percent is None or until is None:
            return None
        return ir.Offer("discount", percent=percent, until=until, when=when, span=span)

    def until(self, item: _Key) -> ir.TimeTrigger | None:
        """`7d after due`, `3d before due`, `30d after issue`: a discount's last day."""
        example = "7d after due"
        node = item.value
        value = self.scalar(node, "until", "a day like 7d after due", example)
        if value is None:
            return None
        assert isinstance(node, ScalarNode)
        m = re.fullmatch(r"(\s*)(.+?)\s+(before|after)\s+(due|issue)\s*", value)
        if not m:
            self.c.error(
                self.span(node),
                f"`until`: {value.strip()!r} is not a day counted from `due` or `issue`",
                hint=f"write e.g. `until: {example}`",
                code=SYNTAX,
            )
            return None
        offset = self.duration_text(node, "until", m[2], m.start(2), example)
        if offset is None:
            return None
        signed = -offset if m[3] == "before" else offset
        return ir.TimeTrigger(signed, ir.Anchor(m[4]), None, self.pair(item))

    def fee(self, item: _Key) -> list[ir.Action] | None:
        amount = self.money(item.value, "fee")
        return None if amount is None else [ir.Fee(amount, self.pair(item))]

    def interest(self, item: _Key) -> list[ir.Action] | None:
        example = "statutory"
        value = self.scalar(item.value, "interest", "`statutory` or `N points above base`", example)
        if value is None:
            return None
        text = value.strip()
        if text == "statutory":
            return [ir.Interest(True, None, self.pair(item))]
        m = re.fullmatch(r"(\S+)\s+points?\s+above\s+(?:the\s+)?base(?:\s+rate)?", text)
        if m and _full("NUMBER", m[1]):
            return [ir.Interest(False, Decimal(m[1]), self.pair(item))]
        self.c.error(
            self.span(item.value),
            f"`interest` must be `statutory` or like `9 points above base`, not {value!r}",
            hint="write e.g. `interest: statutory` (§ 288 BGB)",
            code=SYNTAX,
        )
        return None

    def approval(self, item: _Key) -> list[ir.Action] | None:
        example = "{ approvers: 2, when: balance > 1000 EUR, otherwise: 1 }"
        span = self.pair(item)
        node = item.value
        if isinstance(node, ScalarNode):
            count = self.integer(node, "approval", "the number of approvers", 1, "2")
            return None if count is None else [ir.Approval(count, None, count, span)]
        keys = self.mapping(node, APPROVAL_KEYS, "`approval`", "approval", example)
        if keys is None:
            return None
        if "approvers" not in keys:
            self.c.error(
                span,
                "`approval` does not say how many approvers",
                hint=f"write e.g. `approval: {example}`",
                code=MISSING,
            )
            return None
        count = self.integer(
            keys["approvers"].value, "approvers", "the number of approvers", 1, "2"
        )
        if "when" not in keys:
            if "otherwise" in keys:
                self.c.error(
                    self.span(keys["otherwise"].key),
                    "`otherwise` needs a `when`: without one the approvers are always needed",
                    hint=f"write e.g. `approval: {example}`",
                    code=SYNTAX,
                )
                return None
            return None if count is None else [ir.Approval(count, None, count, span)]
        when = self.expr(keys["when"].value, "when", "balance > 1000 EUR")
        otherwise: int | None = 0
        if "otherwise" in keys:
            otherwise = self.integer(
                keys["otherwise"].value, "otherwise", "the number of approvers", 0, "1"
            )
        if count is None or when is None or otherwise is None:
            return None
        return [ir.Approval(count, when, otherwise, span)]

    def texts(self, item: _Key, make: Callable[[str, Span], ir.Action], example: str):
        out: list[ir.Action] = []
        ok = True
        for node, span in self.each(item):
            value = self.text(node, item.name, example)
            ok &= value is not None
            if value is not None:
                out.append(make(value, span))
        return out if ok else None

    def notify(self, item: _Key) -> list[ir.Action] | None:
        return self.texts(item, ir.Notify, "vertrieb")

    def report(self, item: _Key) -> list[ir.Action] | None:
        return self.texts(item, ir.CreditReport, "schufa")

    def handover(self, item: _Key) -> list[ir.Action] | None:
        agency = self.text(item.value, "handover", "Inkasso Partner GmbH")
        return None if agency is None else [ir.Handover(agency, self.pair(item))]

    def switch(self, item: _Key, make: Callable[[Span], ir.Action]) -> list[ir.Action] | None:
        flag = self.flag(item.value, item.name)
        if flag is None:
            return None
        return [make(self.pair(item))] if flag else []


_ACTIONS: dict[str, Callable[[_ActionReader, _Key], list[ir.Action] | None]] = {
    "send": _ActionReader.send,
    "offer": _ActionReader.offer,
    "fee": _ActionReader.fee,
    "lump_sum": lambda r, item: r.switch(item, ir.LumpSum),
    "interest": _ActionReader.interest,
    "approval": _ActionReader.approval,
    "notify": _ActionReader.notify,
    "stop_credit": lambda r, item: r.switch(item, ir.StopCredit),
    "report": _ActionReader.report,
    "court_order": lambda r, item: r.switch(item, ir.CourtOrder),
    "handover": _ActionReader.handover,
    "write_off": lambda r, item: r.switch(item, ir.WriteOff),
}
