"""The portal's pieces on their own, in seconds: links, the rate limiter, an upload's way
into the books and out again with the customer's data export (Art. 15)."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine.comms.config import Portal
from mahnwerk.engine.store.db import init_db, make_engine
from mahnwerk.portal import actions, links
from mahnwerk.portal.guard import Limiter, Refused, issue_form
from mahnwerk.portal.tables import PORTAL_HIT, PORTAL_LINK, PORTAL_VISIT
from mahnwerk.portal.view import load_page

NOW = datetime(2026, 2, 9, 9, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def book(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    init_db(url)
    (tmp_path / "k.csv").write_text(
        "customer_id,name,type,email\nK-1,Erika,B2C,e@example.de\nK-2,John,B2C,j@example.com\n"
    )
    (tmp_path / "r.csv").write_text(
        "invoice_id,customer_id,issue_date,due_date,amount\n"
        "R-1,K-1,2026-01-01,2026-01-15,100.00\nR-9,K-2,2026-01-01,2026-01-15,50.00\n"
    )
    runner = CliRunner()
    for kind, file in (("customers", "k.csv"), ("invoices", "r.csv")):
        done = runner.invoke(app, ["import", kind, str(tmp_path / file), "--db", url])
        assert done.exit_code == 0, done.output
    return url, make_engine(url)


def test_a_link_verifies_until_it_expires_is_revoked_or_altered(book) -> None:
    url, engine = book
    config = Portal(link_days=10)
    made = links.new_link(engine, "K-1", config, NOW, "t")
    with engine.begin() as conn:
        assert links.verify(conn, made.token, config, NOW).verdict == "good"
        late = NOW + timedelta(days=10)
        assert links.verify(conn, made.token, config, late).verdict == "expired"
        flipped = made.token[:-1] + ("A" if made.token[-1] != "A" else "B")
        assert links.verify(conn, flipped, config, NOW).verdict == "unknown"
        # the same id signed under another key (a leaked row, a guessed secret) fails too
        other = Portal(link_days=10, secret="another key")
        assert links.verify(conn, made.token, other, NOW).verdict == "unknown"
    links.revoke(engine, made.id, "anna", NOW)
    with engine.begin() as conn:
        assert links.verify(conn, made.token, config, NOW).verdict == "revoked"


def test_a_customers_link_is_reused_while_half_its_time_is_left(book) -> None:
    _, engine = book
    config = Portal(link_days=60)
    with engine.begin() as conn:
        first = links.link_for(conn, 1, "K-1", config, NOW, "dispatch")
        again = links.link_for(conn, 1, "K-1", config, NOW + timedelta(days=29), "dispatch")
        later = links.link_for(conn, 1, "K-1", config, NOW + timedelta(days=31), "dispatch")
    assert again.token == first.token and later.token != first.token


def test_the_limiter_stops_a_key_after_its_minute_and_forgives_after_it(engine) -> None:
    clock = [600.0]
    limit = Limiter(engine, 3, clock=lambda: clock[0])
    assert [limit.allow("ip:a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("ip:b")  # another address is not affected
    clock[0] = 690.0  # half into the next minute: the last one still counts half (4 -> 2)
    assert limit.allow("ip:a")  # 2 + 1
    assert not limit.allow("ip:a")  # 2 + 2: hammering on keeps the door shut
    clock[0] = 781.0
    assert limit.allow("ip:a")
    with engine.connect() as conn:  # hashed keys, and only the last two minutes are kept
        keys = conn.execute(select(PORTAL_HIT.c.key, PORTAL_HIT.c.minute)).all()
    assert {m for _, m in keys} == {13}
    assert all(len(k) == 64 and "ip:" not in k for k, _ in keys)


def test_two_serve_processes_on_one_database_share_the_rate_limit(engine) -> None:
    """Two portal apps (two `serve` processes) on one database: an address guessing links
    at both is stopped after `requests_per_minute` tries in all, not that many at each."""
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from mahnwerk.engine.comms.config import demo_settings
    from mahnwerk.portal.web import create_portal

    demo = demo_settings()
    settings = replace(demo, portal=replace(demo.portal, requests_per_minute=10))
    minute = [1200.0]  # one wall-clock minute for both, whatever the test's speed
    apps = [
        TestClient(create_portal(engine, lambda: NOW, settings, rate_clock=lambda: minute[0]))
        for _ in range(2)
    ]
    answers = [apps[n % 2].get(f"/guess{n}.xxxxxxxxxxxxxxxxxxxxxx").status_code
               for n in range(14)]  # fmt: skip
    assert answers == [404] * 10 + [429] * 4
    minute[0] += 120  # two minutes later the address is forgiven, at either process
    assert apps[1].get("/guess.xxxxxxxxxxxxxxxxxxxxxx").status_code == 404


def test_an_uploaded_document_is_kept_and_exported_with_the_customers_data(book) -> None:
    url, engine = book
    config = Portal()
    made = links.new_link(engine, "K-1", config, NOW, "t")
    page = load_page(engine, made.customer_id)
    with engine.begin() as conn:
        nonce = issue_form(conn, made.id, NOW)
    with pytest.raises(Refused):  # another customer's invoice, with a good token
        actions.dispute(engine, page, made, nonce, "R-9", "other", "", None, "127.0.0.1",
                        date(2026, 2, 9), NOW, config)  # fmt: skip
    done = actions.dispute(engine, page, made, nonce, "R-1", "defect", "kaputt",
                           actions.Upload("beleg.pdf", "application/pdf", PDF), "127.0.0.1",
                           date(2026, 2, 9), NOW, config)  # fmt: skip
    assert done.invoices == ("R-1",)
    out = CliRunner().invoke(app, ["customer", "export", "K-1", "--db", url])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    uploads = [r for r in json.dumps(data) and data["other"].get("portal_upload", [])]
    assert uploads and base64.b64decode(uploads[0]["data"]) == PDF


def test_erasing_a_customer_deletes_the_files_they_uploaded(book) -> None:
    from sqlalchemy import func, select, update

    from mahnwerk.engine.models import INV
    from mahnwerk.portal.tables import PORTAL_UPLOAD

    url, engine = book
    config = Portal()
    made = links.new_link(engine, "K-1", config, NOW, "t")
    page = load_page(engine, made.customer_id)
    with engine.begin() as conn:
        nonce = issue_form(conn, made.id, NOW)
    actions.dispute(engine, page, made, nonce, "R-1", "defect", "", actions.Upload(
        "beleg.pdf", "application/pdf", PDF), "203.0.113.7", date(2026, 2, 9), NOW,
        config)  # fmt: skip
    other = links.new_link(engine, "K-2", config, NOW, "t")  # another customer's visit stays
    with engine.begin() as conn:
        theirs = issue_form(conn, other.id, NOW)
    actions.feedback(engine, load_page(engine, other.customer_id), other, theirs, "forgot", "",
                     None, "198.51.100.2", date(2026, 2, 9), NOW, config)  # fmt: skip
    with engine.begin() as conn:  # settled since: nothing is pursued any more
        conn.execute(update(INV).where(INV.c.external_id == "R-1").values(closed_on=NOW.date()))
        conn.execute(update(INV).where(INV.c.external_id == "R-1").values(intake_pending=False))
    out = CliRunner().invoke(app, ["customer", "erase", "K-1", "--db", url])
    assert out.exit_code == 0, out.output
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PORTAL_UPLOAD)).scalar() == 0
        visits = dict(
            conn.execute(select(PORTAL_VISIT.c.link_id, PORTAL_VISIT.c.client_address)).all()
        )
        revoked = dict(conn.execute(select(PORTAL_LINK.c.id, PORTAL_LINK.c.revoked_at)).all())
    # the address of the erased customer's action is gone; the visit (when, what) stays
    assert visits == {made.id: None, other.id: "198.51.100.2"}
    assert revoked[made.id] is not None and revoked[other.id] is None
    assert "portal_visit" in out.output  # the erasure reports it


def test_client_addresses_go_when_their_retention_ends_even_when_nobody_acts(book) -> None:
    """E2: `[portal] keep_addresses_days` (90) after an action its address is erased —
    by the serving portal itself (first request, then hourly), not only on the next action."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from mahnwerk.engine.comms.config import demo_settings
    from mahnwerk.portal.web import create_portal

    url, engine = book
    config = Portal()
    made = links.new_link(engine, "K-1", config, NOW, "t")
    with engine.begin() as conn:
        nonce = issue_form(conn, made.id, NOW)
    actions.feedback(engine, load_page(engine, made.customer_id), made, nonce, "forgot", "",
                     None, "203.0.113.7", date(2026, 2, 9), NOW, config)  # fmt: skip

    def address() -> str | None:
        with engine.connect() as conn:
            return conn.execute(select(PORTAL_VISIT.c.client_address)).scalar_one()

    today = [NOW + timedelta(days=89)]
    client = TestClient(create_portal(engine, lambda: today[0], demo_settings()))
    client.get(made.token)
    assert address() == "203.0.113.7"  # within its 90 days
    today[0] = NOW + timedelta(days=90, hours=2)
    client.get(made.token)  # a look at the page (no action) is enough
    assert address() is None


