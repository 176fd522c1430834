"""Four eyes across the CLI and the API, webhook retries and replay, health, metrics, preview."""

from __future__ import annotations

import time

from service_harness import POLICY, Receiver, Server, token, wait_run
from test_api_day import CUSTOMERS, INVOICES
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine.store.db import make_engine
from mahnwerk.service.identity import login


def _books(client, days=("2026-01-22",)) -> None:  # type: ignore[no-untyped-def]
    """Two invoices reach their reminder on 22 January (R-102 is due a day later)."""
    client.post("/policies", json={"filename": "b2b.mahn", "source": POLICY})
    client.post("/customers", json={"items": CUSTOMERS})
    client.post("/invoices", json={"items": INVOICES})
    for day in days:  # a run that reads finished has let go of the book (test_run_handover.py)
        posted = client.post("/runs", json={"as_of": day})
        assert posted.status_code == 202, posted.text
        wait_run(client, day)


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    return result.output + f"[exit {result.exit_code}]"


def test_one_person_approving_in_the_cli_and_with_a_token_is_one_person(
    store: str, server: Server, admin: str
) -> None:
    engine = make_engine(store)
    kind, me = login(engine)  # the OS user on SQLite, the database login on PostgreSQL
    engine.dispose()
    option = "--db-role" if kind == "database role" else "--os-user"
    assert "added chef (admin)" in _cli("users", "add", "chef", option, me, "--role",
                                        "admin", "--db", store)  # fmt: skip
    chefs_token = token(store, "approver", "chef")
    with server.client(admin) as client:
        _books(client, ("2026-01-22", "2026-02-12"))
        big = next(a for a in client.get("/approvals").json() if a["invoice"] == "R-100")
    out = _cli("approvals", "approve", str(big["id"]), "--db", store)
    assert "chef approved (1 of 2)" in out and "[exit 0]" in out
    assert "is not who you are" in _cli("approvals", "approve", str(big["id"]), "--by", "anna",
                                        "--db", store)  # fmt: skip
    with server.client(chefs_token) as client:
        again = client.post(f"/approvals/{big['id']}/decision", json={"decision": "approve"})
        assert again.status_code == 409 and "different person" in again.json()["detail"]
        waiting = next(a for a in client.get("/approvals").json() if a["id"] == big["id"])
        assert waiting["approved_by"] == ["chef"]


def test_a_failed_webhook_is_retried_logged_and_replayed_with_its_id(
    store: str, server: Server, admin: str, receiver: Receiver
) -> None:
    receiver.fail_next = 1  # the ERP is briefly down
    with server.client(admin) as client:
        for url in ("http:///hooks", "https://erp.example:port/hooks"):
            bad = client.post("/webhooks", json={"url": url, "event_types": ["*"]})
            assert bad.status_code == 422, bad.text
            assert bad.json()["errors"][0]["pointer"] == "/url"
            assert "not a web address" in bad.json()["detail"]
        missing = client.post("/webhooks/deliveries/999/replay")
        assert missing.status_code == 404 and "no delivery 999" in missing.json()["detail"]
        assert client.get("/webhooks").json() == []
        hook = client.post(
            "/webhooks", json={"url": receiver.start(), "event_types": ["invoice.state_changed"]}
        )
        receiver.secret = hook.json()["secret"]
        _books(client)
        receiver.wait_for(lambda ms: len(ms) == 2, timeout=40)  # retried after 5 s
        log = client.get("/webhooks/deliveries").json()["items"]
        assert len(log) == 2 and all(d["status"] == "delivered" for d in log)
        retried = [d for d in log if d["attempts"] == 2]
        assert len(retried) == 1
        assert [a["status_code"] for a in retried[0]["log"]] == [503, 204]
        received = receiver.received
        out = _cli("webhooks", "replay", str(log[0]["id"]), "--db", store)
        assert "1 delivery queued again" in out
        deadline = time.monotonic() + 20
        while receiver.received == received and time.monotonic() < deadline:
            time.sleep(0.2)
    assert receiver.received == received + 1
    assert len(receiver.messages) == 2  # the receiver saw the same webhook-id again
    assert receiver.bad_signatures == 0


def test_health_and_metrics(store: str, server: Server, admin: str) -> None:
    with server.client(admin) as client:
        _books(client)
    with server.client() as anonymous:
        health = anonymous.get("/health").json()
        metrics = anonymous.get("/metrics")
    assert health["status"] == "ok" and health["database"] == "reachable"
    assert health["last_run"]["as_of"] == "2026-01-22" and health["webhook_deliveries_failed"] == 0
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert "mahnwerk_runs_total 1.0" in text
    assert 'mahnwerk_messages{channel="email",status="queued"} 2.0' in text
    assert "mahnwerk_transitions_total 2.0" in text and "mahnwerk_approvals_waiting 0.0" in text


def test_a_deploy_preview_stores_nothing(store: str, server: Server, admin: str) -> None:
    with server.client(admin) as client:
        _books(client)
        before = client.get("/policies").json()
        newer = POLICY.replace("version 1", "version 2").replace(
            "at 7d after due", "at 10d after due"
        )
        preview = client.post("/policies", json={"filename": "b2b.mahn", "source": newer,
                                                 "preview": True})  # fmt: skip
        assert preview.status_code == 201 and preview.json()["preview"] is True
        plan = preview.json()
        assert (plan["version"], plan["old_version"], plan["refused"]) == (2, 1, False)
        assert plan["invoices"] == 3 and plan["taken_over"] == 3
        assert "-    state erinnerung at 7d after due" in plan["diff"]
        assert "+    state erinnerung at 10d after due" in plan["diff"]
        assert client.get("/policies").json() == before
        broken = client.post("/policies", json={"filename": "b2b.mahn", "source": "policy {",
                                                "preview": True})  # fmt: skip
        assert broken.status_code == 422 and broken.json()["errors"][0]["field"] == "source"
        assert "b2b.mahn:1" in broken.json()["detail"]
