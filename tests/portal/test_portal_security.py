"""The portal against what a stranger, a replay or a careless click would do.

Against a real `mahnwerk serve` (portal_book): an expired, a tampered and a revoked
link; another customer's invoice number in a form; a form sent twice, a form token of
another link, none at all; oversized, mistyped and infected uploads; HTML and script in
every field a customer can type; and the rate limit per address.  Every refusal must
change nothing in the database.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest
from portal_book import RATE, World
from sqlalchemy import func, select

from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.models import CUST, EVENT, INBOX, INV
from mahnwerk.engine.store.db import make_engine
from mahnwerk.portal import links

SCRIPT = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def k2_link(world: World) -> str:
    return world.link_from_mail("john@example.com")


def nonce(page: str) -> str:
    return NONCE.search(page).group(1)


def inbox_count(world: World, invoice: str) -> int:
    engine = make_engine(world.db)
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(INBOX.join(INV, INV.c.id == INBOX.c.invoice_id))
            .where(INV.c.external_id == invoice)
        ).scalar()  # fmt: skip


def events(world: World, kind: str) -> list:
    engine = make_engine(world.db)
    with engine.connect() as conn:
        return conn.execute(select(EVENT).where(EVENT.c.kind == kind)).all()


def test_the_link_in_the_email_opens_only_that_customers_page(world: World) -> None:
    page = httpx.get(k2_link(world))
    assert page.status_code == 200
    assert "John Smith" in page.text and "R-9" in page.text
    assert "R-1" not in page.text and "Erika" not in page.text
    assert '<html lang="en">' in page.text  # the customer's language
    # the itemised claim: fee with its reason, interest with rate and period
    assert "Reminder fee" in page.text and "p.a. on €150.00 from" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert not re.search(r'(src|href)="(https?:)?//', page.text)  # nothing from elsewhere


def test_a_letter_pdf_opens_for_its_customer_and_for_nobody_else(world: World) -> None:
    mine = httpx.get(k2_link(world)).text
    ids = re.findall(r"/letters/(\d+)", mine)
    assert ids, "K-2's letters are listed with their PDF"
    pdf = httpx.get(k2_link(world) + f"/letters/{ids[0]}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    theirs = re.findall(r"/letters/(\d+)", httpx.get(world.link_from_mail("erika@example.de")).text)
    stolen = httpx.get(k2_link(world) + f"/letters/{theirs[0]}")
    assert stolen.status_code == 404 and "%PDF" not in stolen.text


@pytest.mark.parametrize("change", ["signature", "id", "truncated", "customer"])
def test_a_tampered_link_opens_nothing(world: World, change: str) -> None:
    good = k2_link(world)
    base, token = good.rsplit("/", 1)
    link_id, sig = token.split(".")
    other = world.link_from_mail("erika@example.de").rsplit("/", 1)[1]
    bad = {
        "signature": f"{link_id}.{sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}",
        "id": f"{link_id[:-1]}{'x' if link_id[-1] != 'x' else 'y'}.{sig}",
        "truncated": f"{link_id}.{sig[:10]}",
        "customer": f"{other.split('.')[0]}.{sig}",  # K-1's id with K-2's signature
    }[change]
    page = httpx.get(f"{base}/{bad}?lang=en")
    assert page.status_code == 404
    assert "This link is not valid" in page.text or "Dieser Link ist ungültig" in page.text
    assert "John Smith" not in page.text and "R-9" not in page.text


def test_an_expired_link_says_so_and_shows_nothing(world: World) -> None:
    engine = make_engine(world.db)
    config = load_settings(world.config).portal
    with engine.begin() as conn:
        cid = conn.execute(select(CUST.c.id).where(CUST.c.external_id == "K-2")).scalar()
        # made 61 days before the server's day (9 Feb 2026): expired on 8 Feb
        old = links.create(conn, cid, "K-2", config, datetime(2025, 12, 10, 9, tzinfo=UTC), "t")
    page = httpx.get(old.url(world.url))
    assert page.status_code == 410
    assert "abgelaufen" in page.text and "R-9" not in page.text


def test_a_revoked_link_is_refused(world: World) -> None:
    engine = make_engine(world.db)
    config = load_settings(world.config).portal
    with engine.begin() as conn:
        cid = conn.execute(select(CUST.c.id).where(CUST.c.external_id == "K-2")).scalar()
        made = links.create(conn, cid, "K-2", config, datetime(2026, 2, 8, tzinfo=UTC), "t")
    assert httpx.get(made.url(world.url)).status_code == 200
    said = world.cli("portal", "revoke", made.id, "--db", world.db)  # as the login
    assert f"link {made.id} revoked" in said.output
    page = httpx.get(made.url(world.url))
    assert page.status_code == 410 and "gesperrt" in page.text and "R-9" not in page.text


def test_another_customers_invoice_in_a_form_changes_nothing(world: World) -> None:
    link = k2_link(world)
    assert httpx.get(link + "/dispute?invoice=R-1").status_code == 404
    token = nonce(httpx.get(link + "/dispute?invoice=R-9").text)
    before = inbox_count(world, "R-1")
    for action, extra in (("dispute", {"reason": "other"}), ("promise", {"until": "2026-02-20"}),
                          ("plan", {"count": "2"})):  # fmt: skip
        answer = httpx.post(link + f"/{action}", data={"nonce": token, "invoice": "R-1", **extra})
        assert answer.status_code == 404, action
        assert "not find this invoice" in answer.text or "nicht" in answer.text
    assert inbox_count(world, "R-1") == before


def test_a_form_sent_twice_is_recorded_once(world: World) -> None:
    link = k2_link(world)
    token = nonce(httpx.get(link + "/feedback").text)
    form = {"nonce": token, "reason": "cash_flow", "text": "Gehalt kommt am 15."}
    before = len(events(world, "customer_feedback"))
    first = httpx.post(link + "/feedback", data=form)
    again = httpx.post(link + "/feedback", data=form)
    assert first.status_code == 200 and "Thank you" in first.text
    assert again.status_code == 422 and "already sent" in again.text
    assert len(events(world, "customer_feedback")) == before + 1


def test_a_form_token_of_another_link_or_none_is_refused(world: World) -> None:
    theirs = nonce(httpx.get(world.link_from_mail("erika@example.de") + "/feedback").text)
    before = len(events(world, "customer_feedback"))
    for token in (theirs, "", "x" * 65):
        answer = httpx.post(k2_link(world) + "/feedback", data={"nonce": token, "reason": "forgot"})
        assert answer.status_code == 422
    assert len(events(world, "customer_feedback")) == before


@pytest.mark.parametrize(
    ("name", "data", "status", "said"),
    [
        ("big.pdf", b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024), 422, "too large"),
        ("invoice.pdf", b"MZ\x90\x00 this is a program", 422, "Only PDF, JPEG or PNG"),
        ("note.png", b"<html><script>alert(1)</script></html>", 422, "Only PDF, JPEG or PNG"),
        ("eicar.pdf", b"%PDF-1.4\n" + EICAR, 422, "rejected"),
    ],
)  # fmt: skip
def test_uploads_are_limited_by_size_type_and_scanner(
    world: World, name, data, status, said
) -> None:
    link = k2_link(world)
    token = nonce(httpx.get(link + "/dispute?invoice=R-9&lang=en").text)
    before = inbox_count(world, "R-9")
    answer = httpx.post(
        link + "/dispute?lang=en",
        data={"nonce": token, "invoice": "R-9", "reason": "defect", "lang": "en"},
        files={"file": (name, data, "application/pdf")},
        timeout=60,
    )
    assert answer.status_code == status and said in answer.text
    assert inbox_count(world, "R-9") == before


def test_html_and_script_in_every_field_stay_text(world: World) -> None:
    link = k2_link(world)
    tries = {
        "feedback": {"reason": "other", "text": SCRIPT, "invoice": SCRIPT},
        "contact": {"email": SCRIPT, "phone": SCRIPT, "opt_out": SCRIPT},
        "promise": {"invoice": "R-9", "until": SCRIPT},
        "plan": {"invoice": "R-9", "count": SCRIPT},
        "dispute": {"invoice": "R-9", "reason": SCRIPT, "text": SCRIPT},
    }
    for action, fields in tries.items():
        form_page = httpx.get(link + f"/{action}?invoice=R-9")
        answer = httpx.post(link + f"/{action}", data={"nonce": nonce(form_page.text), **fields})
        assert "<script>alert(1)</script>" not in answer.text, action
        assert "onerror=alert" not in answer.text.replace("onerror=alert(2)&gt;", ""), action
        assert answer.status_code in (404, 422), (action, answer.status_code)
    # accepted free text is stored as the customer typed it (and escaped where shown)
    token = nonce(httpx.get(link + "/feedback").text)
    ok = httpx.post(link + "/feedback", data={"nonce": token, "reason": "other", "text": SCRIPT})
    assert ok.status_code == 200 and "<script>" not in ok.text
    stored = [json.loads(e.payload)["text"] for e in events(world, "customer_feedback")]
    assert SCRIPT in stored


def test_guessing_links_is_stopped_per_address(world: World) -> None:
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, base_url=world.url) as stranger:
        answers = [stranger.get(f"/p/guess{n}.xxxxxxxxxxxxxxxxxxxxxx").status_code
                   for n in range(RATE + 5)]  # fmt: skip
        assert answers[0] == 404 and answers[-1] == 429
        # the right link from that address is stopped too, within the minute
        assert stranger.get(k2_link(world).replace(world.url, "")).status_code == 429
    assert httpx.get(k2_link(world)).status_code == 200  # other addresses go on
