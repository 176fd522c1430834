"""The TUI tests' fixed book: customers, invoices, a policy, an app factory and pilot helpers.

`build_book` makes the same database every time: the policy in
`data/tui_policy.mahn`, eight customers, twenty invoices with fixed amounts and
dates, and two runs of the real engine (2024-03-04 and the as-of date
2024-06-03), with payments and a dispute entered in between.  That leaves invoices in every
kind of state, messages queued, fees and interest booked, and escalations
waiting for one and for two approvers — all with fixed ids, so snapshots and
assertions are stable.  Building it takes well under a second.

`build_bank_book` is the bank tests' book instead (tests/data/bank: the customers and
invoices of `book/`, the statement `own/camt053_de_cases.xml` imported), which leaves two
unmatched credits and one returned direct debit in the bank queue.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import DataTable

from mahnwerk.engine.bank import import_statement
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.models import CUST, INV
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.store.db import init_db, make_engine
from mahnwerk.engine.store.invoices import record_event
from mahnwerk.tui.app import MahnwerkApp

POLICY = Path(__file__).parent / "data" / "tui_policy.mahn"
AS_OF = date(2024, 6, 3)  # a Monday
NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
SIZE = (120, 36)

BANK = Path(__file__).parents[1] / "data" / "bank"
BANK_POLICY = Path(__file__).parents[1] / "engine" / "data" / "runner_policy.mahn"
BANK_AS_OF = date(2026, 3, 11)
BANK_NOW = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)

CUSTOMERS = [
    # id, name, type, region, email
    ("K-100", "Bäckerei Größer GmbH", "B2B", "BY", "buchhaltung@groesser.example"),
    ("K-101", "Nordlicht Logistik GmbH", "B2B", "SH", "ap@nordlicht.example"),
    ("K-102", "Weiß & Söhne KG", "B2B", "NW", None),
    ("K-200", "Anna Schmidt", "B2C", "HH", "anna.schmidt@example.de"),
    ("K-201", "Jörg Weiß", "B2C", "SN", "joerg.weiss@example.de"),
    ("K-202", "Ömer Yılmaz", "B2C", "BE", "oemer@example.de"),
    ("K-203", "Lena Krüger", "B2C", "BW", None),
    ("K-204", "Paul Meier", "B2C", "BY", "paul.meier@example.de"),
]

INVOICES = [
    # number, customer, due date, amount
    ("RE-1001", "K-100", date(2024, 1, 15), "14500.00"),  # court: two approvers
    ("RE-1002", "K-101", date(2024, 1, 20), "2380.00"),  # court: one approver
    ("RE-1003", "K-102", date(2024, 2, 10), "830.50"),
    ("RE-1004", "K-100", date(2024, 4, 2), "1190.00"),
    ("RE-1005", "K-101", date(2024, 5, 21), "595.00"),
    ("RE-1006", "K-102", date(2024, 6, 20), "7140.00"),
    ("RE-2001", "K-200", date(2024, 1, 22), "1249.99"),  # collector: two approvers
    ("RE-2002", "K-201", date(2024, 1, 29), "89.90"),  # collector: one approver
    ("RE-2003", "K-202", date(2024, 2, 5), "39.00"),  # too small: waits for the team
    ("RE-2004", "K-203", date(2024, 3, 28), "249.00"),
    ("RE-2005", "K-204", date(2024, 4, 15), "119.00"),
    ("RE-2006", "K-200", date(2024, 5, 6), "64.50"),
    ("RE-2007", "K-201", date(2024, 5, 27), "310.00"),
    ("RE-2008", "K-202", date(2024, 6, 5), "45.00"),
    ("RE-2009", "K-203", date(2024, 6, 28), "980.00"),
    ("RE-2010", "K-204", date(2024, 2, 19), "150.00"),  # paid in full before the run
    ("RE-2011", "K-200", date(2024, 3, 11), "420.00"),  # paid in part
    ("RE-2012", "K-201", date(2024, 4, 29), "75.00"),
    ("RE-2013", "K-202", date(2024, 5, 13), "1500.00"),
    ("RE-2014", "K-203", date(2024, 7, 15), "220.00"),
]


def build_book(url: str) -> Engine:
    """The fixed book described above, on the database at `url` (empty)."""
    init_db(url)
    engine = make_engine(url)
    with contextlib.chdir(POLICY.parent):  # rules cite "tui_policy.mahn:14" wherever tests run
        deploy(engine, POLICY.name, NOW - timedelta(days=150))
    with engine.begin() as conn:
        ids = {}
        for ext, name, kind, region, email in CUSTOMERS:
            ids[ext] = conn.execute(
                insert(CUST).values(
                    external_id=ext, name=name, type=kind, region=region, email=email
                )
            ).inserted_primary_key[0]
        for number, cust, due, amount in INVOICES:
            conn.execute(
                insert(INV).values(
                    external_id=number,
                    customer_id=ids[cust],
                    issue_date=due - timedelta(days=14),
                    due_date=due,
                    amount=Decimal(amount),
                )
            )
    policies = PolicySet.load(engine)
    first = date(2024, 3, 4)
    run(engine, first, policies, datetime(2024, 3, 4, 6, 0, tzinfo=UTC))
    record_event(
        engine, "RE-2010", "payment_partial", date(2024, 3, 1), "anna", NOW - timedelta(days=91),
        {"amount": "150.00"},
    )  # fmt: skip
    record_event(
        engine, "RE-2011", "payment_partial", date(2024, 6, 3), "anna", NOW - timedelta(hours=1),
        {"amount": "200.00"},
    )  # fmt: skip
    record_event(
        engine, "RE-2012", "dispute_opened", date(2024, 5, 20), "ben", NOW - timedelta(days=14),
        {"note": "Ware beschädigt"},
    )  # fmt: skip
    weekly(engine, policies, first + timedelta(days=7), AS_OF)
    run(engine, AS_OF, policies, NOW)
    return engine


def weekly(engine: Engine, policies: PolicySet, start: date, end: date) -> None:
    """A run every Monday from `start` until before `end`: a run moves an invoice at most one
    letter level (catch-up), so the book is dunned week by week as an office would."""
    day = start
    while day < end:
        run(engine, day, policies, datetime.combine(day, datetime.min.time(), tzinfo=UTC))
        day += timedelta(days=7)


KEY_ACCOUNT_POLICY = Path(__file__).parents[2] / "policies" / "key_account.mahn"


def build_monday_book(url: str) -> Engine:
    """The fixed book plus what a Monday brings (the tmux and worklist tests): a key account
    (K-300, policy `key_account.mahn`) whose invoice is due for a phone call, a promise
    that falls due on the as-of date, and a run on the Friday before.  Kept small: under
    a second to build."""
    init_db(url)
    engine = make_engine(url)
    with contextlib.chdir(POLICY.parent):
        deploy(engine, POLICY.name, NOW - timedelta(days=150))
    deploy(engine, KEY_ACCOUNT_POLICY, NOW - timedelta(days=150),
           applies_to='"key_account" in customer.tags', priority=0)  # fmt: skip
    with engine.begin() as conn:
        ids = {}
        for ext, name, kind, region, email in CUSTOMERS:
            ids[ext] = conn.execute(
                insert(CUST).values(
                    external_id=ext, name=name, type=kind, region=region, email=email,
                    phone=f"+49 40 5550{ext[-3:]}", city=CITIES.get(ext, "Hamburg"),
                )
            ).inserted_primary_key[0]  # fmt: skip
        ids["K-300"] = conn.execute(
            insert(CUST).values(
                external_id="K-300", name="Hanse Maschinenbau AG", type="B2B", region="HH",
                email="ap@hanse-mb.example", phone="+49 40 555 0300", city="Hamburg",
                tags="key_account",
            )
        ).inserted_primary_key[0]  # fmt: skip
        for number, cust, due, amount in [*INVOICES, ("RE-3001", "K-300", date(2024, 5, 6),
                                                      "18400.00")]:  # fmt: skip
            conn.execute(
                insert(INV).values(
                    external_id=number, customer_id=ids[cust], issue_date=due - timedelta(days=14),
                    due_date=due, amount=Decimal(amount),
                )
            )  # fmt: skip
    policies = PolicySet.load(engine)
    run(engine, date(2024, 3, 4), policies, datetime(2024, 3, 4, 6, 0, tzinfo=UTC))
    weekly(engine, policies, date(2024, 3, 11), date(2024, 5, 27))
    record_event(
        engine, "RE-2006", "promise_made", date(2024, 5, 27), "ben", NOW - timedelta(days=7),
        {"promised_date": "2024-05-31"},
    )  # fmt: skip
    run(engine, date(2024, 5, 31), policies, datetime(2024, 5, 31, 6, 0, tzinfo=UTC))
    run(engine, AS_OF, policies, NOW)
    return engine


CITIES = {"K-200": "Hamburg", "K-201": "Leipzig", "K-202": "Berlin", "K-203": "Freiburg",
          "K-204": "München", "K-100": "Nürnberg", "K-101": "Kiel", "K-102": "Köln"}  # fmt: skip


def build_bank_book(url: str) -> Engine:
    """The bank tests' book (see above) with their statement imported, on `url` (empty)."""
    init_db(url)
    engine = make_engine(url)
    deploy(engine, BANK_POLICY, BANK_NOW)
    import_file(engine, "customers", BANK / "book" / "kunden.csv", now=BANK_NOW)
    import_file(engine, "invoices", BANK / "book" / "rechnungen.csv", now=BANK_NOW)
    with contextlib.chdir(BANK):  # the entry's file reads "own/camt053_de_cases.xml" anywhere
        import_statement(engine, Path("own") / "camt053_de_cases.xml", now=BANK_NOW)
    return engine


