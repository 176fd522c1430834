"""Nothing that cannot run is deployed: every template a policy sends must exist.

A `send` names a template and a channel; the engine writes it in the segment's
language, else the customer's, else the policy's, and in the segment's tone if
there is a file for it.  So a policy needs, for each `send` of a ladder a
segment uses, the file `name.language.channel.j2` (or the tone's own file) for
every language its segments fix, the policy's own language, and — where the
segment leaves it to the customer — every language its customers speak.

`policy check`, `letters check` and `policy deploy` all ask `missing_templates`
and refuse with an error at the policy line that sends the missing template.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from mahnwerk.dsl import ir
from mahnwerk.dsl.errors import Diagnostic
from mahnwerk.engine.comms import channels as registry
from mahnwerk.engine.comms.templates import TemplateKey, TemplateStore

CODE = "E040"


def store_for(own_folder: str | Path | None = None) -> TemplateStore:
    """The own folder (`[delivery] templates` in mahnwerk.toml) before the shipped ones."""
    return TemplateStore([Path(own_folder)] if own_folder else [])


def needed(
    policy: ir.Policy, customer_languages: Iterable[str] = ()
) -> Iterator[tuple[ir.Send, ir.Segment, str]]:
    """(send, segment, language) for every message the policy can write."""
    spoken = sorted(set(customer_languages))
    for segment in policy.segments:
        try:
            ladder = policy.ladder(segment.ladder)
        except KeyError:
            continue
        if segment.language:
            languages = [segment.language]
        else:
            languages = sorted({policy.language, *spoken})
        for state in ladder.states:
            for action in state.actions:
                if isinstance(action, ir.Send):
                    for language in languages:
                        yield action, segment, language
        lim = policy.limits
        if lim.late_skonto_letter is not None and not lim.late_skonto_ladder:
            # issue 19: the letter that claims a Skonto deducted too late
            span = lim.at("late_skonto_letter")
            letter = ir.Send(ir.Channel.LETTER, lim.late_skonto_letter, span)
            for language in languages:
                yield letter, segment, language


def missing_templates(
    policy: ir.Policy, store: TemplateStore, customer_languages: Iterable[str] = ()
) -> list[Diagnostic]:
    """One error per `send` line and language whose template file does not exist."""
    out: dict[tuple[int, int, str], Diagnostic] = {}
    folders = ", ".join(str(f) for f in store.folders)
    for send, segment, language in needed(policy, customer_languages):
        channel = registry.get(send.channel.value).templates  # a channel's template kind
        if store.has(send.template, language, channel, segment.tone):
            continue
        key = (send.span.line, send.span.col, language)
        if key in out:
            continue
        filename = TemplateKey(send.template, language, channel).filename
        known = sorted(k.name for k in store.keys() if k.channel == channel)
        out[key] = Diagnostic(
            "error",
            send.span,
            f"no template {send.template!r} for {channel} in language {language!r} "
            f"(segment {segment.name!r}): {filename} is in none of {folders}",
            hint=f"create {filename} in your template folder ([delivery] templates in "
            "mahnwerk.toml), or send one that exists: " + ", ".join(dict.fromkeys(known)),
            code=CODE,
        )
    return sorted(out.values(), key=lambda d: (d.span.line, d.span.col, d.message))