def test_skonto_still_applying_is_shown_with_what_to_pay(book, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from mahnwerk.engine.comms.config import demo_settings
    from mahnwerk.portal.web import create_portal

    url, engine = book
    (tmp_path / "s.csv").write_text(
        "Rechnungsnummer;Kundennummer;Rechnungsdatum;Fälligkeit;Betrag;"
        "Skonto 1 Tage;Skonto 1 Prozent\nR-5;K-1;01.02.2026;03.03.2026;1.000,00;14;2,00\n",
        encoding="utf-8",
    )
    done = CliRunner().invoke(app, ["import", "invoices", str(tmp_path / "s.csv"), "--db", url])
    assert done.exit_code == 0, done.output
    made = links.new_link(engine, "K-1", Portal(), NOW, "t")
    on_time = load_page(engine, made.customer_id, date(2026, 2, 9)).invoice("R-5")
    assert [(t.last_day, t.pay) for t in on_time.terms] == [(date(2026, 2, 15), 980)]
    assert load_page(engine, made.customer_id, date(2026, 2, 16)).invoice("R-5").terms == ()
    client = TestClient(create_portal(engine, lambda: NOW, demo_settings()))
    page = client.get(f"/{made.token}").text
    said = re.sub(r"\s+", " ", page)  # babel puts a no-break space before the €
    assert "Skonto: Bei Zahlung bis zum 15.02.2026 zahlen Sie nur 980,00 € (2 % weniger)" in said
