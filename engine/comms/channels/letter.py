"""Letters: a PDF per message, gathered into one print batch per dispatch.

A letter is "sent" once its PDF lies inside the print batch written to disk
(`batched`): the print shop takes the batch, and a dispatcher that dies before
the batch exists leaves the letter to be drawn again, under the same file name.
Letters are the fallback of every other channel (D7/C6) and cannot be opted out
of in the portal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mahnwerk.engine.comms.channels.base import Job, postal_address, write_file

if TYPE_CHECKING:
    from mahnwerk.engine.comms.config import Settings
    from mahnwerk.engine.comms.pdf import Letter
    from mahnwerk.engine.comms.planning import Bundle
    from mahnwerk.engine.comms.templates import Rendered


def letter_of(job: Job, bundle: Bundle, rendered: Rendered | None = None) -> Letter:
    """The letter of `bundle` as the PDF writer takes it (`rendered`: another template's)."""
    from mahnwerk.engine.comms.pdf import Letter
    from mahnwerk.engine.comms.planning import local_day

    r, ctx = rendered or bundle.rendered, bundle.ctx
    assert r is not None and ctx is not None
    return Letter(
        job.settings.creditor,
        ctx["recipient"].lines,
        r.subject,
        r.html or "",
        local_day(job.when(bundle)),
        bundle.language,
        bundle.customer.number,
        ctx["reference"],
        ctx["portal_link"],
    )


def pdf_of(job: Job, bundle: Bundle) -> bytes:
    """The letter's PDF: drawn with its chunk's letters already, or now on its own."""
    from mahnwerk.engine.comms.pdf import letters_pdf

    if bundle.pdf is None:
        letter = letter_of(job, bundle)
        bundle.pdf = letters_pdf([letter], title=letter.subject)
    return bundle.pdf


class LetterChannel:
    name = "letter"
    templates = "letter"
    paper = True
    batched = True
    written = True
    fallback = None
    opt_out = False
    quiet_hours = ()
    unit_cost = "0.95"  # EUR: a Standardbrief with print and envelope
    label_de = "Brief"

    def check_settings(self, settings: Settings) -> None:
        """Letters need no settings: the folder is `[delivery] letters_folder`."""

    def recipient(self, bundle: Bundle) -> tuple[str | None, str | None]:
        return postal_address(bundle)

    def transmit(self, job: Job, bundle: Bundle, recipient: str | None) -> str:
        return str(self.dry_run_file(job, bundle))

    def dry_run_file(self, job: Job, bundle: Bundle) -> Path:
        """The PDF in the day's folder, and in this dispatch's print batch (a dry run's
        batch shows what the print shop would get)."""
        path = write_file(job, job.folder / f"{job.stem(bundle)}.pdf", pdf_of(job, bundle))
        job.print_later(path)
        return path


CHANNEL = LetterChannel()
