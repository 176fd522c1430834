"""Calls: a person phones; dispatch writes what to say as a text file for them.

A call is "sent" once its note is on disk in the day's `calls/` folder.  D1: calls
only 08:00–20:00 local time unless the policy says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mahnwerk.engine.comms.channels.base import DAYTIME_ONLY, Job, write_file

if TYPE_CHECKING:
    from mahnwerk.engine.comms.config import Settings
    from mahnwerk.engine.comms.planning import Bundle


class CallChannel:
    name = "call"
    templates = "call"
    paper = False
    batched = False
    written = False
    fallback = "letter"
    opt_out = False
    quiet_hours = DAYTIME_ONLY
    unit_cost = "2.50"  # EUR: a few minutes of a person
    label_de = "Anruf"

    def check_settings(self, settings: Settings) -> None:
        """Calls need no settings: the notes go beside the letters."""

    def recipient(self, bundle: Bundle) -> tuple[str | None, str | None]:
        c = bundle.customer
        return c.phone or c.name, None

    def transmit(self, job: Job, bundle: Bundle, recipient: str | None) -> str:
        return str(self._note(job, bundle, job.folder / "calls"))

    def dry_run_file(self, job: Job, bundle: Bundle) -> Path:
        return self._note(job, bundle, job.folder)

    def _note(self, job: Job, bundle: Bundle, folder: Path) -> Path:
        r = bundle.rendered
        assert r is not None
        path = folder / f"{job.stem(bundle)}.call.txt"
        return write_file(job, path, (r.text + "\n").encode("utf-8"))


CHANNEL = CallChannel()
