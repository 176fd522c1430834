"""What both policy writers share: values written the same way in either form
(names, amounts, durations, times, conditions) and the checks that refuse an IR
the readers could never have produced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import time
from decimal import Decimal
from typing import Any

from mahnwerk.dsl import ir
from mahnwerk.dsl.expr import Duration, Expr, Money, format_expr

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INDENT = "  "
#: Segment columns are lined up only while the lines stay this short.
LINE_WIDTH = 100
#: A state's head longer than this puts `from` and `when` on lines of their own.
HEAD_WIDTH = 96
#: A flow mapping `{ ... }` longer than this is written as a block instead.
FLOW_WIDTH = 88
#: A YAML condition longer than this goes on over several lines.
YAML_WIDTH = 96


def name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a name (letters, digits and _ only)")
    return value


def line(value: str, what: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError(f"{what} {value!r} holds a line break; a policy text is one line")
    return value


def money(value: Money) -> str:
    """`5.00 EUR` as written (`format_decimal` would say `5 EUR`), `2.5` as `2.50`."""
    if value.amount < 0 or not value.amount.is_finite():
        raise ValueError(f"the amount {value} cannot be written here")
    text = format(value.amount, "f")
    if re.fullmatch(r"\d+\.\d", text):
        text += "0"
    return f"{text} {value.currency}"


def number(value: Decimal, what: str) -> str:
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} {value} cannot be written")
    return format(value, "f")


def days(value: Duration, what: str) -> str:
    """`14 days`, `1 day`, `3 business days`: a length of time on its own."""
    if value.days < 0:
        raise ValueError(f"{what} {value} cannot be negative")
    unit = "business day" if value.business else "day"
    return f"{value.days} {unit}" + ("" if value.days == 1 else "s")


def dur(value: Duration, what: str) -> str:
    """`14d`, `3 business days`: a length of time inside a statement."""
    if value.days < 0:
        raise ValueError(f"{what} {value} cannot be negative")
    return str(value)


def clock(value: time) -> str:
    if value.second or value.microsecond:
        raise ValueError(f"quiet hours are whole minutes, not {value}")
    return f"{value.hour:02d}:{value.minute:02d}"


def cond(value: Expr) -> str:
    text = format_expr(value)
    return line(text, "the condition")


def wrap(text: str, width: int, indent: str) -> list[str]:
    """A printed condition cut before its outermost `and`s and `or`s to fit `width`.

    Both syntaxes read a line break there as a space, so the condition stays
    the same; nothing is cut inside parentheses, lists or quoted texts.
    """
    cuts = []
    depth, quoted, i = 0, False, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch == " " and text.startswith((" and ", " or "), i):
            cuts.append(i)
        i += 1
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(text[start:cut])
        start = cut + 1
    pieces.append(text[start:])
    lines = [pieces[0]]
    for piece in pieces[1:]:
        room = width - len(indent if len(lines) > 1 else "")
        if len(lines[-1]) + 1 + len(piece) <= room:
            lines[-1] += " " + piece
        else:
            lines.append(piece)
    return [lines[0], *(indent + line for line in lines[1:])]


def anchored(trigger: ir.TimeTrigger) -> str:
    """`7d after due`, `3d before due`, `14d in erinnerung` (without `at`/`after`)."""
    if trigger.anchor is ir.Anchor.STATE:
        if trigger.state is None:
            raise ValueError("a time in a state must name the state")
        return f"{dur(trigger.offset, 'the time in a state')} in {name(trigger.state, 'state')}"
    if trigger.state is not None:
        raise ValueError(f"a trigger at the {trigger.anchor.value} date names no state")
    direction = "before" if trigger.offset.days < 0 else "after"
    return f"{dur(_abs(trigger.offset), 'the offset')} {direction} {trigger.anchor.value}"


def _abs(value: Duration) -> Duration:
    return Duration(abs(value.days), value.business)


def whole(value: int, minimum: int, what: str) -> int:
    if not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be a whole number ≥ {minimum}, not {value!r}")
    return value


def approval_parts(action: ir.Approval) -> tuple[int, Expr | None, int]:
    approvers = whole(action.approvers, 1, "the number of approvers")
    return approvers, action.when, whole(action.otherwise, 0, "the number of approvers")


def check_offer(action: ir.Offer) -> None:
    if action.kind == "skonto":
        if action.percent is None or action.instalments is not None:
            raise ValueError("a skonto offer has a percentage and no instalments")
    elif action.kind == "payment_plan":
        if action.percent is not None or action.within is not None:
            raise ValueError("a payment plan offer has no percentage and no period")
    elif action.kind == "discount":
        if action.percent is None or action.until is None or action.within is not None:
            raise ValueError("a discount offer has a percentage and a last day (`until`)")
        if action.until.anchor not in (ir.Anchor.DUE, ir.Anchor.ISSUE):
            raise ValueError("a discount offer counts from the due or the issue date")
    else:
        raise ValueError(f"unknown kind of offer {action.kind!r}")


def until(until: ir.TimeTrigger) -> str:
    """`7d after due`, `3d before due`: the last day of a discount offer."""
    offset = until.offset
    direction = "before" if offset.days < 0 else "after"
    length = dur(-offset if offset.days < 0 else offset, "the discount period")
    return f"{length} {direction} {until.anchor.value}"


def check_interest(action: ir.Interest) -> None:
    if action.statutory == (action.points is not None):
        raise ValueError("interest is either statutory or a number of points above base")


def check_calendar(calendar: ir.Calendar) -> None:
    name(calendar.country, "the country")
    if calendar.region_from_customer and calendar.region is not None:
        raise ValueError("a calendar has a fixed region or the customer's, not both")
    if calendar.region is not None:
        name(calendar.region, "the region")
        if calendar.region == "from":
            raise ValueError("a region called 'from' cannot be written (`region from customer`)")


def settings(policy: ir.Policy) -> tuple[str, int, str, str, str]:
    """The policy's name, version, currency, time zone and language as both forms write
    them, each checked, after the calendar: the order both forms check them in."""
    check_calendar(policy.calendar)
    return (
        line(policy.name, "the name"),
        whole(policy.version, 1, "the version"),
        name(policy.currency, "the currency"),
        line(policy.timezone, "the time zone"),
        name(policy.language, "the language"),
    )


def _check_handler(handler: ir.Handler) -> None:
    wants_target = handler.action in (ir.HandlerAction.STOP, ir.HandlerAction.GOTO)
    if wants_target != (handler.target is not None):
        raise ValueError(f"`{handler.action.value}` cannot have the target {handler.target!r}")
    if handler.target is not None:
        name(handler.target, "the target")
    if handler.until is not None and handler.action is not ir.HandlerAction.PAUSE:
        raise ValueError("only `pause` can last until a date")


def check_transition(t: ir.Transition) -> None:
    name(t.source, "the state")
    name(t.target, "the state")
    if isinstance(t.trigger, ir.TimeTrigger):
        trig = t.trigger
        if trig.anchor is not ir.Anchor.STATE or trig.state != t.source:
            raise ValueError("a timed transition counts the time spent in its own source state")
        dur(trig.offset, "the time in a state")
    if t.priority is not None and t.priority < 0:
        raise ValueError(f"a priority cannot be negative: {t.priority}")


def residual(residual: ir.Residual) -> str:
    """`up to 1.00 EUR write off`: the same words in both forms."""
    return f"up to {money(residual.tolerance)} {residual.action.value}"


def check_limits(lim: ir.Limits) -> None:
    if (lim.max_contacts is None) != (lim.contact_window is None):
        raise ValueError("a contact limit needs both a count and a window")


#: The limits in the order both forms write them, each with how its value is written.
#: `contacts` stands for the count and the window together (`limit_values`).
_LIMITS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("minimum_balance", money),
    ("contacts", lambda lim: None),
    ("letter_gap", lambda v: days(v, "the letter gap")),
    ("quiet_hours", lambda v: v),  # each form groups them its own way
    ("fee_cap", money),
    ("fee_share", lambda v: number(v, "the fee share")),
    ("minimum_handover", money),
    ("payment_grace", lambda v: days(v, "the payment grace")),
    ("residual", residual),
    ("skonto_tolerance", money),
    ("late_skonto_letter", lambda v: line(v, "the template")),
    ("late_skonto_write_off", money),
    ("late_skonto_ladder", lambda v: True),
)


def limit_values(lim: ir.Limits) -> Iterator[tuple[str, Any]]:
    """The limits that are set, in the order both forms write them, each value written as
    both forms write it; `contacts` as (count, window), `quiet_hours` as they are.

    A generator: a value that cannot be written fails at its turn, after the ones
    before it were written, as each writer did on its own before.
    """
    check_limits(lim)
    for field, write in _LIMITS:
        if field == "contacts":
            if lim.max_contacts is not None and lim.contact_window is not None:
                window = days(lim.contact_window, "the contact window")
                count = whole(lim.max_contacts, 1, "the number of contacts")
                yield field, (count, window)
            continue
        value = getattr(lim, field)
        if value is None or value is False or value == ():
            continue
        yield field, write(value)


def handler_words(handler: ir.Handler) -> str:
    """`pause until ...`, `stop -> insolvent`: the same words in both forms."""
    _check_handler(handler)
    if handler.action is ir.HandlerAction.STOP:
        return f"stop -> {handler.target}"
    if handler.action is ir.HandlerAction.GOTO:
        return f"goto {handler.target}"
    if handler.until is not None:
        return f"pause until {cond(handler.until)}"
    return handler.action.value
