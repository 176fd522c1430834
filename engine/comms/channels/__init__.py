"""The channel registry: every way of reaching a customer, registered once.

Dispatch, the template store, the calendar's quiet hours (D1), the portal's
opt-outs, the API's schema and the CLI's checks all read the channels from here;
`tests/comms/test_channels.py` checks that the policy grammar (`dsl.ir.Channel`,
which `policy.lark` and the YAML reader take their channel words from) names the
same channels.

A new channel is one module with a class that has the `Channel` shape
(`channels/base.py`) and one `register(...)` line below, plus its word in
`dsl.ir.Channel` so that policies can name it.
"""

from __future__ import annotations

from mahnwerk.engine.comms.channels import call, email, letter, letter_shop, sms
from mahnwerk.engine.comms.channels.base import Channel, Job
from mahnwerk.errors import MahnwerkError

REGISTRY: dict[str, Channel] = {}


class UnknownChannel(MahnwerkError, KeyError):
    """A channel name no module registered (a typo in an outbox row or a command)."""

    def __str__(self) -> str:
        return str(self.args[0])


def register(channel: Channel) -> Channel:
    """Add `channel` under its name; a name registered twice is a programming error."""
    if not isinstance(channel, Channel):
        raise TypeError(f"{channel!r} lacks the Channel shape (channels/base.py)")
    if channel.name in REGISTRY:
        raise ValueError(f"channel {channel.name!r} is registered twice")
    REGISTRY[channel.name] = channel
    return channel


def get(name: str) -> Channel:
    """The channel called `name`, or an `UnknownChannel` naming the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise UnknownChannel(f"unknown channel {name!r} (known: {known})") from None


def names() -> tuple[str, ...]:
    """Every channel, in registration order (letters first: the channel a preview
    tries first and every other channel's fallback)."""
    return tuple(REGISTRY)


def written() -> tuple[str, ...]:
    """The written channels: they carry parked residuals and count as written contact."""
    return tuple(c.name for c in REGISTRY.values() if c.written)


def written_templates() -> tuple[str, ...]:
    """The template channels of written messages: rendered with HTML as well as text."""
    return tuple(dict.fromkeys(c.templates for c in REGISTRY.values() if c.written))


def opt_outs() -> tuple[str, ...]:
    """The channels a customer may opt out of in the portal (D7)."""
    return tuple(c.name for c in REGISTRY.values() if c.opt_out)


def template_channels() -> tuple[str, ...]:
    """The channels templates are written for (`name.language.<channel>.j2`)."""
    return tuple(dict.fromkeys(c.templates for c in REGISTRY.values()))


register(letter.CHANNEL)
register(email.CHANNEL)
register(sms.CHANNEL)
register(call.CHANNEL)
register(letter_shop.CHANNEL)

__all__ = [
    "REGISTRY",
    "Channel",
    "Job",
    "UnknownChannel",
    "get",
    "names",
    "opt_outs",
    "register",
    "template_channels",
    "written",
    "written_templates",
]
