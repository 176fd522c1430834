"""The API's contract: the committed document equals the code's, and the server keeps it.

schemathesis generates requests from the served OpenAPI document and sends them to a
real `mahnwerk serve`; no request may cause a server error, and every documented
answer must match its schema. The example count is bounded so this stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from service_harness import POLICY, start_server, token

from mahnwerk.engine.store.db import init_db
from mahnwerk.service.openapi import text

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_committed_openapi_document_matches_the_code() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == text(), (
        "docs/openapi.json is out of date: run "
        "`.venv/bin/python -m mahnwerk.service.openapi > docs/openapi.json`"
    )


def test_the_server_serves_the_committed_document(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    init_db(url)
    server = start_server(url, tmp_path, "--no-schedule")
    try:
        served = httpx.get(server.url + "/openapi.json").json()
    finally:
        server.stop()
    assert served == json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_generated_requests_find_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    url = f"sqlite:///{tmp_path / 'm.db'}"
    init_db(url)
    admin = token(url, "admin", "fuzz")
    server = start_server(url, tmp_path, "--no-schedule")
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin}"}) as c:
            c.post("/policies", json={"filename": "p.mahn", "source": POLICY})
            c.post("/customers", json={"items": [
                {"customer_id": "K-1", "name": "Muster GmbH", "type": "B2B"}]})  # fmt: skip
            c.post("/invoices", json={"items": [
                {"invoice_id": "R-1", "customer_id": "K-1", "issue_date": "2026-01-01",
                 "due_date": "2026-01-15", "amount": "10.00"}]})  # fmt: skip
        schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
        # Revoking tokens would end the test's own access early; everything else is fair game.
        schema = schema.exclude(method="DELETE", path_regex="^/tokens")
        failures: list[str] = []
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(max_examples=6, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(case=operation.as_strategy())
            def check(case) -> None:  # type: ignore[no-untyped-def]
                response = case.call(headers={"Authorization": f"Bearer {admin}"})
                try:
                    case.validate_response(
                        response, checks=(not_a_server_error, response_schema_conformance)
                    )
                except AssertionError as exc:  # schemathesis' failure group
                    failures.append(f"{case.operation.label}: {exc}")

            check()
    finally:
        server.stop()
    assert not failures, "\n".join(failures[:5])
