"""The portal's defences, each small and in one place.

* **Rate limit** (`Limiter`): a sliding minute per client address and per link id.
  Guessing links costs a request each, so an address is stopped after
  `[portal] requests_per_minute` tries whatever the links; a leaked link is bounded the
  same way from any number of addresses.  Counted in the process: several `serve`
  processes each count their own (a proxy in front may limit too).
* **Form tokens** (`issue_form`, `spend_form`): every form carries a random one-use token
  bound to the link; a POST must spend an unspent token of *its* link.  This is the CSRF
  defence (another site cannot read a token out of the page) and the replay defence (a
  form sent twice — a double click, a reload, a recorded request — is refused the second
  time, so nothing is recorded twice).
* **Headers** (`HEADERS`): a strict Content-Security-Policy (only our own stylesheet and
  inline SVG/data images, no scripts at all, forms only to ourselves, no framing),
  no referrer (the link is the customer's key and must not leak to another site), no
  caching, no MIME sniffing.  No asset comes from a third party.
* **Uploads** (`check_upload`): size limit, the type judged by the file's first bytes
  (not by its name or the browser's word), and the configured virus-scan command.
"""

from __future__ import annotations

import secrets
import subprocess
import tempfile
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, delete, insert, update

from mahnwerk.engine.comms.config import Portal
from mahnwerk.errors import MahnwerkError
from mahnwerk.portal.tables import PORTAL_FORM, PORTAL_VISIT

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
FORM_HOURS = 24
"""A form may be sent within a day of loading the page."""

#: The file types a dispute may carry, by their first bytes.
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}


class Refused(MahnwerkError, ValueError):
    """A request the portal turns down; `key` names the phrase the page shows."""

    def __init__(self, key: str, status: int = 400, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key, self.status = key, status


class Limiter:
    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self.hits: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, *keys: str) -> bool:
        """Count one request against each key; False if any is over its minute."""
        now = self.clock()
        with self.lock:
            ok = True
            for key in keys:
                q = self.hits[key]
                while q and q[0] <= now - 60:
                    q.popleft()
                if len(q) >= self.per_minute:
                    ok = False
                else:
                    q.append(now)
            if len(self.hits) > 100_000:  # forget idle keys rather than grow without end
                for key in [k for k, q in self.hits.items() if not q]:
                    del self.hits[key]
            return ok


def issue_form(conn: Connection, link_id: str, now: datetime) -> str:
    nonce = secrets.token_urlsafe(24)
    conn.execute(insert(PORTAL_FORM).values(nonce=nonce, link_id=link_id, created_at=now))
    return nonce


def spend_form(conn: Connection, link_id: str, nonce: str, now: datetime) -> None:
    """Spend the form token or raise `Refused('form_used')` — in the action's transaction,
    so a refused action spends nothing and a spent token recorded exactly one action."""
    if not nonce or len(nonce) > 64:
        raise Refused("form_bad", 403)
    done = conn.execute(
        update(PORTAL_FORM)
        .where(
            PORTAL_FORM.c.nonce == nonce,
            PORTAL_FORM.c.link_id == link_id,
            PORTAL_FORM.c.used_at.is_(None),
            PORTAL_FORM.c.created_at > now - timedelta(hours=FORM_HOURS),
        )
        .values(used_at=now)
    ).rowcount
    if not done:
        raise Refused("form_used", 409)


def visit(
    conn: Connection, link_id: str, action: str, address: str | None, now: datetime,
    config: Portal, detail: str = "",
) -> int:  # fmt: skip
    """Record who acted from where; erase addresses past their retention (E2) on the way."""
    keep = now - timedelta(days=config.keep_addresses_days)
    conn.execute(
        update(PORTAL_VISIT)
        .where(PORTAL_VISIT.c.at < keep, PORTAL_VISIT.c.client_address.is_not(None))
        .values(client_address=None)
    )
    conn.execute(delete(PORTAL_FORM).where(PORTAL_FORM.c.created_at < now - timedelta(days=7)))
    return conn.execute(
        insert(PORTAL_VISIT).values(
            link_id=link_id, action=action, client_address=address, at=now, detail=detail
        )
    ).inserted_primary_key[0]


def sniff(data: bytes) -> str | None:
    return next(
        (kind for kind, heads in MAGIC.items() if any(data.startswith(h) for h in heads)), None
    )


def check_upload(name: str, data: bytes, config: Portal) -> str:
    """The upload's content type, or `Refused` (too large, a type not allowed, infected)."""
    if len(data) > config.upload_max_bytes:
        raise Refused("upload_large", 413)
    kind = sniff(data)
    if kind is None or kind not in config.upload_types:
        raise Refused("upload_type", 415)
    if config.virus_scan:
        scan(data, config.virus_scan, Path(name).suffix[:8])
    return kind


def scan(data: bytes, command: str, suffix: str) -> None:
    """Run the virus scanner (e.g. `clamdscan --no-summary`) on the file; exit 0 = clean.

    The hook is a command so any scanner fits; a scanner that cannot run refuses the
    file too (never accept unscanned what was meant to be scanned)."""
    import shlex

    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        try:
            done = subprocess.run(
                [*shlex.split(command), f.name], capture_output=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            raise Refused("upload_scan", 503) from None
    if done.returncode != 0:
        raise Refused("upload_infected", 422)
