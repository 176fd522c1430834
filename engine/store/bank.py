"""What the bank statements read and write (`engine/bank/`): the entries imported, the
book the matcher reads, the payments and events a match books, the accounts learnt,
and the queue of entries waiting for a person.

Part of the store layer (`engine/store/`).  Each function runs its statements on the
caller's connection, inside the caller's transaction, so an import or an assignment is
written whole or not at all.  The guards that keep a credit from being booked twice are
in the statements themselves and stay there: `bank_entry.entry_key` is unique (an entry
seen before is not stored again), and an entry is taken from the queue by an `UPDATE`
that checks its status in the same statement (`take_waiting`, `dismiss_waiting`), so of
two people only one takes it.  What an entry's status, note or booking text should be is
the bank modules' rule; these functions take those as values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from mahnwerk.engine.models import BANK_ACCOUNT, BANK_ENTRY, CUST, DS, EVENT, INV, PAY

# ---------------------------------------------------------------------------
# The book the matcher reads, and what a match books
# ---------------------------------------------------------------------------


def book_rows(conn: Connection) -> tuple[dict[int, Any], list[Any], list[Any], dict[str, int]]:
    """What matching needs of the book, read in one transaction: the sum of the payments
    not yet applied per invoice; every invoice with its dunning state's open amounts
    (`ds` is None where a run has not taken it up) and Skonto terms and offers; every
    customer's id, number and name; the learnt accounts (IBAN → customer id)."""
    pending = dict(
        conn.execute(
            select(PAY.c.invoice_id, func.sum(PAY.c.amount))
            .where(PAY.c.applied.is_(False), PAY.c.invoice_id.is_not(None))
            .group_by(PAY.c.invoice_id)
        ).all()
    )
    invoices = conn.execute(
        select(
            INV.c.id,
            INV.c.external_id,
            INV.c.customer_id,
            INV.c.due_date,
            INV.c.currency,
            INV.c.amount,
            INV.c.issue_date,
            INV.c.skonto_terms,
            DS.c.invoice_id.label("ds"),
            DS.c.principal_open,
            DS.c.fees_open,
            DS.c.interest_open,
            DS.c.discount_offers,
        ).outerjoin(DS, DS.c.invoice_id == INV.c.id)
    ).all()
    customers = conn.execute(select(CUST.c.id, CUST.c.external_id, CUST.c.name)).all()
    accounts = dict(conn.execute(select(BANK_ACCOUNT.c.iban, BANK_ACCOUNT.c.customer_id)).all())
    return pending, invoices, customers, accounts


def add_payment(conn: Connection, payment: dict[str, Any], event: dict[str, Any]) -> None:
    """A `payment` row for the next run to apply, with its line in the invoice's event log:
    one allocation of a bank credit (the caller gives both rows' values)."""
    conn.execute(insert(PAY).values(**payment))
    add_event(conn, event)


def add_event(conn: Connection, values: dict[str, Any]) -> None:
    """One line of an invoice's event log (a bank payment or a returned debit)."""
    conn.execute(insert(EVENT).values(**values))


def add_account(conn: Connection, iban: str, customer_id: int, source: str, now: datetime) -> None:
    """Remember that payments from `iban` come from the customer (the caller has checked
    the IBAN is not known yet: it is unique)."""
    conn.execute(
        insert(BANK_ACCOUNT).values(
            iban=iban, customer_id=customer_id, learned_from=source, created_at=now
        )
    )


def move_account(conn: Connection, iban: str, customer_id: int, source: str, now: datetime) -> None:
    """A known IBAN now belongs to another customer (a person said so)."""
    conn.execute(
        update(BANK_ACCOUNT)
        .where(BANK_ACCOUNT.c.iban == iban)
        .values(customer_id=customer_id, learned_from=source, created_at=now)
    )


def account_owner(conn: Connection, iban: str) -> int | None:
    """The id of the customer an IBAN is known to belong to, or None."""
    return conn.execute(
        select(BANK_ACCOUNT.c.customer_id).where(BANK_ACCOUNT.c.iban == iban)
    ).scalar()


def customer_id(conn: Connection, number: str) -> int | None:
    """A customer's internal id by its number, or None."""
    return conn.execute(select(CUST.c.id).where(CUST.c.external_id == number)).scalar()


def earlier_credits(conn: Connection, end_to_end_id: str, entry_id: int) -> list[int]:
    """The ids of the other credit entries with this end-to-end id (what a return reverses)."""
    return list(
        conn.execute(
            select(BANK_ENTRY.c.id).where(
                BANK_ENTRY.c.end_to_end_id == end_to_end_id,
                BANK_ENTRY.c.kind == "credit",
                BANK_ENTRY.c.id != entry_id,
            )
        ).scalars()
    )


def _payments_of(entry_id: int) -> Any:
    """The payments an entry became: each is named `bank:<entry id>:<n>`."""
    return PAY.c.external_id.like(f"bank:{entry_id}:%")


