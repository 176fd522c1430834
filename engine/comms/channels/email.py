"""E-mail over SMTP (`engine/comms/mail.py`, `[smtp]` in the settings).

"Sent" is recorded after the server's 250 to the final "."; every attempt of a
message carries the same Message-ID.  With `[smtp] attach_pdf` the letter of the
same template rides along as a PDF.  The GiroCode travels as an inline image.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mahnwerk.engine.comms.channels.base import Job, write_file
from mahnwerk.engine.comms.channels.letter import letter_of

if TYPE_CHECKING:
    from email.message import EmailMessage

    from mahnwerk.engine.comms.config import Settings
    from mahnwerk.engine.comms.planning import Bundle


def _attachments(job: Job, bundle: Bundle) -> list[tuple[str, bytes]]:
    """The letter of the same template as a PDF, when `[smtp] attach_pdf` asks for it."""
    from mahnwerk.engine.comms.pdf import letters_pdf

    smtp, store = job.settings.smtp, job.store
    if not (smtp and smtp.attach_pdf and store.has(bundle.template, bundle.language, "letter",
                                                   bundle.tone)):  # fmt: skip
        return []
    assert bundle.ctx is not None
    key = store.find(bundle.template, bundle.language, "letter", bundle.tone)
    letter = letter_of(job, bundle, store.render(key, bundle.ctx))
    return [(f"{job.stem(bundle)}.pdf", letters_pdf([letter]))]


def build(job: Job, bundle: Bundle, to: str) -> EmailMessage:
    """The e-mail of `bundle`; a header that cannot be written fails here, before sending."""
    from mahnwerk.engine.comms import girocode
    from mahnwerk.engine.comms.mail import build_email

    r, ctx, settings = bundle.rendered, bundle.ctx, job.settings
    assert r is not None and ctx is not None
    smtp = settings.smtp
    sender = smtp.sender if smtp else f"{settings.creditor.name} <noreply@invalid>"
    attachments = _attachments(job, bundle)
    html, inline = girocode.inline_images(r.html, settings.creditor) if r.html else (None, [])
    return build_email(
        sender=sender,
        to=to,
        to_name=ctx["recipient"].name,
        subject=r.subject,
        text=r.text,
        html=html,
        inline=inline,
        message_id=bundle.message_id,
        date=job.when(bundle),
        attachments=attachments,
    )


class EmailChannel:
    name = "email"
    templates = "email"
    paper = False
    batched = False
    written = True
    fallback = "letter"
    opt_out = True
    quiet_hours = ()
    unit_cost = "0.00"  # EUR: nothing to send
    label_de = "E-Mail"

    def check_settings(self, settings: Settings) -> None:
        settings.need_smtp()

    def recipient(self, bundle: Bundle) -> tuple[str | None, str | None]:
        c = bundle.customer
        if not c.email or "@" not in c.email:
            return None, "no e-mail address for the customer"
        return c.email, None

    def transmit(self, job: Job, bundle: Bundle, recipient: str | None) -> str:
        from mahnwerk.engine.comms.mail import SmtpTransport

        msg = build(job, bundle, recipient or "")  # built first: a bad header fails here
        smtp = job.transport(self.name, lambda: SmtpTransport(job.settings.need_smtp()))
        return smtp.send(msg)

    def dry_run_file(self, job: Job, bundle: Bundle) -> Path:
        msg = build(job, bundle, bundle.customer.email or "missing-address@invalid")
        return write_file(job, job.folder / f"{job.stem(bundle)}.eml", msg.as_bytes())


CHANNEL = EmailChannel()
