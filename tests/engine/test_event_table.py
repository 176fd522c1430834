"""One table of event kinds (`dsl/events.py`) feeds the command line, the importer and the API.

A newcomer adds an event kind in two or three places — the `EventKind` member, its row, and a
handler only if it has an effect of its own.  These tests hold the table to that promise:
every kind has exactly one row, the CLI verbs, import names and API kinds are the table's,
and `callback_requested` (added as the proof) reaches an operator's Today as a task.  The
last test is a defect found on the way: the C3 enforcement-order task never reached Today.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert
from typer.testing import CliRunner

from mahnwerk.cli import _SIMPLE_EVENTS, app
from mahnwerk.dsl.events import BY_KIND, EVENTS, kinds
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine import worklist
from mahnwerk.engine.event_import import parse_kind
from mahnwerk.engine.models import CUST, INV
from mahnwerk.engine.policies import PolicySet, deploy
from mahnwerk.engine.runner import run
from mahnwerk.engine.step.events import EVENT_HANDLERS
from mahnwerk.engine.store.db import init_db, make_engine
from mahnwerk.engine.store.invoices import record_event
from mahnwerk.service.schemas import CustomerEventIn, EventIn

POLICY = Path(__file__).parent / "data" / "runner_policy.mahn"


def test_every_event_kind_has_exactly_one_row() -> None:
    assert [spec.kind for spec in EVENTS] == list(dict.fromkeys(spec.kind for spec in EVENTS))
    assert set(BY_KIND) == set(EventKind)


def test_verbs_and_import_names_are_unique_across_kinds() -> None:
    verbs = [spec.verb for spec in EVENTS if spec.verb]
    assert len(verbs) == len(set(verbs))
    owners: dict[str, EventKind] = {}
    for spec in EVENTS:
        for alias in spec.aliases:
            assert owners.setdefault(alias, spec.kind) is spec.kind, alias


def test_the_command_line_offers_every_verb_of_the_table() -> None:
    assert {verb: kind for verb, (kind, _) in _SIMPLE_EVENTS.items()} == {
        spec.verb: spec.kind.value for spec in EVENTS if spec.verb
    }


def test_an_events_file_may_use_every_name_of_the_table() -> None:
    for spec in EVENTS:
        assert parse_kind(spec.kind.value) == spec.kind.value
        for alias in spec.aliases:
            assert parse_kind(alias) == spec.kind.value, alias
    assert parse_kind("Rückruf") == "callback_requested"  # umlauts spelt out, like headers


def test_the_api_takes_the_invoice_and_customer_kinds_of_the_table() -> None:
    invoice_kinds = set(EventIn.model_json_schema()["properties"]["kind"]["enum"])
    customer_kinds = set(CustomerEventIn.model_json_schema()["properties"]["kind"]["enum"])
    assert invoice_kinds == set(kinds("invoice"))
    assert customer_kinds == {"insolvency", "death_notice"}
    assert "callback_requested" in invoice_kinds


def test_events_with_an_effect_of_their_own_have_a_handler() -> None:
    legal = {
        EventKind.DISPUTE_OPENED,  # C1
        EventKind.INSOLVENCY,  # C5
        EventKind.DEATH_NOTICE,  # C6
        EventKind.COURT_ORDER_SERVED,  # C3
        EventKind.PROMISE_MADE,  # D6
        EventKind.PAYMENT_FULL,  # A8
    }
    assert legal <= set(EVENT_HANDLERS)
    assert set(EVENT_HANDLERS) <= set(EventKind)


# --- the newcomer's event, end to end --------------------------------------------------------

NOW = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)


def _book(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    init_db(url)
    engine = make_engine(url)
    with contextlib.chdir(POLICY.parent):
        deploy(engine, POLICY.name, NOW - timedelta(days=150))
    with engine.begin() as conn:
        cid = conn.execute(
            insert(CUST).values(external_id="K-1", name="Anna Schmidt", type="B2C", region="HH")
        ).inserted_primary_key[0]
        conn.execute(
            insert(INV).values(
                external_id="RE-1",
                customer_id=cid,
                issue_date=date(2024, 4, 1),
                due_date=date(2024, 4, 15),
                amount=Decimal("480.00"),
            )
        )
    return url, engine


def _run(engine, day: date) -> None:
    run(engine, day, PolicySet.load(engine), datetime.combine(day, datetime.min.time(), UTC))


def _tasks(engine, day: date) -> list[str]:
    return [i.what for i in worklist.today(engine, day).items if i.kind == "task"]


def test_a_callback_request_reaches_the_operators_today_with_its_note(tmp_path: Path) -> None:
    url, engine = _book(tmp_path)
    _run(engine, date(2024, 5, 2))
    result = CliRunner().invoke(
        app,
        ["event", "callback", "RE-1", "--on", "2024-05-03", "--note", "bitte ab 14 Uhr",
         "--db", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    assert "recorded callback_requested for RE-1" in result.stdout
    assert _tasks(engine, date(2024, 5, 3)) == []  # recorded, not yet applied
    _run(engine, date(2024, 5, 3))
    assert _tasks(engine, date(2024, 5, 3)) == ["callback: bitte ab 14 Uhr"]


def test_the_enforcement_order_task_reaches_today(tmp_path: Path) -> None:
    """C3: two weeks after service without an objection, a person applies for enforcement.
    Before: the task was logged but `worklist` listed its own task kinds and missed it."""
    _, engine = _book(tmp_path)
    _run(engine, date(2024, 5, 2))
    record_event(engine, "RE-1", "court_order_served", date(2024, 5, 6), "anna", NOW)
    _run(engine, date(2024, 5, 6))
    assert not [t for t in _tasks(engine, date(2024, 5, 6)) if t.startswith("enforcement")]
    _run(engine, date(2024, 5, 21))
    tasks = [t for t in _tasks(engine, date(2024, 5, 21)) if t.startswith("enforcement order")]
    assert len(tasks) == 1
    assert "apply for the enforcement order (§ 699 ZPO)" in tasks[0]
