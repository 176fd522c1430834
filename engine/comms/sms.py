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

from typing import Any

import httpx

from mahnwerk.engine.comms.config import Sms
from mahnwerk.engine.comms.mail import TransportDown
from mahnwerk.engine.comms.templates import TemplateError, TemplateStore
from mahnwerk.engine.comms.webhook import post


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
        body = self.body(to, text, message_id, sender)
        headers = {
            "Content-Type": self.cfg.content_type,
            "Idempotency-Key": message_id,
            **self.cfg.headers,
        }
        return post(self.client, self.cfg.url, body.encode("utf-8"), headers, "SMS webhook")

    def close(self) -> None:
        self.client.close()
