"""SMS through an HTTP webhook: any provider that takes a POST with a body.

The URL, the headers (an API token, typically from an environment variable)
and the body template come from `[sms]` in mahnwerk.toml; the body template
is rendered in the same sandbox as the messages, with `to`, `text`,
`message_id` and `sender` (use `|tojson` for JSON bodies).  Every request
carries the header `Idempotency-Key: <message id>` — the same on every attempt
of the same message — so a provider that honours it drops a repeat.  Delivery is
at least once: "sent" is recorded only after the provider's 2xx answer; a
dispatcher that dies before recording it sends the request again next time,
with the same key.

Answers (`webhook.post`): 2xx delivered; 408, 429, 5xx and network errors
temporary (retry with backoff); any other 4xx permanent — the provider rejected
the number or the text, which becomes a `delivery_failed` event for the policy.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from mahnwerk.engine.comms.config import Sms
from mahnwerk.engine.comms.mail import TransportDown
from mahnwerk.engine.comms.templates import TemplateError, TemplateStore
from mahnwerk.engine.comms.webhook import post

#: GSM 03.38: the characters an SMS carries in 7 bits (160 to a single message); the
#: extension table's count twice (an escape first).  Anything else — „“, emoji — makes the
#: whole message UCS-2, 70 characters to a single message.
GSM7 = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
#: At most this many parts to one message: what phones join reliably, and what a
#: template with a portal link must fit (`letters check`, `checks.check_template`).
MAX_SEGMENTS = 3


#: Typography a phone shows the same in GSM-7: the no-break spaces of amounts ("1.250,35 €")
#: and dates would otherwise make the whole message UCS-2, at less than half the length.
PLAIN = str.maketrans({"\xa0": " ", "\u202f": " ", "„": '"', "“": '"', "”": '"', "‚": "'",
                       "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."})  # fmt: skip


def plain(text: str) -> str:
    """The text as sent: typographic characters GSM-7 lacks replaced by their plain kin."""
    return text.translate(PLAIN)


def segments(text: str) -> int:
    """How many SMS parts `text` takes as sent (`plain`; concatenated parts carry 153
    GSM-7 or 67 UCS-2 units)."""
    text = plain(text)
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        units, single, part = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


class SmsWebhook:
    def __init__(self, cfg: Sms, store: TemplateStore) -> None:
        self.cfg = cfg
        self.store = store
        self.client = httpx.Client(timeout=cfg.timeout)

    def body(self, to: str, text: str, message_id: str, sender: str) -> str:
        ctx: dict[str, Any] = {
            "to": to,
            "text": text,
            "message_id": message_id,
            "sender": sender,
            "language": "de",
        }
        try:
            _, body = self.store.render_source(self.cfg.body, ctx, name="[sms] body")
        except TemplateError as exc:
            raise TransportDown(f"[sms] body template: {exc}") from None
        return body

    def send(self, to: str, text: str, message_id: str, sender: str) -> str:
        body = self.body(to, plain(text), message_id, sender)
        headers = {
            "Content-Type": self.cfg.content_type,
            "Idempotency-Key": message_id,
            **self.cfg.headers,
        }
        return post(self.client, self.cfg.url, body.encode("utf-8"), headers, "SMS webhook")

    def close(self) -> None:
        self.client.close()
