"""An ERP's day against a real `mahnwerk serve`: push data, run, decide, receive webhooks.

Every request goes over HTTP to the server process on a localhost port; the webhook
receiver is a separate HTTP server that checks each signature as a receiver would.
"""

from __future__ import annotations

import uuid

from service_harness import POLICY, Receiver, Server, token, wait_run
from sqlalchemy import func, select

from mahnwerk.engine.models import EVENT, INV
from mahnwerk.engine.store.db import make_engine

CUSTOMERS = [
    {"customer_id": "K-1", "name": "Muster GmbH", "type": "B2B", "email": "ap@muster.de",
     "city": "Berlin", "postal_code": "10115"},
    {"customer_id": "K-2", "name": "Beispiel AG", "type": "B2B", "tags": ["key"]},
]  # fmt: skip
INVOICES = [
    {"invoice_id": "R-100", "customer_id": "K-1", "issue_date": "2026-01-01",
     "due_date": "2026-01-15", "amount": "4800.00"},
    {"invoice_id": "R-101", "customer_id": "K-2", "issue_date": "2026-01-01",
     "due_date": "2026-01-15", "amount": "119.00"},
    {"invoice_id": "R-102", "customer_id": "K-2", "issue_date": "2026-01-02",
     "due_date": "2026-01-16", "amount": "50.00"},
]  # fmt: skip


def _count(db_url: str, table, *where) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    finally:
        engine.dispose()


