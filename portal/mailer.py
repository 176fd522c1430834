"""The e-mail that confirms a portal action to the customer.

Sent at once over the configured SMTP server (`[smtp]`), not through the outbox: the
outbox holds dunning messages that a dispute or a pause must stop, and a confirmation of
that very dispute must not be stopped by it.  No confirmation without an e-mail address,
an SMTP server, or when the customer opted out of e-mail (D7); a failure is logged and
the page says the confirmation could not be sent — the action itself is recorded anyway.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from mahnwerk.engine.comms import formatting
from mahnwerk.engine.comms.config import Settings
from mahnwerk.engine.comms.context import CustomerFacts
from mahnwerk.engine.comms.mail import SendError, SmtpTransport, TransportDown, build_email
from mahnwerk.portal.actions import Done
from mahnwerk.portal.words import words

log = logging.getLogger("mahnwerk.portal")


def confirmation_text(done: Done, lang: str) -> str:
    w = words(lang)
    detail = done.detail or {}
    text = w[done.key].format(
        invoices=", ".join(done.invoices),
        day=formatting.day(detail["day"], lang) if "day" in detail else "",
        count=detail.get("count", ""),
    )
    if "rates" in detail:
        text += "\n" + "\n".join(
            f"  {formatting.day(d, lang)}: {formatting.money(a, lang)}" for d, a in detail["rates"]
        )
    return text


def confirm(
    settings: Settings, customer: CustomerFacts, done: Done, lang: str, now: datetime
) -> bool | None:
    """True: sent; False: it failed; None: not sent (no address, no server, opted out)."""
    if settings.smtp is None or not customer.email or "email" in customer.opted_out:
        return None
    w = words(lang)
    body = "\n\n".join(
        (
            w["hello"].format(name=customer.name) + ",",
            confirmation_text(done, lang),
            w["mail_closing"].format(creditor=settings.creditor.name),
        )
    )
    msg = build_email(
        sender=settings.smtp.sender,
        to=customer.email,
        to_name=customer.name,
        subject=w["mail_subject"].format(creditor=settings.creditor.name),
        text=body,
        html=None,
        message_id=f"<portal-{uuid.uuid4().hex}@mahnwerk>",
        date=now,
    )
    smtp = SmtpTransport(settings.smtp)
    try:
        smtp.send(msg)
        return True
    except (SendError, TransportDown, OSError) as exc:
        log.warning("portal confirmation to customer %s not sent: %s", customer.number, exc)
        return False
    finally:
        smtp.close()