@pytest.fixture
def bank_book(db_url: str) -> Iterator[Engine]:
    """The bank book on SQLite and (when configured) PostgreSQL."""
    engine = build_bank_book(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_bank_book(tmp_path: Path) -> Iterator[Engine]:
    """The bank book on SQLite only (snapshots)."""
    engine = build_bank_book(f"sqlite:///{tmp_path / 'bank.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def book(db_url: str) -> Iterator[Engine]:
    """The fixed book on SQLite and (when configured) PostgreSQL."""
    engine = build_book(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_book(tmp_path: Path) -> Iterator[Engine]:
    """The fixed book on SQLite only (snapshots: one rendering is enough)."""
    engine = build_book(f"sqlite:///{tmp_path / 'book.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def make_app(
    engine: Engine,
    operator: str = "anna",
    start: str = "dashboard",
    today: date = AS_OF,
    now: datetime = NOW,
    poll: float = 0,
) -> MahnwerkApp:
    """The app on a fixed date and clock, as a test drives it (no polling unless asked:
    a refresh in the middle of a pilot's key presses would make the tests flaky)."""
    return MahnwerkApp(engine, operator, today, lambda: now, start=start, poll=poll)


def make_bank_app(engine: Engine, operator: str = "anna") -> MahnwerkApp:
    """The app on the bank book's date, opened on the bank queue."""
    return make_app(engine, operator, "bank", BANK_AS_OF, BANK_NOW)


async def settle(pilot: Pilot) -> None:
    """Wait until background work (reads, runs, a confirmed decision) has landed on screen.

    A worker that waits for a dialog's answer is left alone while the dialog is
    open: waiting for it would wait for the key press that comes next.  A worker not yet
    started counts as busy (CI met a dashboard snapshot taken before its first read).
    """
    quiet = 0
    for _ in range(200):  # until two rounds in a row find nothing running (CI under load: a
        await pilot.pause()  # screen's first read may start a round or two after the switch)
        dialog = isinstance(pilot.app.screen, ModalScreen)
        busy = [w for w in pilot.app.workers
                if not w.is_finished and not (dialog and w.group in ASKING)]
        if busy:
            quiet = 0
            await pilot.app.workers.wait_for_complete(busy)
        elif _sizing(pilot):
            quiet = 0
        else:
            quiet += 1
            if quiet >= 2:
                break
    await pilot.pause()


def _sizing(pilot: Pilot) -> bool:
    """A table has rows whose column widths it fits only when it is next idle: a snapshot
    taken before that shows cut cells (CI caught "cha" for "champion" in the experiments
    report)."""
    return any(t._require_update_dimensions for t in pilot.app.screen.query(DataTable))


ASKING = {"decide", "invoice-action", "run-confirm", "bank-decide", "queue-dialog", "today-action",
          "policy-deploy"}  # fmt: skip
"""Worker groups of the screens' dialog flows (`push_screen_wait`)."""


async def keys(pilot: Pilot, *presses: str) -> None:
    await pilot.press(*presses)
    await settle(pilot)


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*(("space" if ch == " " else ch) for ch in text))


def register_me(engine: Engine, name: str) -> None:
    """The OS user running the tests is `name` (admin): `mahnwerk tui` works as the proven
    login, so a test that wants to see `carla` on screen registers its login as carla."""
    from mahnwerk.service.identity import Identity, add_person, os_user

    add_person(engine, name, "admin", os_user(), Identity(os_user(), "admin", "test"), NOW)
