"""Personal links: `https://…/p/<id>.<signature>`, one customer's page for a while.

Why this shape.  The id (12 random url-safe characters, 72 bits) names a row in
`portal_link` — the customer, the expiry, a revocation — so a link can be revoked one
by one and every action names the link it came through.  The signature is
HMAC-SHA256 over the id, the customer number and the expiry, under a key the
database never shows in a link; only its first 16 bytes are kept (128 bits, 22
characters), so the whole token stays short enough to type from a letter
(35 characters) and to fit a small QR code.  A forged or altered link fails the
constant-time comparison; an id guessed right still needs the signature.  The
expiry is in the signed text, so a link cannot be stretched by editing the row.

`verify` answers one of four ways — good, unknown/tampered, expired, revoked — and the
page tells the customer which (except unknown vs. tampered, which look the same to
anyone guessing).  Handing out: `link_for` reuses a customer's newest link while at
least half of its time is left, so a day's letters and e-mails carry the same link and
a re-sent message (dispatch's at-least-once) does not mint another one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from io import BytesIO

from sqlalchemy import Connection, Engine

from mahnwerk.engine.comms.config import Portal
from mahnwerk.engine.store import portal_links as store
from mahnwerk.errors import MahnwerkError

PATH = "/p"
"""Where `mahnwerk serve` mounts the portal; a link is `base_url + PATH + "/" + token`."""
SIGNATURE_BYTES = 16


class LinkError(MahnwerkError, ValueError):
    """A link cannot be made or revoked as asked (the message says why)."""


class Verdict(StrEnum):
    GOOD = "good"
    UNKNOWN = "unknown"  # no such id, or the signature does not match (tampered)
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Link:
    id: str
    token: str
    customer_id: int
    customer_number: str
    expires_at: datetime

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}{PATH}/{self.token}"


@dataclass(frozen=True, slots=True)
class Checked:
    verdict: Verdict
    link: Link | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def secret_key(conn: Connection, config: Portal, now: datetime) -> bytes:
    """The signing key: the configured secret, else the database's own (made once)."""
    if config.secret:
        return config.secret.encode()
    stored = store.stored_key(conn)
    if stored is None:
        made = secrets.token_urlsafe(32)
        store.add_key(conn, made, now)
        return made.encode()
    return stored.encode()


def signature(key: bytes, link_id: str, customer_number: str, expires_at: datetime) -> str:
    text = "\x1f".join((link_id, customer_number, expires_at.isoformat())).encode()
    return _b64(hmac.new(key, text, hashlib.sha256).digest()[:SIGNATURE_BYTES])


def _customer(conn: Connection, customer: str) -> tuple[int, str]:
    row = store.customer(conn, customer)
    if row is None:
        raise LinkError(f"no customer {customer!r}: check the customer number")
    return row.id, row.external_id


def _expiry(now: datetime, config: Portal) -> datetime:
    return (now + timedelta(days=config.link_days)).replace(microsecond=0)


def create(
    conn: Connection, customer_id: int, number: str, config: Portal, now: datetime, by: str
) -> Link:
    """A new link for the customer (inside the caller's transaction)."""
    link_id = secrets.token_urlsafe(9)
    expires = _expiry(now, config)
    store.add_link(
        conn, id=link_id, customer_id=customer_id, created_at=now, expires_at=expires, created_by=by
    )
    token = f"{link_id}.{signature(secret_key(conn, config, now), link_id, number, expires)}"
    return Link(link_id, token, customer_id, number, expires)


def link_for(
    conn: Connection, customer_id: int, number: str, config: Portal, now: datetime, by: str
) -> Link:
    """The customer's current link: the newest unrevoked one with half its time left, or new."""
    half = timedelta(days=config.link_days) / 2
    row = store.newest_link(conn, customer_id, now + half)
    if row is None:
        return create(conn, customer_id, number, config, now, by)
    key = secret_key(conn, config, now)
    token = f"{row.id}.{signature(key, row.id, number, row.expires_at)}"
    return Link(row.id, token, customer_id, number, row.expires_at)


def new_link(engine: Engine, customer: str, config: Portal, now: datetime, by: str) -> Link:
    """`mahnwerk portal link K-1001`: always a fresh link."""
    with engine.begin() as conn:
        cid, number = _customer(conn, customer)
        return create(conn, cid, number, config, now, by)


def verify(conn: Connection, token: str, config: Portal, now: datetime) -> Checked:
    link_id, dot, sig = token.partition(".")
    if not dot or not link_id or len(token) > 80:
        return Checked(Verdict.UNKNOWN)
    row = store.link_with_customer(conn, link_id)
    if row is None:
        return Checked(Verdict.UNKNOWN)
    want = signature(secret_key(conn, config, now), row.id, row.external_id, row.expires_at)
    if not hmac.compare_digest(want.encode(), sig.encode()):
        return Checked(Verdict.UNKNOWN)
    link = Link(row.id, token, row.customer_id, row.external_id, row.expires_at)
    if row.revoked_at is not None:
        return Checked(Verdict.REVOKED, link)
    if now >= row.expires_at:
        return Checked(Verdict.EXPIRED, link)
    return Checked(Verdict.GOOD, link)


def revoke(engine: Engine, link_id: str, by: str, now: datetime) -> str:
    """Revoke one link (by its id, the part before the dot), or every link of a customer
    when `link_id` is a customer number."""
    with engine.begin() as conn:
        done = store.revoke_link(conn, link_id, by, now)
        if done:
            return f"link {link_id} revoked"
        cust = store.customer_id(conn, link_id)
        if cust is None:
            raise LinkError(
                f"no active link {link_id!r} and no customer of that number",
                "pass the link id (the part of the link before the dot) or a customer number",
            )
        done = store.revoke_customer_links(conn, cust, by, now)
    return f"{done} link(s) of customer {link_id} revoked"


def qr_svg(url: str, title: str) -> str:
    """The link as an inline SVG QR code (segno; no third-party request from the page)."""
    out = BytesIO()
    import segno

    segno.make(url, error="m").save(
        out, kind="svg", scale=4, border=2, title=title, svgns=True, xmldecl=False
    )
    return out.getvalue().decode()


def qr_png(url: str, scale: int = 4) -> bytes:
    """The link as a PNG QR code, for the letter's PDF."""
    import segno

    out = BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()
