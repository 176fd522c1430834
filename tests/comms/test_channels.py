"""The channel registry is the one list of channels: the grammar, the YAML reader, the
templates, the calendar's quiet hours and the portal's opt-outs agree with it."""

from __future__ import annotations

import pytest

from mahnwerk.dsl import ir
from mahnwerk.dsl.expr import grammar_parser
from mahnwerk.dsl.yaml_vocab import CHANNEL_NAMES
from mahnwerk.engine import calendar
from mahnwerk.engine.comms import channels
from mahnwerk.engine.comms.templates import CHANNELS, TemplateStore


def _channel_terminal():
    (term,) = [t for t in grammar_parser().terminals if t.name == "CHANNEL"]
    return term.pattern.to_regexp()


def test_the_grammar_names_exactly_the_registered_channels() -> None:
    import re

    assert {c.value for c in ir.Channel} == set(channels.names())
    assert set(CHANNEL_NAMES) == set(channels.names())
    pattern = re.compile(_channel_terminal())
    for name in channels.names():
        assert pattern.fullmatch(name), f"policy.lark does not accept the channel {name!r}"
    assert not pattern.fullmatch("fax")


def test_every_channel_has_the_shape_and_its_fallback_is_registered() -> None:
    for name, channel in channels.REGISTRY.items():
        assert isinstance(channel, channels.Channel)
        assert channel.name == name
        assert channel.templates in CHANNELS
        if channel.fallback is not None:
            fallback = channels.get(channel.fallback)
            assert fallback.fallback is None, "a fallback must not fall back again"
            assert fallback.paper


def test_the_shipped_templates_cover_every_template_channel() -> None:
    written = {key.channel for key in TemplateStore().keys()}
    assert set(channels.template_channels()) <= written


def test_quiet_hours_and_opt_outs_come_from_the_registry() -> None:
    expected = {
        (name, window) for name, c in channels.REGISTRY.items() for window in c.quiet_hours
    }
    got = {(q.channel.value, (q.start, q.end)) for q in calendar.DEFAULT_QUIET_HOURS}
    assert got == expected
    assert ("sms", (calendar.time(20, 0), calendar.time(8, 0))) in got
    assert "letter" not in channels.opt_outs()
    from mahnwerk.portal.actions import OPT_OUTS

    assert OPT_OUTS == channels.opt_outs()


def test_an_unknown_channel_is_named_with_the_known_ones() -> None:
    with pytest.raises(channels.UnknownChannel) as info:
        channels.get("fax")
    assert "fax" in str(info.value) and "letter" in str(info.value)


def test_a_channel_cannot_be_registered_twice_or_without_its_shape() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        channels.register(channels.get("letter"))
    with pytest.raises(TypeError, match="Channel shape"):
        channels.register(object())  # type: ignore[arg-type]


def test_a_policy_error_lists_the_channels() -> None:
    from mahnwerk.dsl.expr_parse import _channel_phrase

    phrase = _channel_phrase()
    for name in channels.names():
        assert name in phrase


def test_the_grammar_and_the_registry_agree_on_letters_and_written_channels() -> None:
    """The checker (dsl) decides fees and residual asks by `ir.PAPER` / `ir.WRITTEN`,
    dispatch by the registry: both must name the same channels."""
    paper = {n for n, c in channels.REGISTRY.items() if c.paper}
    assert {c.value for c in ir.PAPER} == paper
    assert {c.value for c in ir.WRITTEN} == set(channels.written())
