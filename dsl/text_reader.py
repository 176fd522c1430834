"""Reads the text form of a policy (`*.mahn`) into the IR.

The grammar lives in `policy.lark` beside this file, together with the
condition grammar the YAML reader uses too.  Lark's contextual lexer lets
words like `balance` be a keyword in `minimum balance 5.00 EUR` and a fact in
`when balance > 50 EUR`, so the text reads like the trade talks.

Syntax errors are reported with the position and a plain list of what would
have been accepted; the reader recovers nothing (a half-read policy must never
run), but the semantic checker later reports all its findings at once.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

from lark import Token, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import NOWHERE, Collector, Span
from mahnwerk.dsl.expr import (
    Expr,
    ExprBuilder,
    grammar_parser,
    parse_duration,
    parse_money,
    syntax_message,
    unquote,
)
from mahnwerk.dsl.expr_parse import _LocatedError

EVENT_NAMES = {e.value for e in ir.EventKind}


def read_text(source: str, path: str, collector: Collector) -> ir.Policy | None:
    """Parse `source` (the contents of `path`); problems go to `collector`."""
    try:
        tree = grammar_parser().parse(source, start="policy")
    except UnexpectedInput as exc:
        line = getattr(exc, "line", 1) or 1
        col = getattr(exc, "column", 1) or 1
        collector.error(Span(path, line, col), syntax_message(exc, source), code="E001")
        return None
    try:
        return _PolicyBuilder(path, collector).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, _LocatedError):
            collector.error(exc.orig_exc.span, exc.orig_exc.message, code="E002")
            return None
        raise


class _Item:
    """A tagged piece of a policy body, collected by `policy`/`limits`."""

    __slots__ = ("kind", "value", "span")

    def __init__(self, kind: str, value: Any, span: Span):
        self.kind = kind
        self.value = value
        self.span = span


class _PolicyBuilder(ExprBuilder):
    def __init__(self, path: str, collector: Collector):
        super().__init__(path)
        self.c = collector

    # helpers -----------------------------------------------------------------
    def _int(self, tok: Token, what: str, minimum: int = 0) -> int:
        try:
            value = Decimal(str(tok))
        except ArithmeticError:  # pragma: no cover - grammar guarantees digits
            value = Decimal(-1)
        if value != value.to_integral_value() or value < minimum:
            raise _LocatedError(
                self.tok_span(tok), f"{what} must be a whole number ≥ {minimum}, not {tok}"
            )
        return int(value)

    def _event(self, tok: Token) -> ir.EventKind:
        name = str(tok)
        if name not in EVENT_NAMES:
            import difflib

            near = difflib.get_close_matches(name, sorted(EVENT_NAMES), n=1)
            hint = (
                f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(sorted(EVENT_NAMES))
            )
            self.c.error(self.tok_span(tok), f"unknown event {name!r}", hint=hint, code="E010")
            return ir.EventKind.HOLD  # placeholder; the collector already failed the file
        return ir.EventKind(name)

    def _clock(self, tok: Token) -> time:
        hh, mm = str(tok).split(":")
        if int(hh) > 23 or int(mm) > 59:
            raise _LocatedError(self.tok_span(tok), f"not a time of day: {tok}")
        return time(int(hh), int(mm))

    @staticmethod
    def _split(children: list) -> tuple[list[Token], list[Any]]:
        toks = [c for c in children if isinstance(c, Token)]
        rest = [c for c in children if not isinstance(c, Token)]
        return toks, rest

    # top level ---------------------------------------------------------------
    @v_args(meta=True)
    def policy(self, meta: Any, children: list) -> ir.Policy | None:
        name_tok, version_tok, *items = children
        span = self.meta_span(meta)
        settings: dict[str, _Item] = {}
        segments, ladders, handlers = [], [], []
        limits = ir.Limits(span=span)
        limits_seen = False
        move: _Item | None = None
        for item in items:
            if item.kind == "segment_change":
                if move is not None:
                    self.c.error(item.span, "`on segment change` is set twice", code="E011")
                move = item
            elif item.kind in ("currency", "timezone", "calendar", "language"):
                if item.kind in settings:
                    self.c.error(item.span, f"{item.kind} is set twice", code="E011")
                settings[item.kind] = item
            elif item.kind == "limits":
                if limits_seen:
                    self.c.error(
                        item.span, "a second `limits` block: merge it into the first", code="E011"
                    )
                limits_seen = True
                limits = item.value
            elif item.kind == "segment":
                segments.append(item.value)
            elif item.kind == "ladder":
                ladders.append(item.value)
            elif item.kind == "handler":
                handlers.append(item.value)
        if "language" not in settings:
            for seg in segments:
                if seg.language is not None:
                    self.c.error(
                        seg.span,
                        f"`language {seg.language}` here belongs to segment {seg.name!r}, "
                        "and the policy has no language of its own",
                        hint="end the segment line with `;` before the policy's `language`",
                        code="E012",
                    )
        missing = [k for k in ("currency", "timezone", "calendar", "language") if k not in settings]
        for key in missing:
            self.c.error(
                span,
                f"the policy does not say its {key}",
                hint={
                    "currency": "add `currency EUR`",
                    "timezone": 'add `timezone "Europe/Berlin"`',
                    "calendar": "add `calendar DE region from customer`",
                    "language": "add `language de`",
                }[key],
                code="E012",
            )
        if missing:
            return None
        return ir.Policy(
            name=unquote(str(name_tok)),
            version=self._int(version_tok, "the version", 1),
            currency=settings["currency"].value,
            timezone=settings["timezone"].value,
            calendar=settings["calendar"].value,
            language=settings["language"].value,
            segments=tuple(segments),
            ladders=tuple(ladders),
            handlers=tuple(handlers),
            limits=limits,
            segment_move=move.value if move else ir.SegmentMove.SAME_STATE,
            segment_move_span=move.span if move else NOWHERE,
            path=self.path,
            span=span,
        )

    @v_args(meta=True)
    def segment_change(self, meta: Any, children: list) -> _Item:
        return _Item("segment_change", children[0], self.meta_span(meta))

    def move_target(self, children: list) -> ir.SegmentMove:
        return ir.SegmentMove(" ".join(str(c) for c in children))

    @v_args(meta=True)
    def currency(self, meta: Any, children: list) -> _Item:
        return _Item("currency", str(children[0]), self.meta_span(meta))

    @v_args(meta=True)
    def timezone(self, meta: Any, children: list) -> _Item:
        return _Item("timezone", unquote(str(children[0])), self.meta_span(meta))

    @v_args(meta=True)
    def language(self, meta: Any, children: list) -> _Item:
        return _Item("language", str(children[0]), self.meta_span(meta))

    @v_args(meta=True)
    def calendar(self, meta: Any, children: list) -> _Item:
        span = self.meta_span(meta)
        return _Item("calendar", ir.Calendar(str(children[0]), span=span), span)

    @v_args(meta=True)
    def calendar_region(self, meta: Any, children: list) -> _Item:
        span = self.meta_span(meta)
        cal = ir.Calendar(str(children[0]), region=str(children[1]), span=span)
        return _Item("calendar", cal, span)

    @v_args(meta=True)
    def calendar_customer(self, meta: Any, children: list) -> _Item:
        span = self.meta_span(meta)
        cal = ir.Calendar(str(children[0]), region_from_customer=True, span=span)
        return _Item("calendar", cal, span)

    # limits ------------------------------------------------------------------
    @v_args(meta=True)
    def limits(self, meta: Any, children: list) -> _Item:
        span = self.meta_span(meta)
        values: dict[str, Any] = {}
        quiet: list[ir.QuietHours] = []
        for item in children:
            if item.kind == "quiet_hours":
                quiet.append(item.value)
                continue
            if item.kind in values or (item.kind == "max_contacts" and "max_contacts" in values):
                self.c.error(item.span, "this limit is set twice", code="E011")
            if item.kind == "max_contacts":
                values["max_contacts"], values["contact_window"] = item.value
            else:
                values[item.kind] = item.value
        spans = tuple((item.kind, item.span) for item in children)
        limits = ir.Limits(quiet_hours=tuple(quiet), span=span, spans=spans, **values)
        return _Item("limits", limits, span)

    @v_args(meta=True)
    def min_balance(self, meta: Any, children: list) -> _Item:
        return _Item("minimum_balance", parse_money(str(children[0])), self.meta_span(meta))

    @v_args(meta=True)
    def max_contacts(self, meta: Any, children: list) -> _Item:
        count = self._int(children[0], "the number of contacts", 1)
        window = parse_duration(str(children[1]))
        return _Item("max_contacts", (count, window), self.meta_span(meta))

    @v_args(meta=True)
    def letter_gap(self, meta: Any, children: list) -> _Item:
        return _Item("letter_gap", parse_duration(str(children[0])), self.meta_span(meta))

    @v_args(meta=True)
    def quiet_hours(self, meta: Any, children: list) -> _Item:
        channel, start, end = children
        span = self.meta_span(meta)
        qh = ir.QuietHours(ir.Channel(str(channel)), self._clock(start), self._clock(end), span)
        return _Item("quiet_hours", qh, span)

    @v_args(meta=True)
    def fee_cap(self, meta: Any, children: list) -> _Item:
        return _Item("fee_cap", parse_money(str(children[0])), self.meta_span(meta))

    @v_args(meta=True)
    def fee_share(self, meta: Any, children: list) -> _Item:
        pct = Decimal(str(children[0]).rstrip("%").strip())
        return _Item("fee_share", pct, self.meta_span(meta))

    @v_args(meta=True)
    def payment_grace(self, meta: Any, children: list) -> _Item:
        return _Item("payment_grace", parse_duration(str(children[0])), self.meta_span(meta))

    @v_args(meta=True)
    def residual(self, meta: Any, children: list) -> _Item:
        span = self.meta_span(meta)
        action = ir.ResidualAction.WRITE_OFF
        if len(children) > 1 and children[1] is not None:
            action = ir.ResidualAction(" ".join(str(t) for t in children[1].children))
        return _Item("residual", ir.Residual(parse_money(str(children[0])), action, span), span)

    @v_args(meta=True)
    def min_handover(self, meta: Any, children: list) -> _Item:
        return _Item("minimum_handover", parse_money(str(children[0])), self.meta_span(meta))

    @v_args(meta=True)
    def skonto_tolerance(self, meta: Any, children: list) -> _Item:
        return _Item("skonto_tolerance", parse_money(str(children[0])), self.meta_span(meta))

    @v_args(meta=True)
    def late_skonto_letter(self, meta: Any, children: list) -> _Item:
        template = unquote(str(children[0]))
        return _Item("late_skonto_letter", template, self.meta_span(meta))

    @v_args(meta=True)
    def late_skonto_write_off(self, meta: Any, children: list) -> _Item:
        return _Item("late_skonto_write_off", parse_money(str(children[0])), self.meta_span(meta))

    @v_args(meta=True)
    def late_skonto_ladder(self, meta: Any, children: list) -> _Item:
        return _Item("late_skonto_ladder", True, self.meta_span(meta))

    # segments ----------------------------------------------------------------
    @v_args(meta=True)
    def segment(self, meta: Any, children: list) -> _Item:
        span = self.meta_span(meta)
        name = str(children[0])
        rest = children[1:]
        when: Expr | None = None
        if rest and not isinstance(rest[0], Token):
            when = rest.pop(0)
        ladder = str(rest.pop(0))
        options = dict(rest)
        seg = ir.Segment(
            name=name,
            ladder=ladder,
            when=when,
            tone=options.get("tone"),
            language=options.get("language"),
            span=span,
        )
        return _Item("segment", seg, span)

    def tone(self, children: list) -> tuple[str, str]:
        return ("tone", str(children[0]))

    def segment_language(self, children: list) -> tuple[str, str]:
        return ("language", str(children[0]))

    # ladders -----------------------------------------------------------------
    @v_args(meta=True)
    def ladder(self, meta: Any, children: list) -> _Item:
        span = self.meta_span(meta)
        name = str(children[0])
        states = tuple(c for c in children[1:] if isinstance(c, ir.State))
        transitions = tuple(c for c in children[1:] if isinstance(c, ir.Transition))
        return _Item("ladder", ir.Ladder(name, states, transitions, span), span)

    @v_args(meta=True)
    def state(self, meta: Any, children: list) -> ir.State:
        span = self.meta_span(meta)
        name = str(children[0])
        rest = list(children[1:])
        title = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            title = unquote(str(rest.pop(0)))
        trigger = rest.pop(0)
        sources: tuple[str, ...] = ()
        if rest and isinstance(rest[0], tuple):
            sources = rest.pop(0)
        guard = None
        if rest and not isinstance(rest[0], _Action):
            guard = rest.pop(0)
        actions = ir.canonical_actions([a.value for a in rest if a.value is not None])
        manual = any(a.kind == "wait" for a in rest)
        return ir.State(
            name=name,
            trigger=trigger,
            actions=actions,
            guard=guard,
            title=title,
            sources=sources,
            manual=manual,
            span=span,
        )

    def sources(self, children: list) -> tuple[str, ...]:
        return tuple(str(c) for c in children)

    def direction(self, children: list) -> str:
        return str(children[0])

    def anchor(self, children: list) -> str:
        return str(children[0])

    @v_args(meta=True)
    def time_anchor(self, meta: Any, children: list) -> ir.TimeTrigger:
        dur_tok, direction, anchor = children
        dur = parse_duration(str(dur_tok))
        offset = -dur if direction == "before" else dur
        return ir.TimeTrigger(offset, ir.Anchor(anchor), None, self.meta_span(meta))

    @v_args(meta=True)
    def time_in_state(self, meta: Any, children: list) -> ir.TimeTrigger:
        dur_tok, state = children
        return ir.TimeTrigger(
            parse_duration(str(dur_tok)), ir.Anchor.STATE, str(state), self.meta_span(meta)
        )

    @v_args(meta=True)
    def on_event(self, meta: Any, children: list) -> ir.EventTrigger:
        return ir.EventTrigger(self._event(children[0]), self.meta_span(meta))

    # actions -----------------------------------------------------------------
    @v_args(meta=True)
    def send(self, meta: Any, children: list) -> _Action:
        channel, template = children
        span = self.meta_span(meta)
        return _Action("send", ir.Send(ir.Channel(str(channel)), unquote(str(template)), span))

    @v_args(meta=True)
    def fee(self, meta: Any, children: list) -> _Action:
        return _Action("fee", ir.Fee(parse_money(str(children[0])), self.meta_span(meta)))

    @v_args(meta=True)
    def lump_sum(self, meta: Any, children: list) -> _Action:
        return _Action("lump_sum", ir.LumpSum(self.meta_span(meta)))

    @v_args(meta=True)
    def interest_statutory(self, meta: Any, children: list) -> _Action:
        return _Action("interest", ir.Interest(True, None, self.meta_span(meta)))

    @v_args(meta=True)
    def interest_points(self, meta: Any, children: list) -> _Action:
        points = Decimal(str(children[0]))
        return _Action("interest", ir.Interest(False, points, self.meta_span(meta)))

    @v_args(meta=True)
    def offer_skonto(self, meta: Any, children: list) -> _Action:
        pct_tok, *rest = children
        within = None
        when = None
        for item in rest:
            if isinstance(item, Token) and item.type == "DURATION":
                within = parse_duration(str(item))
            elif item is not None:
                when = item
        pct = Decimal(str(pct_tok).rstrip("%").strip())
        offer = ir.Offer("skonto", percent=pct, within=within, when=when, span=self.meta_span(meta))
        return _Action("offer", offer)

    @v_args(meta=True)
    def offer_discount(self, meta: Any, children: list) -> _Action:
        pct_tok, dur_tok, direction, anchor, *rest = children
        when = next((item for item in rest if item is not None), None)
        span = self.meta_span(meta)
        dur = parse_duration(str(dur_tok))
        signed = -dur if direction == "before" else dur
        until = ir.TimeTrigger(signed, ir.Anchor(anchor), None, span)
        pct = Decimal(str(pct_tok).rstrip("%").strip())
        offer = ir.Offer("discount", percent=pct, until=until, when=when, span=span)
        return _Action("offer", offer)

    @v_args(meta=True)
    def offer_plan(self, meta: Any, children: list) -> _Action:
        instalments = None
        when = None
        for item in children:
            if isinstance(item, Token) and item.type == "NUMBER":
                instalments = self._int(item, "the number of instalments", 2)
            elif item is not None:
                when = item
        offer = ir.Offer(
            "payment_plan", instalments=instalments, when=when, span=self.meta_span(meta)
        )
        return _Action("offer", offer)

    @v_args(meta=True)
    def approval(self, meta: Any, children: list) -> _Action:
        span = self.meta_span(meta)
        approvers = self._int(children[0], "the number of approvers", 1)
        if len(children) == 1:
            return _Action("approval", ir.Approval(approvers, None, approvers, span))
        when, otherwise_tok = children[1], children[2]
        otherwise = self._int(otherwise_tok, "the number of approvers", 0)
        return _Action("approval", ir.Approval(approvers, when, otherwise, span))

    @v_args(meta=True)
    def handover(self, meta: Any, children: list) -> _Action:
        return _Action("handover", ir.Handover(unquote(str(children[0])), self.meta_span(meta)))

    @v_args(meta=True)
    def court_order(self, meta: Any, children: list) -> _Action:
        return _Action("court_order", ir.CourtOrder(self.meta_span(meta)))

    @v_args(meta=True)
    def credit_report(self, meta: Any, children: list) -> _Action:
        bureau = unquote(str(children[0]))
        return _Action("credit_report", ir.CreditReport(bureau, self.meta_span(meta)))

    @v_args(meta=True)
    def stop_credit(self, meta: Any, children: list) -> _Action:
        return _Action("stop_credit", ir.StopCredit(self.meta_span(meta)))

    @v_args(meta=True)
    def notify(self, meta: Any, children: list) -> _Action:
        return _Action("notify", ir.Notify(unquote(str(children[0])), self.meta_span(meta)))

    @v_args(meta=True)
    def write_off(self, meta: Any, children: list) -> _Action:
        return _Action("write_off", ir.WriteOff(self.meta_span(meta)))

    def wait(self, children: list) -> _Action:
        return _Action("wait", None)

    # transitions and handlers ------------------------------------------------
    @v_args(meta=True)
    def transition(self, meta: Any, children: list) -> ir.Transition:
        span = self.meta_span(meta)
        event_tok, source, _arrow, target, *rest = children
        trigger = ir.EventTrigger(self._event(event_tok), self.tok_span(event_tok))
        guard, priority = self._guard_priority(rest)
        return ir.Transition(str(source), str(target), trigger, guard, priority, span)

    @v_args(meta=True)
    def timed_transition(self, meta: Any, children: list) -> ir.Transition:
        span = self.meta_span(meta)
        dur_tok, source, _arrow, target, *rest = children
        trigger = ir.TimeTrigger(
            parse_duration(str(dur_tok)), ir.Anchor.STATE, str(source), self.tok_span(dur_tok)
        )
        guard, priority = self._guard_priority(rest)
        return ir.Transition(str(source), str(target), trigger, guard, priority, span)

    def _guard_priority(self, rest: list) -> tuple[Expr | None, int | None]:
        guard = None
        priority = None
        for item in rest:
            if isinstance(item, Token) and item.type == "NUMBER":
                priority = self._int(item, "the priority", 0)
            elif item is not None:
                guard = item
        return guard, priority

    @v_args(meta=True)
    def pause(self, meta: Any, children: list) -> _Item:
        span = self.meta_span(meta)
        until = children[1] if len(children) > 1 else None
        handler = ir.Handler(self._event(children[0]), ir.HandlerAction.PAUSE, None, until, span)
        return _Item("handler", handler, span)

    def _simple_handler(self, meta: Any, children: list, action: ir.HandlerAction) -> _Item:
        span = self.meta_span(meta)
        target = str(children[-1]) if len(children) > 1 else None
        return _Item(
            "handler", ir.Handler(self._event(children[0]), action, target, None, span), span
        )

    @v_args(meta=True)
    def resume(self, meta: Any, children: list) -> _Item:
        return self._simple_handler(meta, children, ir.HandlerAction.RESUME)

    @v_args(meta=True)
    def stop(self, meta: Any, children: list) -> _Item:
        return self._simple_handler(meta, children, ir.HandlerAction.STOP)

    @v_args(meta=True)
    def goto(self, meta: Any, children: list) -> _Item:
        return self._simple_handler(meta, children, ir.HandlerAction.GOTO)

    @v_args(meta=True)
    def ignore(self, meta: Any, children: list) -> _Item:
        return self._simple_handler(meta, children, ir.HandlerAction.IGNORE)

    # lark calls this for trees without a handler (should not happen)
    def __default__(self, data: str, children: list, meta: Any) -> Tree:  # pragma: no cover
        return Tree(data, children, meta)


class _Action:
    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: Any):
        self.kind = kind
        self.value = value
