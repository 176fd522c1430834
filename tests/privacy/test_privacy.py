"""E2: a customer's data can be exported (Art. 15) and erased within retention (Art. 17).

The customer is built the way a firm builds one: CSV exports through the real
importer, daily runs of the real engine, a person rejecting an escalation and
writing a claim off.  SQLite, and PostgreSQL when configured.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from mahnwerk.engine import approvals
from mahnwerk.engine import models as m
from mahnwerk.engine.importer import import_file
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.privacy import (
    CustomerNotFound,
    ErasureRefused,
    erase_customer,
    export_customer,
    privacy_status,
    retention_end,
)
from mahnwerk.engine.runner import run
from mahnwerk.engine.store import invoices as queries
from mahnwerk.engine.store.db import session

POLICY = Path(__file__).parents[1] / "engine" / "data" / "runner_policy.mahn"
DATA = Path(__file__).with_name("data")
"""customers.csv: K1 (a consumer with every personal field) and K2; invoices.csv: R1, R2 of K1
and R9 of K2; payments.csv: R1 paid on 2016-05-03 with K1's name and street in the reference."""
START = date(2016, 4, 1)
LAST_PAYMENT = date(2016, 5, 3)


PERSONAL = (
    "Schmidt",
    "Anna",
    "anna.schmidt@example.de",
    "+49 30 1234567",
    "Lindenstraße",
    "10115",
    "slow payer",
)
"""Values of K1 that must be gone after anonymisation (the city also names the default zone
"Europe/Berlin", so it is checked as a field)."""


def at(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), UTC)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@pytest.fixture
def dunned(engine):
    """K1 paid R1; R2 was escalated, the escalation rejected, then written off.

    The rejection comment and the write-off note are people's free text that
    repeats the customer's e-mail address: the case the append-only log cannot
    forget.  K2 still owes R9 (for the refusal).
    """
    deploy(engine, POLICY, at(START))
    policies = PolicySet.load(engine)
    for kind in ("customers", "invoices", "payments"):
        # the payment of 3 May is announced on 1 April: held until its date (issue 12)
        import_file(engine, kind, DATA / f"{kind}.csv", now=at(START), allow_future=True)
    end = date(2016, 6, 1)
    for day in days(START, end):
        run(engine, day, policies, at(day))
    (item,) = [a for a in approvals.pending(engine) if a.invoice == "R2"]
    approvals.decide(
        engine,
        item.id,
        "anna.b",
        False,
        at(end),
        end,
        "Kundin schreibt von anna.schmidt@example.de",
    )
    queries.record_event(
        engine, "R2", "write_off", LAST_PAYMENT, "ben", at(end), {"note": "uneinbringlich"}
    )
    run(engine, end + timedelta(days=1), policies, at(end + timedelta(days=1)))
    states = {r["invoice"]: r["state"] for r in queries.list_invoices(engine)}
    assert states["R1"] == "paid" and states["R2"] == "written_off", states
    return engine


def count(engine, table, **where) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        for key, value in where.items():
            query = query.where(table.c[key] == value)
        return conn.execute(query).scalar_one()


def rows_of_k1(engine) -> dict[str, int]:
    """What the database holds about K1, counted straight from the tables."""
    with engine.connect() as conn:
        cid = conn.execute(select(m.CUST.c.id).where(m.CUST.c.external_id == "K1")).scalar_one()
        inv = [r.id for r in conn.execute(select(m.INV.c.id).where(m.INV.c.customer_id == cid))]

        def n(table) -> int:
            return conn.execute(
                select(func.count())
                .select_from(table)
                .where((table.c.invoice_id.in_(inv)) | (table.c.customer_id == cid))
            ).scalar_one()

        return {
            "invoices": len(inv),
            "ledger": conn.execute(
                select(func.count()).select_from(m.LEDGER).where(m.LEDGER.c.invoice_id.in_(inv))
            ).scalar_one(),
            "payments": n(m.PAY),
            "events": n(m.EVENT),
            "outbox": n(m.OUTBOX),
        }