def test_an_erps_day(store: str, server: Server, admin: str, receiver: Receiver) -> None:
    erp, anna, ben = (
        token(store, "operator", "erp"),
        token(store, "approver", "anna"),
        token(store, "approver", "ben"),
    )
    with server.client(admin) as root:
        hook = root.post("/webhooks", json={"url": receiver.start(), "event_types": ["*"]})
        assert hook.status_code == 201, hook.text
        receiver.secret = hook.json()["secret"]
        deployed = root.post("/policies", json={"filename": "b2b.mahn", "source": POLICY})
        assert deployed.status_code == 201, deployed.text
        assert "deployed" in deployed.json()["detail"]

    with server.client(erp) as client:
        assert client.post("/customers", json={"items": CUSTOMERS}).json() == {
            "inserted": 2, "updated": 0, "unchanged": 0,
        }  # fmt: skip
        # the customer master changes in the ERP: upsert by customer number
        changed = {**CUSTOMERS[0], "city": "Potsdam", "postal_code": "14467"}
        put = client.put("/customers/K-1", json=changed)
        assert put.status_code == 200 and put.json()["city"] == "Potsdam"
        answer = client.post(
            "/invoices", json={"items": INVOICES}, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert answer.json() == {"inserted": 3, "updated": 0, "unchanged": 0}
        one = client.get("/invoices/R-100").json()
        assert (one["amount"], one["balance"], one["state"]) == ("4800.00", "4800.00", "new")
        paid = client.post("/payments", json={"items": [
            {"payment_id": "P-1", "date": "2026-01-20", "amount": "50.00", "invoice_id": "R-102"},
        ]})  # fmt: skip
        assert paid.json()["inserted"] == 1
        for day in ("2026-01-22", "2026-02-12"):
            assert client.post("/runs", json={"as_of": day}).status_code == 202
            wait_run(client, day)
        assert client.get("/invoices/R-102").json()["state"] == "paid"

    with server.client(anna) as client:
        waiting = {a["invoice"]: a for a in client.get("/approvals").json()}
        big = waiting["R-100"]
        assert (big["target_state"], big["required"]) == ("gericht", 2)
        first = client.post(f"/approvals/{big['id']}/decision", json={"decision": "approve"})
        assert first.status_code == 200 and "anna approved (1 of 2)" in first.json()["detail"]
        twice = client.post(f"/approvals/{big['id']}/decision", json={"decision": "approve"})
        assert twice.status_code == 409
        assert twice.headers["content-type"] == "application/problem+json"
        assert "different person" in twice.json()["detail"]
    with server.client(ben) as client:
        done = client.post(
            f"/approvals/{big['id']}/decision", json={"decision": "approve", "comment": "ok"}
        )
        assert done.status_code == 200 and "approved; the next run" in done.json()["detail"]
        story = client.get("/invoices/R-100/timeline").json()
        given = [e["actor"] for e in story["events"] if e["kind"] == "approval_given"]
        assert given == ["anna", "ben"]
        assert [e["to"] for e in story["events"] if e["kind"] == "transition"][-1] == ("erinnerung")

    receiver.wait_for(
        lambda ms: {"invoice.state_changed", "approval.requested", "approval.decided",
                    "payment.applied", "invoice.paid"} <= {m["type"] for m in ms}
        and [m["type"] for m in ms].count("approval.decided") == 2
    )  # fmt: skip
    assert receiver.bad_signatures == 0
    decided = [m for m in receiver.messages.values() if m["type"] == "approval.decided"]
    assert sorted(m["data"]["actor"] for m in decided) == ["anna", "ben"]
    assert all(m["data"]["invoice_id"] == "R-100" for m in decided)
    paid_hook = next(m for m in receiver.messages.values() if m["type"] == "invoice.paid")
    assert paid_hook["data"]["invoice_id"] == "R-102" and paid_hook["data"]["to"] == "paid"
    with server.client(admin) as root:
        log = root.get("/webhooks/deliveries").json()["items"]
        assert log and all(d["status"] == "delivered" for d in log)
        assert all(d["log"][0]["status_code"] == 204 for d in log)


def test_the_same_post_twice_with_one_key_writes_once(store: str, server: Server) -> None:
    erp = token(store, "operator", "erp")
    key = {"Idempotency-Key": "batch-2026-01-05-001"}
    with server.client(erp) as client:
        assert client.post("/customers", json={"items": CUSTOMERS}).status_code == 200
        first = client.post("/invoices", json={"items": INVOICES[:1]}, headers=key)
        imports = _count(store, EVENT, EVENT.c.kind == "import")
        again = client.post("/invoices", json={"items": INVOICES[:1]}, headers=key)
        assert again.status_code == first.status_code == 200
        assert again.json() == first.json() == {"inserted": 1, "updated": 0, "unchanged": 0}
        assert again.headers["idempotent-replayed"] == "true"
        assert _count(store, EVENT, EVENT.c.kind == "import") == imports
        assert _count(store, INV) == 1
        other = client.post("/invoices", json={"items": INVOICES[1:2]}, headers=key)
        assert other.status_code == 422 and "different request" in other.json()["detail"]
        assert _count(store, INV) == 1


def test_a_token_without_the_role_is_refused_and_nothing_changes(
    store: str, server: Server
) -> None:
    viewer, erp = token(store, "viewer", "controlling"), token(store, "operator", "erp")
    with server.client(erp) as client:
        client.post("/customers", json={"items": CUSTOMERS})
        client.post("/invoices", json={"items": INVOICES})
    events, invoices = _count(store, EVENT), _count(store, INV)
    with server.client(viewer) as client:
        assert client.get("/invoices/R-100").status_code == 200
        refused = client.post("/invoices", json={"items": [{**INVOICES[0], "amount": "1.00"}]})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["required_role"] == "operator"
        assert "needs the role operator" in refused.json()["detail"]
        event = client.post("/invoices/R-100/events", json={"kind": "hold"})
        assert event.status_code == 403
        decision = client.post("/approvals/1/decision", json={"decision": "approve"})
        assert decision.json()["required_role"] == "approver"
        assert client.get("/invoices/R-100").json()["amount"] == "4800.00"
    assert (_count(store, EVENT), _count(store, INV)) == (events, invoices)
    with server.client() as anonymous:
        assert anonymous.get("/invoices").status_code == 401
    with server.client("mw_not-a-token") as forged:
        assert forged.get("/invoices").status_code == 401


def test_bad_input_is_a_problem_naming_the_field(store: str, server: Server) -> None:
    erp = token(store, "operator", "erp")
    with server.client(erp) as client:
        client.post("/customers", json={"items": CUSTOMERS})
        bad = client.post("/invoices", json={"items": [
            INVOICES[0], {**INVOICES[1], "amount": 119.0},
        ]})  # fmt: skip
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errors"][0]["pointer"] == "/items/1/amount"
        # the importer's own checks, with its hint, pointed at the item and field
        late = client.post("/invoices", json={"items": [
            INVOICES[0], {**INVOICES[1], "due_date": "2025-12-01"},
        ]})  # fmt: skip
        assert late.status_code == 422
        error = late.json()["errors"][0]
        assert (
            error["pointer"] == "/items/1/due_date" and "before the issue date" in (error["detail"])
        )
        unknown = client.post("/invoices", json={"items": [{**INVOICES[0], "customer_id": "K-9"}]})
        assert unknown.json()["errors"][0]["pointer"] == "/items/0/customer_id"
        assert _count(store, INV) == 0  # a batch is written whole or not at all
        big = client.post(
            "/invoices",
            content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
            headers={"content-type": "application/json"},
        )
        assert big.status_code == 413
        many = client.post("/invoices", json={"items": [INVOICES[0]] * 1001})
        assert many.status_code == 422 and many.json()["errors"][0]["pointer"] == "/items"
        page = client.get("/invoices", params={"cursor": "???"})
        assert page.status_code == 422 and page.json()["errors"][0]["field"] == "cursor"


def test_lists_page_by_cursor(store: str, server: Server) -> None:
    erp = token(store, "operator", "erp")
    with server.client(erp) as client:
        client.post("/customers", json={"items": CUSTOMERS})
        client.post("/invoices", json={"items": INVOICES})
        seen, cursor = [], None
        while True:
            page = client.get(
                "/invoices", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
            ).json()
            seen += [i["invoice"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ["R-100", "R-101", "R-102"]
