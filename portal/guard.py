"""The portal's defences, each small and in one place.

* **Rate limit** (`Limiter`): a sliding minute per client address and per link id.
  Guessing links costs a request each, so an address is stopped after
  `[portal] requests_per_minute` tries whatever the links; a leaked link is bounded the
  same way from any number of addresses.  Counted in the database (`portal_hit`), so
  several `serve` processes on one database bound an address together, not each alone.
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

import hashlib
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine

from mahnwerk.engine.comms.config import Portal
from mahnwerk.engine.store import portal_requests as store
from mahnwerk.engine.store.portal_links import revoke_customer_links
from mahnwerk.errors import MahnwerkError

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
    """Requests per key and wall-clock minute, counted in `portal_hit` by every process.

    The minute slides: the estimate is this minute's count plus the previous minute's
    weighted by how much of it still lies within the last 60 seconds (a refused request
    counts too — hammering keeps the door shut).  Keys are stored hashed: the table
    never holds a client address, and its rows go after two minutes."""

    def __init__(self, engine: Engine, per_minute: int, clock: Callable[[], float] = time.time):
        self.engine, self.per_minute, self.clock = engine, per_minute, clock
        self.swept = -1  # the minute this process last deleted old counts

    def allow(self, *keys: str) -> bool:
        """Count one request against each key; False if any is over its minute."""
        now = self.clock()
        minute, into = int(now // 60), (now % 60) / 60
        hashed = {hashlib.sha256(k.encode()).hexdigest(): k for k in keys}
        with self.engine.begin() as conn:
            for key in hashed:
                store.count_hit(conn, key, minute)
            rows = store.hits(conn, hashed, minute - 1)
            if self.swept != minute:
                store.sweep_hits(conn, minute - 1)
                self.swept = minute
        seen: dict[str, float] = dict.fromkeys(hashed, 0.0)
        for key, at, hits in rows:
            seen[key] += hits if at == minute else hits * (1 - into)
        return all(n <= self.per_minute for n in seen.values())


def issue_form(conn: Connection, link_id: str, now: datetime) -> str:
    nonce = secrets.token_urlsafe(24)
    store.add_form(conn, nonce, link_id, now)
    return nonce


def spend_form(conn: Connection, link_id: str, nonce: str, now: datetime) -> None:
    """Spend the form token or raise `Refused('form_used')` — in the action's transaction,
    so a refused action spends nothing and a spent token recorded exactly one action."""
    if not nonce or len(nonce) > 64:
        raise Refused("form_bad", 403)
    done = store.spend_form(conn, link_id, nonce, now, now - timedelta(hours=FORM_HOURS))
    if not done:
        raise Refused("form_used", 409)


def visit(
    conn: Connection, link_id: str, action: str, address: str | None, now: datetime,
    config: Portal, detail: str = "",
) -> int:  # fmt: skip
    """Record who acted from where; erase addresses past their retention (E2) on the way."""
    prune(conn, now, config)
    return store.add_visit(
        conn, link_id=link_id, action=action, client_address=address, at=now, detail=detail
    )


def prune(conn: Connection, now: datetime, config: Portal) -> int:
    """E2: erase the client addresses older than `[portal] keep_addresses_days` and the
    form tokens older than a week.  Called with every action and by `serve` on its first
    request and hourly (`web.Portal.open`), so addresses go even when nobody acts; returns how
    many addresses were erased."""
    keep = now - timedelta(days=config.keep_addresses_days)
    erased = store.erase_addresses(conn, keep)
    store.drop_forms(conn, now - timedelta(days=7))
    return erased or 0


def forget_customer(conn: Connection, customer_id: int, now: datetime, by: str) -> dict[str, int]:
    """A customer's erasure (`engine/privacy.erase_customer`, E2 Art. 17): the client
    addresses of every portal action through their links go, and their links are revoked
    (the page would show what is being erased).  Rows changed per table."""
    addresses = store.erase_customer_addresses(conn, customer_id)
    revoked = revoke_customer_links(conn, customer_id, by, now)
    counts = {"portal_visit": addresses or 0, "portal_link": revoked or 0}
    return {table: n for table, n in counts.items() if n}


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
