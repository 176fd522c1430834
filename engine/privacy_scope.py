"""Finding a customer's rows for access and erasure: the customer, the claims still
pursued that refuse erasure, and the last booking that starts retention.

The queries are in the store layer (`engine/store/privacy`): the connection, the
customer's row, the scope of their invoices and linked rows in every table; here are
the rules on what they return.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from mahnwerk.engine.privacy_rules import CustomerNotFound, ErasureRefused
from mahnwerk.engine.store import privacy as store
from mahnwerk.engine.store.privacy import Scope as _Scope
from mahnwerk.engine.store.privacy import connection as _connection

__all__ = [
    "_Scope",
    "_connection",
    "_customer",
    "_last_booking",
    "_refuse_open_claims",
]


def _customer(conn: Connection, external_id: str, lock: bool = False) -> Any:
    row = store.customer_row(conn, external_id, lock)
    if row is None:
        raise CustomerNotFound(
            f"no customer {external_id!r}: use the customer number (customer_id) of the import; "
            "`mahnwerk invoices` shows each invoice's customer"
        )
    return row


def _refuse_open_claims(conn: Connection, scope: _Scope, external_id: str) -> None:
    """Art. 17(3)(e): a claim still pursued keeps the data needed to pursue it."""
    problems: list[str] = []
    if scope.numbers:
        open_ = [f"{r.external_id} ({r.state or 'new'})" for r in store.open_invoices(conn, scope)]
        if open_:
            problems.append(
                f"{len(open_)} open invoice(s): {_first(open_)} — a claim still pursued is a "
                "legitimate interest (GDPR Art. 17(3)(e)); erase once they are paid or "
                "written off"
            )
    unapplied = store.unapplied_payments(conn, scope)
    if unapplied:
        problems.append(
            f"{len(unapplied)} payment(s) not yet applied: {_first(unapplied)} — "
            "match them and run the engine first"
        )
    sending = store.messages_sending(conn, scope)
    if sending:
        problems.append(f"{sending} message(s) are being sent right now — try again later")
    if problems:
        raise ErasureRefused(
            f"erasure of customer {external_id!r} refused, nothing changed:\n  "
            + "\n  ".join(problems)
        )


def _first(items: list[str], limit: int = 10) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _last_booking(conn: Connection, scope: _Scope) -> date | None:
    """The latest day anything was booked for the customer: invoice, ledger line, payment."""
    found = [_as_date(d) for d in store.booking_days(conn, scope) if d is not None]
    return max(found) if found else None


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
