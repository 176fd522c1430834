"""One HTTP POST to a service that takes messages (the SMS provider, a print service).

The answer decides what dispatch records: 2xx — the other side has the message;
408, 429, 5xx and network errors after the request left — temporary (`SendError`,
retried with backoff); any other 4xx — permanent (the service rejected it: the
policy hears of it as `delivery_failed`); the service not reachable at all —
`TransportDown` (nothing left the house; the channel is down for this dispatch and
its messages stay queued).  Callers send the header `Idempotency-Key: <message id>`,
the same on every attempt, so a service that honours it drops a repeat.
"""

from __future__ import annotations

import httpx

from mahnwerk.engine.comms.mail import SendError, TransportDown


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str], what: str) -> str:
    """POST `body`; return the answer's status and start, or raise as the docstring says."""
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.ConnectError as exc:
        raise TransportDown(f"{what} {url}: {exc}") from None
    except httpx.HTTPError as exc:
        raise SendError(f"{what} {url}: {exc}", permanent=False) from None
    code = response.status_code
    if 200 <= code < 300:
        return f"{code} {response.text[:200]}"
    permanent = 400 <= code < 500 and code not in (408, 429)
    raise SendError(f"{what} answered {code}: {response.text[:200]}", permanent)