def invoices_paid_by(conn: Connection, entry_id: int) -> list[int]:
    """The invoices (ids, in booking order) an entry's payments went to."""
    return list(
        conn.execute(
            select(PAY.c.invoice_id).where(_payments_of(entry_id)).order_by(PAY.c.id)
        ).scalars()
    )


# ---------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------


def known_keys(conn: Connection, keys: Sequence[str], chunk: int) -> set[str]:
    """Which of these entry keys are stored already, asked `chunk` keys at a time."""
    found: set[str] = set()
    for i in range(0, len(keys), chunk):
        part = keys[i : i + chunk]
        found.update(
            conn.execute(
                select(BANK_ENTRY.c.entry_key).where(BANK_ENTRY.c.entry_key.in_(part))
            ).scalars()
        )
    return found


def add_entry(conn: Connection, values: dict[str, Any]) -> int:
    """Store one entry of a statement; its id.  A key stored before fails (`IntegrityError`)."""
    return conn.execute(insert(BANK_ENTRY).values(**values)).inserted_primary_key[0]


# ---------------------------------------------------------------------------
# The queue
# ---------------------------------------------------------------------------


def _customer_names(conn: Connection, where: Any) -> dict[int, tuple[str, str]]:
    return {
        r.id: (r.external_id, r.name)
        for r in conn.execute(select(CUST.c.id, CUST.c.external_id, CUST.c.name).where(where))
    }


def queue_page(
    engine: Engine, statuses: Iterable[str], limit: int, offset: int
) -> tuple[list[Any], dict[int, tuple[str, str]]]:
    """Entries in one of `statuses`, oldest first, one page; and the customers they name
    (id → number, name)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(BANK_ENTRY)
            .where(BANK_ENTRY.c.status.in_(statuses))
            .order_by(BANK_ENTRY.c.booked_on, BANK_ENTRY.c.id)
            .limit(limit)
            .offset(offset)
        ).all()
        ids = {r.customer_id for r in rows if r.customer_id}
        customers = _customer_names(conn, CUST.c.id.in_(ids))
    return rows, customers


def entry_detail(
    engine: Engine, entry_id: int
) -> tuple[Any, dict[int, tuple[str, str]], list[Any]] | None:
    """One entry, its customer (id → number, name) and the payments it became (invoice
    number, amount, applied); None if there is no such entry."""
    with engine.connect() as conn:
        r = entry_row(conn, entry_id)
        if r is None:
            return None
        customers = _customer_names(conn, CUST.c.id == r.customer_id)
        payments = conn.execute(
            select(INV.c.external_id, PAY.c.amount, PAY.c.applied)
            .join(INV, INV.c.id == PAY.c.invoice_id)
            .where(_payments_of(entry_id))
            .order_by(PAY.c.id)
        ).all()
    return r, customers, payments


def entry_row(conn: Connection, entry_id: int) -> Any:
    """One bank entry's row, or None."""
    return conn.execute(select(BANK_ENTRY).where(BANK_ENTRY.c.id == entry_id)).first()


def entry_status(conn: Connection, entry_id: int) -> str | None:
    """One bank entry's status, or None if there is no such entry."""
    return conn.execute(select(BANK_ENTRY.c.status).where(BANK_ENTRY.c.id == entry_id)).scalar()


def unmatched(conn: Connection) -> list[Any]:
    """The credits waiting for a person (status `unmatched`), oldest first."""
    return conn.execute(
        select(BANK_ENTRY)
        .where(BANK_ENTRY.c.status == "unmatched")
        .order_by(BANK_ENTRY.c.booked_on, BANK_ENTRY.c.id)
    ).all()


def take_waiting(conn: Connection, entry_id: int, values: dict[str, Any]) -> bool:
    """Set `values` on the entry if it is still `unmatched`, in the statement that checks
    it: True if this call took it (a concurrent one finds it taken and gets False)."""
    taken = conn.execute(
        update(BANK_ENTRY)
        .where(BANK_ENTRY.c.id == entry_id, BANK_ENTRY.c.status == "unmatched")
        .values(**values)
    )
    return taken.rowcount == 1


def dismiss_waiting(
    conn: Connection,
    entry_id: int,
    statuses: Iterable[str],
    actor: str,
    now: datetime,
    note: str,
) -> bool:
    """Close the entry if it waits in the queue (one of `statuses`), `note` added to its
    note; True if it did, in the statement that checks it."""
    done = conn.execute(
        update(BANK_ENTRY)
        .where(BANK_ENTRY.c.id == entry_id, BANK_ENTRY.c.status.in_(statuses))
        .values(
            status="dismissed",
            decided_by=actor,
            decided_at=now,
            note=BANK_ENTRY.c.note + note,
        )
    )
    return done.rowcount == 1


def latest_booking(engine: Engine, account: str | None = None) -> date | None:
    """The last booking day of any stored entry (of `account`, if given)."""
    query = select(func.max(BANK_ENTRY.c.booked_on))
    if account:
        query = query.where(BANK_ENTRY.c.account == account)
    with engine.connect() as conn:
        return conn.execute(query).scalar()