def test_the_export_holds_every_row_about_the_customer(dunned):
    data = json.loads(json.dumps(export_customer(dunned, "K1")))  # JSON-serialisable as is
    expected = rows_of_k1(dunned)
    assert {k: len(data[k]) for k in expected} == expected
    assert data["customer"]["email"] == "anna.schmidt@example.de"
    assert data["customer"]["vulnerable"] is True
    assert {i["external_id"]: i["dunning_state"]["state"] for i in data["invoices"]} == {
        "R1": "paid",
        "R2": "written_off",
    }
    assert all(i["external_id"] != "R9" for i in data["invoices"])  # K2's invoice is not K1's
    # every decision with its rule and reason (E3), money as strings, dates ISO
    moves = [e for e in data["events"] if e["kind"] == "transition"]
    assert moves and all(e["rule"] and e["message"] for e in moves)
    principal = [x for x in data["ledger"] if x["kind"] == "principal"]
    assert sorted(x["amount"] for x in principal) == ["100.00", "300.00"]
    assert data["payments"][0]["booked_on"] == "2016-05-03"
    (approval,) = data["approvals"]
    assert approval["invoice"] == "R2" and approval["status"] == "rejected"
    assert [d["decision"] for d in data["approval_decisions"]] == ["reject"]
    assert data["inbox"][0]["payload"] == {"note": "uneinbringlich"}
    assert data["privacy"] == {
        "status": "active",
        "since": None,
        "by": None,
        "last_booking": "2016-05-03",  # the payment on R1 and the write-off of R2
        "retention_until": "2026-12-31",
        "erasure_from": "2027-01-01",
    }


def test_an_unknown_customer_is_a_clear_error(dunned):
    with pytest.raises(CustomerNotFound, match="no customer 'K404'"):
        export_customer(dunned, "K404")
    with pytest.raises(CustomerNotFound):
        erase_customer(dunned, "K404", date(2027, 1, 1), "dpo")


def test_retention_ends_ten_years_after_the_year_of_the_last_booking():
    assert retention_end(date(2016, 5, 3)) == date(2026, 12, 31)
    assert retention_end(date(2016, 12, 31)) == date(2026, 12, 31)
    assert retention_end(date(2017, 1, 1)) == date(2027, 12, 31)


def test_before_retention_ends_contact_data_is_erased_and_booking_data_kept(dunned):
    before = export_customer(dunned, "K1")
    result = erase_customer(dunned, "K1", date(2026, 12, 31), "dpo", now=at(date(2026, 12, 31)))
    assert result.mode == "restricted" and result.retention_until == date(2026, 12, 31)
    assert set(result.erased_fields) == {"email", "phone", "tags", "vulnerable", "opted_out"}
    after = export_customer(dunned, "K1")
    cust = after["customer"]
    assert (cust["email"], cust["phone"], cust["tags"], cust["vulnerable"], cust["opted_out"]) == (
        None,
        None,
        "",
        False,
        "",
    )
    # name and address are on the invoices: part of the booking record (§ 14 UStG, § 147 AO)
    assert (cust["name"], cust["street"], cust["city"]) == (
        "Schmidt, Anna",
        "Lindenstraße 5",
        "Berlin",
    )
    assert after["ledger"] == before["ledger"] and after["invoices"] == before["invoices"]
    assert after["payments"][0]["reference"] == "R1 Anna Schmidt Lindenstraße 5"
    assert after["privacy"]["status"] == "restricted"
    # the rejection comment (mutable) is scrubbed; the log keeps its copy and says so
    assert "anna.schmidt@example.de" not in json.dumps(after["approval_decisions"])
    assert result.events_with_erased_data
    flagged = [e for e in after["events"] if e["id"] in result.events_with_erased_data]
    assert all(e["kind"] == "approval_rejected" for e in flagged)


def test_every_erasure_is_recorded_without_the_erased_data(dunned):
    result = erase_customer(dunned, "K1", date(2026, 6, 1), "Dana DPO", now=at(date(2026, 6, 1)))
    with dunned.connect() as conn:
        audit = conn.execute(select(m.EVENT).where(m.EVENT.c.id == result.event_id)).one()
    assert (audit.kind, audit.actor, audit.occurred_on) == (
        "customer_restricted",
        "Dana DPO",
        date(2026, 6, 1),
    )
    assert "email" in audit.message and "2026-12-31" in audit.message
    for value in PERSONAL:
        assert value not in audit.message and value not in audit.payload
    # asking again changes nothing and records nothing
    events = count(dunned, m.EVENT)
    again = erase_customer(dunned, "K1", date(2026, 6, 2), "Dana DPO", now=at(date(2026, 6, 2)))
    assert not again.changed and count(dunned, m.EVENT) == events


