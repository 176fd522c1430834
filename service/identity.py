"""Who is acting: people proven by their operating-system user, API clients by tokens.

Decision (issue 15): on the command line and in the TUI a person is proven by the
operating-system account that runs the program (`os.geteuid()`), on SQLite and on
PostgreSQL alike. The OS already checked a password or key to open that session; a
second mahnwerk password would only be typed into the same shell. An admin registers
people (`mahnwerk users add anna.schulz --os-user anna --role approver`); from then on
the registered OS user *is* anna.schulz, and `--by` is only a label that must name
that same person (a forged `--by ben` is refused). Four eyes therefore needs two OS
accounts or an OS account and an API token of another person.

A database with nobody registered is in single-user mode: the OS user acts with every
role under its own name, and `--by` must still name that OS user. The first person
added must be an admin; once anybody is registered, an unregistered OS user may do
nothing that needs a role.

API clients prove themselves with a bearer token: 256 random bits, shown once, kept
only as a SHA-256 hash (a token is not a password: it cannot be guessed, so a slow
hash adds nothing but latency). A token acts as a person's name (`acts_as`) with a
role, so a person approving once on the command line and once with their token is
still one person.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select, update

from mahnwerk.engine.identity import identity_key, person
from mahnwerk.errors import MahnwerkError
from mahnwerk.service.tables import PERSON, ROLES, TOKEN

TOKEN_PREFIX = "mw_"


class Refused(MahnwerkError, PermissionError):
    """An action the acting identity may not take; the message says which role it needs."""

    def __init__(self, message: str, needs: str | None = None) -> None:
        super().__init__(message)
        self.needs = needs

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


@dataclass(frozen=True)
class Identity:
    """A proven actor: `name` is written into the audit log and counts for four eyes."""

    name: str
    role: str
    proof: str  # "os-user root", "token 3 (erp)", ...

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def require(self, role: str, action: str) -> None:
        if not self.may(role):
            raise Refused(
                f"{action} needs the role {role}; {self.name} ({self.proof}) has the role "
                f"{self.role}. An admin can change it (mahnwerk users role NAME {role}).",
                needs=role,
            )


def normalise(name: str) -> str:
    """Names compare as `engine.identity.identity_key` says (case, blanks, invisible marks)."""
    return identity_key(name)


def os_user() -> str:
    """The operating-system account running this process (not $USER, which anyone can set)."""
    return pwd.getpwuid(os.geteuid()).pw_name


def _registered(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(PERSON).where(PERSON.c.disabled_at.is_(None))
    ).scalar_one()


def registered(engine: Engine) -> bool:
    """Whether anybody is registered (else single-user mode)."""
    with engine.connect() as conn:
        return _registered(conn) > 0


def whoami(engine: Engine, user: str | None = None) -> Identity:
    """The proven identity of this process; `Refused` for an unregistered OS user."""
    user = user or os_user()
    with engine.connect() as conn:
        row = conn.execute(
            select(PERSON).where(PERSON.c.os_user == user, PERSON.c.disabled_at.is_(None))
        ).first()
        if row is not None:
            return Identity(row.name, row.role, f"os-user {user}")
        if not _registered(conn):
            return Identity(user, "admin", f"os-user {user}, single-user mode")
    raise Refused(
        f"the OS user {user} is not a mahnwerk user; an admin adds you with "
        f"`mahnwerk users add NAME --os-user {user} --role ROLE`",
        needs="viewer",
    )


def acting(engine: Engine, by: str | None, role: str, action: str) -> Identity:
    """The proven identity, checked against the `--by` label and the role `action` needs."""
    me = whoami(engine)
    if by and by.strip():
        person(by)  # a machine's name (engine, dispatch …) is nobody's: IdentityError
    if by and by.strip() and normalise(by) not in {normalise(me.name), normalise(os_user())}:
        raise Refused(
            f"--by {by.strip()} is not who you are: you are {me.name} ({me.proof}); "
            "leave --by out or give your own name",
        )
    me.require(role, action)
    return me


def add_person(
    engine: Engine, name: str, role: str, os_account: str | None, by: Identity, now: datetime
) -> str:
    """Register a person (admin only; the first person must be an admin)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    label = " ".join(name.split())
    if not label:
        raise ValueError("a person needs a name")
    with engine.begin() as conn:
        first = _registered(conn) == 0
        if first and role != "admin":
            raise Refused("the first person registered must be an admin (--role admin)")
        by.require("admin", "adding a person")
        clash = conn.execute(
            select(PERSON.c.name).where(
                (func.lower(PERSON.c.name) == label.casefold())
                | ((PERSON.c.os_user == os_account) if os_account else False)
            )
        ).first()
        if clash is not None:
            raise ValueError(f"{clash.name} is already registered (same name or OS user)")
        conn.execute(
            insert(PERSON).values(
                name=label, os_user=os_account, role=role, created_at=now, created_by=by.name
            )
        )
    return f"added {label} ({role})" + (f", proven by OS user {os_account}" if os_account else "")


def set_role(engine: Engine, name: str, role: str, by: Identity) -> str:
    by.require("admin", "changing a role")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    with engine.begin() as conn:
        done = conn.execute(
            update(PERSON).where(func.lower(PERSON.c.name) == normalise(name)).values(role=role)
        ).rowcount
    if not done:
        raise ValueError(f"no person {name!r}")
    return f"{name} now has the role {role}"


def people(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(PERSON).order_by(PERSON.c.name)).all()
    return [
        {
            "name": r.name,
            "os_user": r.os_user,
            "role": r.role,
            "disabled": r.disabled_at is not None,
        }
        for r in rows
    ]


# ---------------------------------------------------------------------------
# API tokens
# ---------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    engine: Engine, name: str, role: str, acts_as: str | None, by: Identity, now: datetime
) -> tuple[int, str]:
    """A new token (admin only); returns its id and the token, which is never shown again."""
    by.require("admin", "creating an API token")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        tid = conn.execute(
            insert(TOKEN).values(
                name=name,
                acts_as=" ".join((acts_as or name).split()),
                role=role,
                token_hash=token_hash(token),
                prefix=token[:10],
                created_at=now,
                created_by=by.name,
            )
        ).inserted_primary_key[0]
    return tid, token


def revoke_token(engine: Engine, token_id: int, by: Identity, now: datetime) -> str:
    by.require("admin", "revoking an API token")
    with engine.begin() as conn:
        done = conn.execute(
            update(TOKEN)
            .where(TOKEN.c.id == token_id, TOKEN.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount
    if not done:
        raise ValueError(f"no active token {token_id}")
    return f"token {token_id} revoked"


def tokens(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(TOKEN).order_by(TOKEN.c.id)).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "acts_as": r.acts_as,
            "role": r.role,
            "prefix": r.prefix,
            "created_at": r.created_at.isoformat(),
            "created_by": r.created_by,
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
        }
        for r in rows
    ]


def token_identity(conn: Connection, token: str) -> tuple[int, Identity] | None:
    """The token's id and identity, or None for an unknown or revoked token."""
    row = conn.execute(
        select(TOKEN.c.id, TOKEN.c.acts_as, TOKEN.c.role, TOKEN.c.name).where(
            TOKEN.c.token_hash == token_hash(token), TOKEN.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return row.id, Identity(row.acts_as, row.role, f"token {row.id} ({row.name})")
