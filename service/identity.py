"""Who is acting: people proven by their login, API clients by tokens.

Decision (issue 15): a person is proven by the login that the system below mahnwerk
already checked, never by a name typed into mahnwerk:

* on SQLite, the operating-system account that runs the program (`os.geteuid()`): the
  OS checked a password or key to open that session, and whoever can write the file
  can do anything to it anyway, so the file's permissions are the boundary;
* on PostgreSQL, the database role the connection logged in as (`session_user`, which
  `SET ROLE` cannot change): the database checked its password or certificate, and its
  grants (`engine.store.grants`) hold a direct SQL session to the same role, so `psql` can do
  no more than `mahnwerk` would let that person do. The OS user does not count there:
  the database cannot see it, so it could not enforce anything about it.

An admin registers people (`mahnwerk users add anna.schulz --role approver --os-user anna`
on SQLite, `--db-role anna` on PostgreSQL); from then on that login *is* anna.schulz,
and `--by` is only a label that must name that same person (a forged `--by ben` is
refused). Four eyes therefore needs two logins, or a login and an API token of another
person.

A store with nobody registered is in single-user mode: the login acts with every role
under its own name, and `--by` must still name that login. The first person added must
be an admin; once anybody is registered, an unregistered login may do nothing.

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

from sqlalchemy import Connection, Engine

from mahnwerk.engine.identity import identity_key, person
from mahnwerk.engine.roles import ROLES, may
from mahnwerk.engine.store import people as store
from mahnwerk.errors import MahnwerkError

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
    login: str = ""  # the OS user or database role that proved it (none for a token)

    def may(self, role: str) -> bool:
        return may(self.role, role)

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
    return store.registered_count(conn)


def registered(engine: Engine) -> bool:
    """Whether anybody is registered (else single-user mode)."""
    with engine.connect() as conn:
        return _registered(conn) > 0


def login(engine: Engine) -> tuple[str, str]:
    """The login that proves this process: ("os-user", name) on SQLite, ("database role",
    name) on PostgreSQL (`session_user`, the role the connection authenticated as)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return "database role", store.session_user(conn)
    return "os-user", os_user()


def whoami(engine: Engine, user: str | None = None) -> Identity:
    """The proven identity of this process; `Refused` for a login nobody registered.

    `user` names the OS user to look up (tests of two OS accounts); by default the login
    of this process on `engine` (see `login`)."""
    kind, key = ("os-user", user) if user else login(engine)
    with engine.connect() as conn:
        row = store.person_by_login(conn, kind == "database role", key)
        if row is not None:
            return Identity(row.name, row.role, f"{kind} {key}", key)
        if not _registered(conn):
            return Identity(key, "admin", f"{kind} {key}, single-user mode", key)
    option = "--db-role" if kind == "database role" else "--os-user"
    raise Refused(
        f"the {kind} {key} is not a mahnwerk user; an admin adds you with "
        f"`mahnwerk users add NAME {option} {key} --role ROLE`",
        needs="viewer",
    )


def acting(
    engine: Engine, by: str | None, role: str, action: str, option: str = "--by"
) -> Identity:
    """The proven identity, checked against the `--by` label and the role `action` needs.

    `option` names where the label came from (`--by`, the TUI's `--operator`)."""
    me = whoami(engine)
    if by and by.strip():
        person(by, f"{option} NAME")  # a machine's name is nobody's: IdentityError
        if normalise(by) not in {normalise(me.name), normalise(me.login or me.name)}:
            raise Refused(
                f"{option} {by.strip()} is not who you are: you are {me.name} ({me.proof}); "
                f"leave {option} out or give your own name; nothing was changed",
            )
    me.require(role, action)
    return me


def add_person(
    engine: Engine,
    name: str,
    role: str,
    os_account: str | None,
    by: Identity,
    now: datetime,
    db_role: str | None = None,
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
        clash = store.clashing_person(conn, label, os_account, db_role)
        if clash is not None:
            raise ValueError(f"{clash.name} is already registered (same name or login)")
        store.insert_person(
            conn,
            name=label,
            os_user=os_account,
            db_role=db_role,
            role=role,
            created_at=now,
            created_by=by.name,
        )
    proofs = [f"OS user {os_account}"] * bool(os_account) + [f"database role {db_role}"] * bool(
        db_role
    )
    return f"added {label} ({role})" + (f", proven by {' and '.join(proofs)}" if proofs else "")


def set_role(engine: Engine, name: str, role: str, by: Identity) -> str:
    by.require("admin", "changing a role")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    with engine.begin() as conn:
        done = store.set_role(conn, normalise(name), role)
    if not done:
        raise ValueError(f"no person {name!r}")
    return f"{name} now has the role {role}"


def people(engine: Engine) -> list[dict[str, object]]:
    rows = store.people(engine)
    return [
        {
            "name": r.name,
            "os_user": r.os_user,
            "db_role": r.db_role,
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
        tid = store.insert_token(
            conn,
            name=name,
            acts_as=" ".join((acts_as or name).split()),
            role=role,
            token_hash=token_hash(token),
            prefix=token[:10],
            created_at=now,
            created_by=by.name,
        )
    return tid, token


def revoke_token(engine: Engine, token_id: int, by: Identity, now: datetime) -> str:
    by.require("admin", "revoking an API token")
    with engine.begin() as conn:
        done = store.revoke_token(conn, token_id, now)
    if not done:
        raise ValueError(f"no active token {token_id}")
    return f"token {token_id} revoked"


def tokens(engine: Engine) -> list[dict[str, object]]:
    rows = store.tokens(engine)
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
    row = store.active_token(conn, token_hash(token))
    if row is None:
        return None
    return row.id, Identity(row.acts_as, row.role, f"token {row.id} ({row.name})")