def test_after_retention_the_customer_is_anonymised(dunned):
    erase_customer(dunned, "K1", date(2026, 6, 1), "dpo", now=at(date(2026, 6, 1)))
    result = erase_customer(dunned, "K1", date(2027, 1, 1), "dpo", now=at(date(2027, 1, 1)))
    assert result.mode == "anonymised"
    data = export_customer(dunned, "K1")
    assert data["customer"]["name"].startswith("anonymised ")
    assert [data["customer"][f] for f in ("street", "postal_code", "city", "region")] == [None] * 4
    assert data["privacy"]["status"] == "anonymised"
    assert data["payments"][0]["reference"] is None
    # amounts stay, so the books and statistics still add up
    assert sorted(x["amount"] for x in data["ledger"] if x["kind"] == "principal") == [
        "100.00",
        "300.00",
    ]
    # nothing personal left outside the append-only log, whose flagged rows are reported
    flagged = set(result.events_with_erased_data)
    text = json.dumps(
        {k: v for k, v in data.items() if k != "events"}
        | {"events": [e for e in data["events"] if e["id"] not in flagged]},
        ensure_ascii=False,
    )
    for value in PERSONAL:
        assert value not in text, value
    # K2 is untouched
    assert export_customer(dunned, "K2")["customer"]["email"] == "ap@nordlicht.example"


def test_erasure_is_refused_while_a_claim_is_open_and_changes_nothing(dunned):
    before = export_customer(dunned, "K2")
    events = count(dunned, m.EVENT)
    with pytest.raises(ErasureRefused, match=r"R9 \(\w+\).*Art. 17\(3\)\(e\)"):
        erase_customer(dunned, "K2", date(2040, 1, 1), "dpo")
    assert export_customer(dunned, "K2") == before
    assert count(dunned, m.EVENT) == events


def test_a_failed_erasure_changes_nothing(dunned):
    """The audit event is written last; when the database refuses it, the erasure is undone."""
    before = export_customer(dunned, "K1")
    events = count(dunned, m.EVENT)
    with dunned.begin() as conn:  # a log that refuses audit entries, like a full disk would
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON event "
                "WHEN NEW.kind = 'customer_anonymised' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'disk full'; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON event FOR EACH ROW "
                "WHEN (NEW.kind = 'customer_anonymised') EXECUTE FUNCTION refuse_audit()"
            )
    with pytest.raises(DBAPIError, match="disk full"):
        erase_customer(dunned, "K1", date(2027, 1, 1), "dpo")
    assert export_customer(dunned, "K1") == before
    assert count(dunned, m.EVENT) == events


def test_erasure_inside_a_session_belongs_to_the_callers_transaction(dunned):
    with pytest.raises(RuntimeError):
        with session(dunned) as s:
            erase_customer(s, "K1", date(2027, 1, 1), "dpo")
            assert privacy_status(s, "K1")["status"] == "anonymised"
            raise RuntimeError("the caller changes its mind")
    assert privacy_status(dunned, "K1")["status"] == "active"
    with session(dunned) as s:
        erase_customer(s, "K1", date(2027, 1, 1), "dpo")
    assert privacy_status(dunned, "K1")["status"] == "anonymised"


def test_the_event_log_stays_append_only(dunned):
    result = erase_customer(dunned, "K1", date(2027, 1, 1), "dpo")
    with pytest.raises(DBAPIError, match="append-only"):
        with dunned.begin() as conn:
            conn.execute(update(m.EVENT).where(m.EVENT.c.id == result.event_id).values(message=""))


def test_a_future_as_of_date_is_refused(dunned):
    with pytest.raises(ErasureRefused, match="future"):
        erase_customer(dunned, "K1", date(2030, 1, 1), "dpo", now=at(date(2026, 11, 23)))
    with pytest.raises(ErasureRefused, match="--by"):
        erase_customer(dunned, "K1", date(2026, 11, 23), " ")


def test_learnt_bank_accounts_are_exported_and_go_on_erasure(dunned):
    """An IBAN learnt for matching payments is no booking record: exported, then deleted."""
    table = m.BankAccount
    with dunned.begin() as conn:
        cid = conn.execute(select(m.CUST.c.id).where(m.CUST.c.external_id == "K1")).scalar_one()
        conn.execute(
            table.__table__.insert().values(
                iban="DE89370400440532013000",
                customer_id=cid,
                learned_from="Z1",
                created_at=at(LAST_PAYMENT),
            )
        )
    assert export_customer(dunned, "K1")["other"]["bank_account"][0]["iban"] == (
        "DE89370400440532013000"
    )
    result = erase_customer(dunned, "K1", date(2026, 6, 1), "dpo")
    assert result.rows_scrubbed["bank_account"] == 1
    assert export_customer(dunned, "K1")["other"]["bank_account"] == []
