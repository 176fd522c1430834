"""What a customer does on the page becomes the engine's own event, confirmed by e-mail.

Customer K-2 (English) on the real server of portal_book: promises (D6: at most two),
asks for instalments where the policy offered none (a task for an operator, never a
plan), tells us why, and changes contact details and opt-outs (D7).
"""

from __future__ import annotations

import json
import re

import httpx
from portal_book import World
from sqlalchemy import select

from mahnwerk.engine.models import CUST, EVENT, INBOX, INV
from mahnwerk.engine.store.db import make_engine
from mahnwerk.engine.worklist import today
from mahnwerk.portal.tables import PORTAL_VISIT

NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def post(link: str, action: str, query: str = "", **fields: str) -> httpx.Response:
    token = NONCE.search(httpx.get(f"{link}/{action}?{query}").text).group(1)
    return httpx.post(f"{link}/{action}", data={"nonce": token, **fields})


def inbox(world: World, invoice: str, kind: str) -> list:
    with make_engine(world.db).connect() as conn:
        return conn.execute(
            select(INBOX).join(INV, INV.c.id == INBOX.c.invoice_id)
            .where(INV.c.external_id == invoice, INBOX.c.kind == kind)
        ).all()  # fmt: skip


def test_two_promises_are_recorded_and_a_third_is_refused(world: World) -> None:
    link = world.link_from_mail("john@example.com")
    with make_engine(world.db).connect() as conn:  # another test may change the address
        address = conn.execute(select(CUST.c.email).where(CUST.c.external_id == "K-2")).scalar()
    mails_before = len(world.box.to(address))
    first = post(link, "promise", "invoice=R-9", invoice="R-9", until="2026-02-20")
    assert (
        first.status_code == 200 and "promise to pay invoice R-9 by 20 February 2026" in first.text
    )
    assert "sent you a confirmation" in first.text
    mail = world.box.to(address)[-1]
    assert len(world.box.to(address)) == mails_before + 1
    assert "by 20 February 2026" in mail.get_body(preferencelist=("plain",)).get_content()
    second = post(link, "promise", "invoice=R-9", invoice="R-9", until="2026-03-01")
    assert second.status_code == 200
    page = httpx.get(link).text
    assert "/promise?" not in page  # no third offer on the page
    token = NONCE.search(httpx.get(f"{link}/feedback").text).group(1)
    third = httpx.post(
        f"{link}/promise", data={"nonce": token, "invoice": "R-9", "until": "2026-03-05"}
    )
    assert third.status_code == 422 and "No further promises" in third.text
    rows = inbox(world, "R-9", "promise_made")
    assert [json.loads(r.payload)["promised_date"] for r in rows] == ["2026-02-20", "2026-03-01"]
    assert {r.actor for r in rows} == {"portal"}
    payload = json.loads(rows[0].payload)
    with make_engine(world.db).connect() as conn:
        visit = conn.execute(
            select(PORTAL_VISIT).where(PORTAL_VISIT.c.id == payload["visit_id"])
        ).one()
    assert visit.link_id == payload["link_id"] == link.rsplit("/", 1)[1].split(".")[0]
    assert visit.client_address == "127.0.0.1" and visit.action == "promise"


def test_a_promise_beyond_the_limit_or_in_the_past_is_refused(world: World) -> None:
    link = world.link_from_mail("john@example.com")
    before = len(inbox(world, "R-9", "promise_made"))
    for day in ("2026-02-09", "2026-03-20", "morgen"):  # today, beyond 30 days, no date
        answer = post(link, "promise", "invoice=R-9", invoice="R-9", until=day)
        assert answer.status_code == 422, day
    assert len(inbox(world, "R-9", "promise_made")) == before


def test_instalments_where_none_were_offered_become_an_operators_task(world: World) -> None:
    link = world.link_from_mail("john@example.com")
    page = httpx.get(f"{link}/plan?invoice=R-9").text
    assert "We offer no instalments for this invoice" in page  # 152 EUR: the offer needs > 200
    answer = post(link, "plan", "invoice=R-9", invoice="R-9", count="4")
    assert answer.status_code == 200 and "request for 4 instalments" in answer.text
    assert inbox(world, "R-9", "plan_agreed") == []
    engine = make_engine(world.db)
    from datetime import date

    items = today(engine, date(2026, 2, 9)).items
    tasks = [i for i in items if i.kind == "task" and i.invoice == "R-9"]
    assert tasks and "4 instalments" in tasks[0].what


def test_feedback_and_contact_details_reach_the_books(world: World) -> None:
    link = world.link_from_mail("john@example.com")
    answer = post(link, "feedback", reason="unclear", text="Which delivery is this?")
    assert answer.status_code == 200
    answer = post(link, "contact", email="john.smith@example.org", phone="+49 30 987654",
                  opt_out="sms")  # fmt: skip
    assert answer.status_code == 200 and "contact details are saved" in answer.text
    engine = make_engine(world.db)
    with engine.connect() as conn:
        c = conn.execute(select(CUST).where(CUST.c.external_id == "K-2")).one()
        kinds_asked = EVENT.c.kind.in_(("customer_feedback", "contact_changed"))
        logged = conn.execute(
            select(EVENT).where(kinds_asked, EVENT.c.customer_id == c.id).order_by(EVENT.c.id)
        ).all()
    assert (c.email, c.phone, c.opted_out) == ("john.smith@example.org", "+49 30 987654", "sms")
    kinds = {e.kind: json.loads(e.payload) for e in logged}
    said = [json.loads(e.payload) for e in logged if e.kind == "customer_feedback"]
    assert {"reason": "unclear", "text": "Which delivery is this?"}.items() <= said[-1].items()
    assert kinds["contact_changed"]["fields"] == ["email", "phone", "opted_out"]
    assert "john.smith" not in json.dumps(kinds["contact_changed"])  # the log names fields only
    assert {e.actor for e in logged} == {"portal"}


def test_the_reasons_customers_give_are_reported_per_month_and_segment(world: World) -> None:
    link = world.link_from_mail("john@example.com")
    assert post(link, "feedback", reason="not_received", text="").status_code == 200
    shown = world.cli(
        "report", "feedback", "--as-of", "2026-02-28", "--format", "json", "--db", world.db
    ).output
    rows = json.loads(shown)["rows"]
    mine = [r for r in rows if r["reason"] == "not_received" and r["segment"] == "good_payers"]
    assert {r["month"] for r in mine} == {"2026-02", "all"}
    assert all(r["answers"] >= 1 for r in mine)
