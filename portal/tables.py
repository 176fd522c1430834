"""The portal's tables; data only, sharing the engine's metadata (`engine/models.py` imports
this module at its end) and created by migration `0015_portal`.

* `portal_key` — the HMAC secret links are signed with, made once per database when
  `[portal] secret` (or `$MAHNWERK_PORTAL_SECRET`) does not name one: the demo and a
  `serve` on its database then agree without configuration.
* `portal_link` — one row per link handed out: its id (the first half of the token),
  the customer it opens, until when, and whether it was revoked.  The token's second
  half is an HMAC over these, so a row alone cannot be turned into a working link.
* `portal_form` — one-use form tokens (CSRF and replay): a page hands one out with each
  form, a POST spends it; a second POST with the same token is refused.
* `portal_upload` — a file sent with a dispute (size- and type-checked, scanned).
* `portal_visit` — who acted from where: the link id and the client address of each
  action.  The event log (append-only) names only the link id and this row's id, so
  the address can be erased when its retention ends (E2, `[portal] keep_addresses_days`).
* `portal_hit` — requests per key and minute for the rate limit (`guard.Limiter`), shared
  by every `serve` process on the database; the key is a hash of the client address or
  link id, and rows older than two minutes are deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from mahnwerk.engine.models import AwareDateTime


class PortalKey(SQLModel, table=True):
    __tablename__ = "portal_key"

    id: int | None = Field(default=None, primary_key=True)
    secret: str = Field(sa_type=String)
    created_at: datetime = Field(sa_type=AwareDateTime)


class PortalLink(SQLModel, table=True):
    __tablename__ = "portal_link"

    id: str = Field(primary_key=True, sa_type=String(32))
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: datetime = Field(sa_type=AwareDateTime)
    expires_at: datetime = Field(sa_type=AwareDateTime)
    created_by: str = Field(sa_type=String)
    revoked_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    revoked_by: str | None = Field(default=None, sa_type=String)


class PortalForm(SQLModel, table=True):
    __tablename__ = "portal_form"

    nonce: str = Field(primary_key=True, sa_type=String(64))
    link_id: str = Field(foreign_key="portal_link.id", index=True, sa_type=String(32))
    created_at: datetime = Field(sa_type=AwareDateTime)
    used_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class PortalUpload(SQLModel, table=True):
    __tablename__ = "portal_upload"

    id: int | None = Field(default=None, primary_key=True)
    link_id: str = Field(foreign_key="portal_link.id", index=True, sa_type=String(32))
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    file_name: str = Field(sa_type=String)
    content_type: str = Field(sa_type=String)
    size: int
    sha256: str = Field(sa_type=String(64))
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=AwareDateTime)


class PortalVisit(SQLModel, table=True):
    __tablename__ = "portal_visit"

    id: int | None = Field(default=None, primary_key=True)
    link_id: str = Field(foreign_key="portal_link.id", index=True, sa_type=String(32))
    action: str = Field(sa_type=String)
    client_address: str | None = Field(default=None, sa_type=String)
    at: datetime = Field(sa_type=AwareDateTime, index=True)
    detail: str = Field(default="", sa_type=Text)


class PortalHit(SQLModel, table=True):
    __tablename__ = "portal_hit"

    key: str = Field(primary_key=True, sa_type=String(64))
    minute: int = Field(primary_key=True, index=True, sa_column_kwargs={"autoincrement": False})
    hits: int


PORTAL_KEY = PortalKey.__table__
PORTAL_LINK = PortalLink.__table__
PORTAL_FORM = PortalForm.__table__
PORTAL_UPLOAD = PortalUpload.__table__
PORTAL_VISIT = PortalVisit.__table__
PORTAL_HIT = PortalHit.__table__
