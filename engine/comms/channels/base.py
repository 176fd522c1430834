"""What a channel is: the one shape every way of reaching a customer has.

Dispatch knows nothing about e-mail, letters, SMS or calls by name.  It asks the
channel of a message (looked up in the registry, `channels/__init__.py`):

* `check_settings(settings)` — is the channel configured?  A `ConfigError` makes it
  unavailable for this dispatch and its messages stay queued;
* `recipient(bundle)` — the address, number or postal address, or why there is none
  (a permanent failure: the policy hears of it as `delivery_failed`);
* `transmit(job, bundle, recipient)` — hand the message over; return only once the
  other side has it (raise `SendError` / `TransportDown` otherwise);
* `dry_run_file(job, bundle)` — the message as a file, nothing sent.

and reads a few facts about it: which templates it renders (`templates`), whether its
message is a letter PDF (`paper`), whether it is recorded only once the print batch is
on disk (`batched`), whether it is a written message that carries parked residuals
(`written`), where it falls back to for an opted-out or deceased customer (D7/C6,
`fallback`), whether a customer may opt out of it in the portal (`opt_out`), and its
default quiet hours (D1, `quiet_hours`: local wall-clock windows, start to end), and what
one message costs (`unit_cost`, EUR, the experiment reports' default estimate) and its
German name in reports (`label_de`).

Channel modules import only the standard library at load time: the calendar derives
the quiet hours from the registry on the step's hot path, and `mahnwerk --help`
should not pay for an SMTP client or a PDF writer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from mahnwerk.engine.comms.config import Settings
    from mahnwerk.engine.comms.planning import Bundle
    from mahnwerk.engine.comms.templates import TemplateStore

T = TypeVar("T")

#: D1 by default: calls and SMS only between 08:00 and 20:00 local time.
DAYTIME_ONLY: tuple[tuple[time, time], ...] = ((time(20, 0), time(8, 0)),)


class Job(Protocol):
    """What a running dispatch offers its channels (see `dispatch.Dispatcher`)."""

    settings: Settings
    store: TemplateStore
    folder: Path  # where letters, calls and dry-run files go
    dry_run: bool

    def stem(self, bundle: Bundle) -> str:
        """A file name stem that is the same on every attempt of the message."""
        ...

    def when(self, bundle: Bundle) -> datetime:
        """The instant the message is dated."""
        ...

    def keep(self, path: Path) -> None:
        """Report a file written for this dispatch."""
        ...

    def transport(self, name: str, opener: Callable[[], T]) -> T:
        """The channel's open connection, opened on first use and closed at the end."""
        ...

    def print_later(self, path: Path) -> None:
        """A letter's PDF for this dispatch's print batch."""
        ...


@runtime_checkable
class Channel(Protocol):
    """One way of reaching a customer (module docstring)."""

    name: str
    templates: str
    paper: bool
    batched: bool
    written: bool
    fallback: str | None
    opt_out: bool
    quiet_hours: tuple[tuple[time, time], ...]
    unit_cost: str  # EUR per message, an estimate for experiment reports (a Decimal string)
    label_de: str  # the channel's name in German reports (English ones use `name`)

    def check_settings(self, settings: Settings) -> None: ...

    def recipient(self, bundle: Bundle) -> tuple[str | None, str | None]: ...

    def transmit(self, job: Job, bundle: Bundle, recipient: str | None) -> str: ...

    def dry_run_file(self, job: Job, bundle: Bundle) -> Path: ...


def write_file(job: Job, path: Path, data: bytes) -> Path:
    """Write `path` whole or not at all, and report it."""
    from mahnwerk.engine.comms.pdf import write_atomically

    write_atomically(path, data)
    job.keep(path)
    return path


def postal_address(bundle: Bundle) -> tuple[str | None, str | None]:
    """A letter's recipient: the address block, or why there is none."""
    c = bundle.customer
    if not (c.street and c.postal_code and c.city):
        return None, "no postal address for the customer"
    ctx: dict[str, Any] = bundle.ctx or {}
    return ", ".join(ctx["recipient"].lines), None


def mobile_number(raw: str | None) -> tuple[str | None, str | None]:
    """A number an SMS can go to (spaces, slashes, brackets and dashes dropped)."""
    phone = re.sub(r"[\s/()-]", "", raw or "")
    if not re.fullmatch(r"\+?\d{6,16}", phone):
        return None, f"no usable mobile number for the customer ({raw!r})"
    return phone, None
