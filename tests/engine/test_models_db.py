"""The schema and the database plumbing: URLs, engines, migrations, and what the tables enforce."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, inspect, text, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import SQLModel, select

from mahnwerk.engine.models import (
    Approval,
    ApprovalDecision,
    Customer,
    DunningState,
    Event,
    Invoice,
    Ledger,
    Outbox,
    Payment,
    PolicyVersion,
    Run,
)
from mahnwerk.engine.store import db
from mahnwerk.engine.store.db import (
    DatabaseNotReady,
    current_revision,
    database_url,
    ensure_ready,
    head_revision,
    init_db,
    make_engine,
    normalize_url,
    session,
)

NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
TABLES = {
    "customer",
    "invoice",
    "payment",
    "dunning_state",
    "event",
    "outbox",
    "approval",
    "approval_decision",
    "ledger",
    "policy_version",
    "run",
}


def _customer_and_invoice(s: object, amount: str = "100.00") -> tuple[Customer, Invoice]:
    customer = Customer(external_id="K1", name="Jörg Weiß", type="B2C")
    s.add(customer)  # type: ignore[attr-defined]
    s.flush()  # type: ignore[attr-defined]
    invoice = Invoice(
        external_id="R1",
        customer_id=customer.id,
        issue_date=date(2024, 1, 2),
        due_date=date(2024, 1, 16),
        amount=Decimal(amount),
    )
    s.add(invoice)  # type: ignore[attr-defined]
    s.flush()  # type: ignore[attr-defined]
    return customer, invoice


# ---------------------------------------------------------------------------
# URLs and engines
# ---------------------------------------------------------------------------


def test_database_url_prefers_cli_then_env_then_local_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MAHNWERK_DB", raising=False)
    assert database_url(None) == "sqlite:///mahnwerk.db"
    monkeypatch.setenv("MAHNWERK_DB", "postgresql://u@h/db")
    assert database_url(None) == "postgresql://u@h/db"
    assert database_url("sqlite:///other.db") == "sqlite:///other.db"


def test_bare_path_means_sqlite_file() -> None:
    assert database_url("books/mahn.db") == "sqlite:///books/mahn.db"


def test_postgresql_urls_get_psycopg3_driver() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


def test_sqlite_engine_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with eng.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == db.SQLITE_BUSY_TIMEOUT_MS
    finally:
        eng.dispose()


# ---------------------------------------------------------------------------
# Migrations
# ---------------------------------------------------------------------------


def test_init_creates_every_table(db_url: str) -> None:
    message = init_db(db_url)
    assert message.startswith("created database") and head_revision() in message
    eng = make_engine(db_url)
    try:
        assert TABLES <= set(inspect(eng).get_table_names())
        assert current_revision(eng) == head_revision()
        ensure_ready(eng)
    finally:
        eng.dispose()


def test_init_twice_is_idempotent_and_keeps_data(db_url: str) -> None:
    init_db(db_url)
    eng = make_engine(db_url)
    try:
        with session(eng) as s:
            _customer_and_invoice(s)
        assert "up to date" in init_db(db_url)
        with session(eng) as s:
            assert s.exec(select(Invoice)).one().amount == Decimal("100.00")
    finally:
        eng.dispose()


def test_migrations_match_models(engine: Engine) -> None:
    """The hand-written migration creates exactly what models.py declares."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_init_upgrades_an_older_database(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_db(db_url)
    eng = make_engine(db_url)
    with session(eng) as s:
        _customer_and_invoice(s)
    # A later release: the same migrations plus one more.
    migrations = tmp_path / "migrations"
    shutil.copytree(db.MIGRATIONS, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    nxt = f"{int(head) + 1:04d}"
    (migrations / "versions" / f"{nxt}_note.py").write_text(
        f'revision = "{nxt}"\ndown_revision = "{head}"\nbranch_labels = None\ndepends_on = None\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        "def upgrade():\n"
        '    with op.batch_alter_table("customer") as batch:\n'
        '        batch.add_column(sa.Column("note", sa.Text(), nullable=True))\n\n'
        "def downgrade():\n"
        '    with op.batch_alter_table("customer") as batch:\n'
        '        batch.drop_column("note")\n',
        encoding="utf-8",
    )
    released = db.MIGRATIONS
    monkeypatch.setattr(db, "MIGRATIONS", migrations)
    try:
        assert f"from schema {head} to {nxt}" in init_db(db_url)
        assert "up to date" in init_db(db_url)
        ensure_ready(eng)
        # Back to the released code: the database is now newer than it.
        monkeypatch.setattr(db, "MIGRATIONS", released)
        with pytest.raises(DatabaseNotReady, match="newer mahnwerk"):
            ensure_ready(eng)
        with pytest.raises(DatabaseNotReady, match="newer mahnwerk"):
            init_db(db_url)
        columns = {c["name"] for c in inspect(eng).get_columns("customer")}
        assert "note" in columns
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM invoice")).scalar() == 1
    finally:
        eng.dispose()


def test_init_refuses_tables_without_migration_history(db_url: str) -> None:
    eng = make_engine(db_url)
    try:
        SQLModel.metadata.create_all(eng)
        with pytest.raises(DatabaseNotReady, match="no migration history"):
            init_db(db_url)
    finally:
        eng.dispose()


def test_uninitialised_database_is_not_ready(db_url: str) -> None:
    eng = make_engine(db_url)
    try:
        with pytest.raises(DatabaseNotReady, match="mahnwerk init"):
            ensure_ready(eng)
    finally:
        eng.dispose()


# ---------------------------------------------------------------------------
# What the tables keep and refuse
# ---------------------------------------------------------------------------


def test_money_round_trips_as_exact_decimal(engine: Engine) -> None:
    with session(engine) as s:
        _, invoice = _customer_and_invoice(s, "999999999999.99")
        s.add(
            Ledger(invoice_id=invoice.id, kind="fee", amount=Decimal("0.01"), booked_on=NOW.date())
        )
        s.add(
            Ledger(
                invoice_id=invoice.id,
                kind="interest",
                amount=Decimal("12.34"),
                booked_on=NOW.date(),
                rate=Decimal("11.270000"),
                period_from=date(2024, 1, 17),
                period_to=date(2024, 2, 29),
            )
        )
    with session(engine) as s:
        amount = s.exec(select(Invoice.amount)).one()
        assert type(amount) is Decimal and amount == Decimal("999999999999.99")
        fees = s.exec(select(Ledger.amount).order_by(Ledger.id)).all()
        assert fees == [Decimal("0.01"), Decimal("12.34")]
        assert all(type(f) is Decimal for f in fees)
        assert s.exec(select(Ledger.rate).where(Ledger.kind == "interest")).one() == Decimal(
            "11.27"
        )


def test_defaults_fill_new_rows(engine: Engine) -> None:
    with session(engine) as s:
        customer, invoice = _customer_and_invoice(s)
        s.add(
            DunningState(
                invoice_id=invoice.id,
                segment="b2c",
                ladder="standard",
                state="new",
                entered_on=date(2024, 1, 16),
                next_check_on=date(2024, 1, 17),
            )
        )
    with session(engine) as s:
        c = s.exec(select(Customer)).one()
        assert (c.country, c.language, c.timezone, c.vulnerable) == (
            "DE",
            "de",
            "Europe/Berlin",
            False,
        )
        i = s.exec(select(Invoice)).one()
        assert (i.currency, i.due_date_agreed, i.notice_30_days) == ("EUR", False, False)
        d = s.exec(select(DunningState)).one()
        assert (d.held, d.promises, d.row_version, d.fees_open) == (False, 0, 0, Decimal("0"))


def test_timestamps_are_aware_utc_and_naive_ones_are_refused(engine: Engine) -> None:
    berlin_morning = datetime(2024, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    with session(engine) as s:
        s.add(Run(as_of=date(2024, 3, 1), started_at=berlin_morning, finished_at=None, workers=2))
    with session(engine) as s:
        started = s.exec(select(Run.started_at)).one()
        assert started == berlin_morning and started.tzinfo is not None
        assert started.utcoffset() == timedelta(0)
    with pytest.raises(StatementError, match="naive datetime"), session(engine) as s:
        s.add(Run(as_of=date(2024, 3, 1), started_at=datetime(2024, 3, 1, 8, 0)))


def test_event_log_is_append_only(engine: Engine) -> None:
    with session(engine) as s:
        s.add(
            Event(
                kind="state_changed",
                occurred_on=date(2024, 3, 1),
                recorded_at=NOW,
                actor="engine",
                rule="policies/de_b2c.mahn:17",
                state_from="reminder",
                state_to="dunning_1",
            )
        )
    event_table = Event.__table__  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(update(event_table).values(message="rewritten"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(delete(event_table))
    with session(engine) as s:
        assert s.exec(select(Event.message)).one() == ""


def test_same_person_cannot_approve_twice(engine: Engine) -> None:
    with session(engine) as s:
        _, invoice = _customer_and_invoice(s)
        approval = Approval(
            invoice_id=invoice.id,
            target_state="collection",
            summary="hand over to the collection agency",
            rule="policies/de_b2b.mahn:40",
            required=2,
            requested_on=date(2024, 3, 1),
            amount=Decimal("100.00"),
        )
        s.add(approval)
        s.flush()
        s.add(
            ApprovalDecision(
                approval_id=approval.id, approver="anna", decision="approve", decided_at=NOW
            )
        )
    with pytest.raises(IntegrityError), session(engine) as s:
        s.add(ApprovalDecision(approval_id=1, approver="anna", decision="approve", decided_at=NOW))


def test_one_active_version_per_policy_name(engine: Engine) -> None:
    def version(name: str, number: int, active: bool) -> PolicyVersion:
        return PolicyVersion(
            name=name,
            version=number,
            path=f"policies/{name}.mahn",
            source="policy ...",
            sha256="0" * 64,
            deployed_at=NOW,
            active=active,
        )

    with session(engine) as s:
        s.add_all(
            [version("de_b2c", 1, False), version("de_b2c", 2, True), version("de_b2b", 1, True)]
        )
    with pytest.raises(IntegrityError), session(engine) as s:
        s.add(version("de_b2c", 3, True))


def test_foreign_keys_and_vocabularies_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session(engine) as s:
        s.add(
            Invoice(
                external_id="R9",
                customer_id=999,
                issue_date=date(2024, 1, 1),
                due_date=date(2024, 1, 15),
                amount=Decimal("1"),
            )
        )
    with pytest.raises(IntegrityError), session(engine) as s:
        s.add(Customer(external_id="K9", name="X", type="B2X"))
    with pytest.raises(IntegrityError), session(engine) as s:
        _, invoice = _customer_and_invoice(s)
        s.add(
            Ledger(invoice_id=invoice.id, kind="bonus", amount=Decimal("1"), booked_on=NOW.date())
        )


def test_outbox_idempotency_key_is_unique(engine: Engine) -> None:
    def letter() -> Outbox:
        return Outbox(
            idempotency_key="R1:dunning_1:letter",
            invoice_id=1,
            customer_id=1,
            channel="letter",
            template="mahnung_1",
            language="de",
            not_before=NOW,
            created_at=NOW,
        )

    with session(engine) as s:
        _customer_and_invoice(s)
        s.add(letter())
    with pytest.raises(IntegrityError), session(engine) as s:
        s.add(letter())
    with session(engine) as s:
        assert s.exec(select(Outbox.status)).one() == "queued"


def test_session_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session(engine) as s:
        _customer_and_invoice(s)
        raise RuntimeError("boom")
    with session(engine) as s:
        assert s.exec(select(Customer)).all() == []


def test_due_states_are_found_through_the_composite_index(engine: Engine) -> None:
    indexes = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("dunning_state")}
    assert indexes["ix_dunning_state_next_check"] == ["next_check_on", "invoice_id"]
    assert indexes["ix_dunning_state_state"] == ["state"]
    payment_indexes = {i["name"] for i in inspect(engine).get_indexes("payment")}
    assert "ix_payment_applied" in payment_indexes
    with session(engine) as s:
        _, invoice = _customer_and_invoice(s)
        s.add(
            Payment(
                external_id="P1",
                invoice_id=invoice.id,
                booked_on=date(2024, 2, 1),
                amount=Decimal("10.00"),
            )
        )
        s.add(
            DunningState(
                invoice_id=invoice.id,
                segment="b2c",
                ladder="standard",
                state="reminder",
                entered_on=date(2024, 1, 20),
                next_check_on=date(2024, 2, 3),
            )
        )
    with session(engine) as s:
        due = s.exec(
            select(DunningState.invoice_id).where(DunningState.next_check_on <= date(2024, 2, 3))
        ).all()
        assert due == [1]
        assert s.exec(select(Payment.applied)).one() is False
