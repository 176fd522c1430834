"""The engine's command line, end to end on a database file (and PostgreSQL when configured).

`init`, the imports, `policy deploy --for`, `run --as-of`, the `event`
commands, four-eyes `approvals`, `show` and `invoices` — each as a user types
it, through typer's test runner.  Exit codes are interface: 0 for success, 1
when a named thing does not exist or is refused, 2 for a malformed value.
The JSON shapes asserted here are the ones documented in docs/json.md.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import mahnwerk.cli as cli
from mahnwerk.cli import app
from mahnwerk.engine.approvals import decide
from mahnwerk.engine.store.db import make_engine
from mahnwerk.service.identity import login

RUNNER_POLICY = Path(__file__).parent / "engine" / "data" / "runner_policy.mahn"
B2B_POLICY = """policy "cli-b2b" version 1 {
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  limits { minimum balance 5.00 EUR  letters at least 14 days apart }
  segment business when customer.type == B2B use b2b
  segment default use standard
  ladder standard {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state klaerung after 14d in erinnerung { notify "team"; wait }
  }
  ladder b2b {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state mahnung_1 after 14d in erinnerung { letter "mahnung_1"; lump sum; interest statutory }
    state letzte after 14d in mahnung_1 { letter "letzte_mahnung" }
    state gericht after 14d in letzte {
      approval by 2 when balance > 10000 EUR else 1
      court order; wait
    }
  }
  on dispute_opened pause
  on dispute_resolved resume
  on promise_made pause until promised_date + 3 business days
  on hold pause
  on release resume
  on insolvency stop -> insolvent
}
"""

INVOICE_KEYS = {
    "invoice", "customer", "customer_name", "amount", "balance", "due_date", "segment",
    "state", "entered_on", "next_check_on", "paused", "held", "disputed", "time_barred",
    "time_barred_since",
}  # fmt: skip
RUN_KEYS = {
    "as_of", "new_invoices", "checked", "transitions", "messages", "superseded_messages",
    "approvals", "tasks", "charges", "payments_applied", "payments_unmatched",
    "events_applied", "seconds",
}  # fmt: skip
APPROVAL_KEYS = {
    "id", "invoice", "target_state", "required", "approved_by", "summary", "rule",
    "requested_on", "balance",
}  # fmt: skip


TEMPLATES = Path(cli.__file__).parents[1] / "engine" / "comms" / "templates"


class Mahnwerk:
    """`mahnwerk …` against one database, with the wall clock set to a business day."""

    def __init__(self, db_url: str, monkeypatch: pytest.MonkeyPatch):
        self.db = db_url
        self.monkeypatch = monkeypatch
        self.today(date(2024, 3, 5))

    def today(self, day: date) -> None:
        moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        self.monkeypatch.setattr(cli, "_now", lambda: moment)

    def __call__(self, *args: Any, code: int = 0, db: bool = True):
        argv = [str(a) for a in args] + (["--db", self.db] if db else [])
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == code, (argv, result.stdout, result.stderr)
        return result

    def runs(self, start: date, end: date, every: int = 1) -> list[dict[str, Any]]:
        """`run --as-of` from `start` to `end` every `every` days (a catch-up run moves an
        invoice one letter level only, so reaching a late level takes runs on the way)."""
        days = [start + timedelta(days=i) for i in range(0, (end - start).days + 1, every)]
        if days[-1] != end:
            days.append(end)
        return [self.json("run", "--as-of", day.isoformat()) for day in days]

    def json(self, *args: Any) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def invoices(self, *args: Any) -> dict[str, dict[str, Any]]:
        return {r["invoice"]: r for r in self.json("invoices", *args)}


@pytest.fixture
def mw(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Mahnwerk:
    return Mahnwerk(db_url, monkeypatch)


@pytest.fixture
def books(mw: Mahnwerk, data_dir: Path, tmp_path: Path) -> Mahnwerk:
    """Sample customers, invoices and payments; consumer and business policies deployed."""
    assert "created database" in mw("init").stdout
    assert "up to date" in mw("init").stdout
    for kind, name in (
        ("customers", "kunden_cp1252.csv"),
        ("invoices", "rechnungen_cp1252.csv"),
        ("payments", "zahlungen_utf8_bom.csv"),
    ):
        out = mw("import", kind, data_dir / name).stdout
        assert f"{kind}: 4 inserted" in out or f"{kind}: 5 inserted" in out
    b2b = tmp_path / "cli_b2b.mahn"
    b2b.write_text(B2B_POLICY, encoding="utf-8")
    # customer 10004 writes French: a deploy needs every template in French too (issue 13)
    french = tmp_path / "vorlagen_fr"
    french.mkdir()
    for de in TEMPLATES.glob("*.de.*.j2"):
        (french / de.name.replace(".de.", ".fr.")).write_text(de.read_text(encoding="utf-8"))
    b2c = ("policy", "deploy", RUNNER_POLICY, "--yes", "--for", "customer.type == B2C")
    refused = mw(*b2c, code=1)
    assert "no template 'vorab_hinweis' for email in language 'fr'" in refused.stdout
    out = mw(*b2c, "--templates", french).stdout
    assert out.strip() == "policy 'runner-test' version 1 deployed"
    out = mw("policy", "deploy", b2b, "--yes", "--for", "customer.type == B2B").stdout
    assert out.strip() == "policy 'cli-b2b' version 1 deployed"
    return mw


def test_init_and_imports_report_what_they_did(mw: Mahnwerk, data_dir: Path):
    mw("init")
    out = mw("import", "customers", data_dir / "kunden_cp1252.csv").stdout
    assert "4 inserted, 0 updated, 0 unchanged" in out
    again = mw("import", "customers", data_dir / "kunden_cp1252.csv").stdout
    assert "0 inserted, 0 updated, 4 unchanged" in again
    bad = mw("import", "invoices", data_dir / "rechnungen_kaputt.csv", code=1)
    assert "rechnungen_kaputt.csv:3:Kundennummer: unknown customer '99999'" in bad.stderr


def test_commands_refuse_a_database_that_was_never_initialised(mw: Mahnwerk):
    for args in (("run", "--as-of", "2024-03-05"), ("invoices",), ("approvals", "list")):
        assert "mahnwerk init" in mw(*args, code=1).stderr


def test_malformed_values_exit_2_before_the_database_is_touched(mw: Mahnwerk):
    for bad in ("2024-13-01", "05.03.2024", "today"):
        out = mw("run", "--as-of", bad, code=2)
        assert out.stdout == ""
        assert out.stderr.startswith(f"error: --as-of {bad!r} is not a date; write YYYY-MM-DD")
    until = mw("event", "promise", "RE-2024-0005", "--until", "1.4.2024", code=2)
    assert "--until '1.4.2024' is not a date" in until.stderr
    assert "not an amount" in mw("event", "payment", "RE-2024-0005", "zehn", code=2).stderr
    assert "positive" in mw("event", "payment", "RE-2024-0005", "0", code=2).stderr


def test_invoices_before_the_first_run_then_a_run_twice_for_the_same_day(books: Mahnwerk):
    rows = books.json("invoices")
    assert [r["invoice"] for r in rows] == [f"RE-2024-000{i}" for i in range(1, 6)]
    assert all(set(r) == INVOICE_KEYS for r in rows)
    assert rows[0] == {
        "invoice": "RE-2024-0001",
        "customer": "10001",
        "customer_name": "Bäckerei Größer GmbH & Co. KG",
        "amount": "1234.56",
        "balance": "1234.56",
        "due_date": "2024-01-16",
        "segment": None,
        "state": "new",
        "entered_on": None,
        "next_check_on": None,
        "paused": None,
        "held": False,
        "disputed": False,
        "time_barred": False,
        "time_barred_since": None,
    }
    text = books("invoices").stdout.splitlines()
    assert text[0].split() == ["RE-2024-0001", "10001", "1234.56", "due", "2024-01-16", "-", "new"]

    out = books("policy", "deploy", RUNNER_POLICY, "--for", "customer.typ == B2C", code=1)
    assert "customer.typ" in out.stderr

    first = books.json("run", "--as-of", "2024-03-05")
    assert set(first) == RUN_KEYS
    assert first["as_of"] == "2024-03-05"
    assert first["new_invoices"] == 5 and first["checked"] == 5
    assert first["payments_applied"] == 2 and first["payments_unmatched"] == 2
    assert first["charges"]["principal"] == "14124.45"
    assert isinstance(first["seconds"], float)
    second = books("run", "--as-of", "2024-03-05").stdout
    assert second.startswith("2024-03-05: 0 new, 0 checked, 0 transitions")
    states = {k: (v["segment"], v["state"]) for k, v in books.invoices().items()}
    assert states == {
        "RE-2024-0001": ("business", "paid"),  # B-9001 names the invoice
        "RE-2024-0002": ("business", "erinnerung"),  # first seen a month overdue
        "RE-2024-0003": ("default", "paid"),
        "RE-2024-0004": ("business", "open"),
        "RE-2024-0005": ("default", "open"),
    }
    for args in (
        ("event", "dispute", "RE-9999"),
        ("event", "hold", "RE-9999"),
        ("event", "promise", "RE-9999", "--until", "2024-04-01"),
        ("event", "payment", "RE-9999", "10,00"),
    ):
        assert "'RE-9999'" in books(*args, code=1).stderr


def test_events_payments_approvals_show_and_invoices(books: Mahnwerk):
    books("run", "--as-of", "2024-03-05")
    out = books("event", "dispute", "RE-2024-0005", "--on", "2024-03-20").stdout
    assert out.startswith("recorded dispute_opened for RE-2024-0005 on 2024-03-20")
    books("event", "promise", "RE-2024-0002", "--until", "2024-04-19", "--on", "2024-03-10")
    refused = books("event", "payment", "RE-2024-0004", "1.000,00", "--on", "2024-04-25", code=1)
    assert "a payment dated 25.04.2024 is after today (05.03.2024)" in refused.stderr
    out = books(
        "event", "payment", "RE-2024-0004", "1.000,00", "--on", "2024-04-25", "--allow-future"
    ).stdout
    assert out.startswith("recorded payment of 1000.00 on RE-2024-0004 (2024-04-25)")

    # The daily runs up to 1 June (a catch-up run moves an invoice one letter level only).
    books.today(date(2024, 6, 1))
    totals: Counter[str] = Counter()
    for stats in books.runs(date(2024, 3, 6), date(2024, 6, 1)):
        totals.update({k: stats[k] for k in ("events_applied", "payments_applied", "approvals")})
        totals.update({"lump_sum": Decimal(stats["charges"].get("lump_sum", "0"))})
    assert totals["events_applied"] == 2 and totals["payments_applied"] == 1
    assert totals["approvals"] == 2 and totals["lump_sum"] == Decimal("80.00")
    rows = books.invoices()
    assert rows["RE-2024-0005"]["state"] == "vorab" and rows["RE-2024-0005"]["disputed"]
    assert rows["RE-2024-0005"]["paused"] == "dispute_opened"
    assert {k: v["state"] for k, v in books.invoices("--state", "letzte").items()} == {
        "RE-2024-0002": "letzte",
        "RE-2024-0004": "letzte",
    }
    assert books.json("invoices", "--state", "gericht") == []

    # approvals list --json: one for each business invoice waiting to go to court
    waiting = books.json("approvals", "list")
    assert all(set(w) == APPROVAL_KEYS for w in waiting)
    by_invoice = {w["invoice"]: w for w in waiting}
    big, small = by_invoice["RE-2024-0004"], by_invoice["RE-2024-0002"]
    assert (big["target_state"], big["required"], big["approved_by"]) == ("gericht", 2, [])
    assert small["required"] == 1 and small["rule"].endswith("cli_b2b.mahn:14")
    # 7 + 14 + 14 + 14 days after 31 March, and a day more: the 1st Mahnung of Sunday
    # 21 April went out on Monday, and the policy's 14 days between letters count from then
    assert big["requested_on"] == "2024-05-20"
    assert "court order" in big["summary"]
    text = books("approvals", "list").stdout
    assert f"#{big['id']:<6} RE-2024-0004" in text and "needs 2" in text

    # four eyes between proven identities: the login acts, `--by` may only name it
    me = _login(books.db)
    forged = books("approvals", "approve", big["id"], "--by", "anna", code=1)
    assert f"--by anna is not who you are: you are {me}" in forged.stderr
    assert books.json("approvals", "list")[0]["approved_by"] == []
    out = books("approvals", "approve", big["id"]).stdout
    assert f"{me} approved (1 of 2); waiting for another person" in out
    again = books("approvals", "approve", big["id"], "--by", me, code=1)
    assert "a second approval must come from a different person" in again.stderr
    assert books.json("approvals", "list")[0]["approved_by"] == [me]
    # the second person proves themselves elsewhere (another OS account, an API token):
    # the engine takes their decision under their proven name
    engine = make_engine(books.db)
    out = decide(
        engine, big["id"], "ben", True, datetime(2024, 6, 1, 9, tzinfo=UTC), date(2024, 6, 1)
    )
    engine.dispose()
    assert "approved; the next run moves the invoice to gericht" in out
    out = books("approvals", "reject", small["id"], "--comment", "Rate").stdout
    assert f"rejected by {me}; the invoice is on hold" in out
    refused = books("approvals", "approve", small["id"], code=1)
    assert "already rejected" in refused.stderr
    assert books("approvals", "approve", 99999, code=1).stderr.strip() == (
        "error: no approval 99999"
    )
    assert books("approvals", "list").stdout.strip() == "no approvals waiting"

    stats = books.json("run", "--as-of", "2024-06-01")
    assert stats["checked"] == 1 and stats["tasks"] == {"court_order": 1}
    rows = books.invoices()
    assert rows["RE-2024-0004"]["state"] == "gericht"
    assert rows["RE-2024-0002"]["held"] and rows["RE-2024-0002"]["state"] == "letzte"

    # hold and release through the event commands
    books.today(date(2024, 6, 3))
    books("event", "hold", "RE-2024-0005", "--note", "Kundin im Krankenhaus")
    books("run", "--as-of", "2024-06-03")
    assert books.invoices()["RE-2024-0005"]["held"]
    books("event", "release", "RE-2024-0005")
    books("run", "--as-of", "2024-06-03")
    assert not books.invoices()["RE-2024-0005"]["held"]

    # show --json: the invoice row, the log, the ledger and the outbox
    data = books.json("show", "RE-2024-0004")
    assert set(data) == {"invoice", "events", "ledger", "messages"}
    assert set(data["invoice"]) == INVOICE_KEYS
    assert data["invoice"]["state"] == "gericht" and data["invoice"]["amount"] == "12500.00"
    assert all(
        set(e) == {"date", "kind", "from", "to", "message", "rule", "actor"} for e in data["events"]
    )
    kinds = [e["kind"] for e in data["events"]]
    assert kinds.count("approval_given") == 2 and "task_court_order" in kinds
    assert {e["actor"] for e in data["events"] if e["kind"] == "approval_given"} == {me, "ben"}
    assert all(
        set(x) == {"date", "kind", "amount", "period", "provisional", "rule"}
        for x in data["ledger"]
    )
    assert [(x["date"], x["kind"], x["amount"]) for x in data["ledger"]] == [
        ("2024-03-01", "principal", "12500.00"),
        ("2024-04-21", "lump_sum", "40.00"),
        ("2024-04-21", "interest", "56.18"),  # 13 days at 3.62 + 9 % on 12,500.00
        ("2024-04-25", "interest", "17.29"),  # booked up to the day before the payment
        ("2024-04-25", "payment", "-1000.00"),  # lump sum, interest, then 886.53 principal
        ("2024-05-06", "interest", "44.17"),  # 11 days on 11,613.47 (the letter gap, above)
        ("2024-05-20", "interest", "56.21"),  # A6: each period rounded once, booked as the
        ("2024-06-01", "interest", "48.19"),  # difference (up to the approval day)
    ]
    assert data["ledger"][2]["period"] == ["2024-04-08", "2024-04-20"]
    assert data["invoice"]["balance"] == "11762.04"
    assert all(
        set(o) == {"channel", "template", "status", "not_before", "sent_at", "rule"}
        for o in data["messages"]
    )
    assert [o["template"] for o in data["messages"]][-1] == "letzte_mahnung"
    text = books("show", "RE-2024-0004").stdout
    assert text.startswith("RE-2024-0004  Müller & Söhne OHG (10003)  amount 12500.00")
    assert "segment business, state gericht since " in text
    assert "approved by ben (2/2)" in text
    assert "no invoice 'RE-9999'" in books("show", "RE-9999", code=1).stderr
    assert books.json("show", "RE-2024-0005")["invoice"]["disputed"] is True


def test_policy_explain_walks_an_invoice_through_the_policy():
    invoice = '{"id": "R1", "issue_date": "2025-04-01", "due_date": "2025-04-15", "amount": 300}'
    consumer = '{"type": "B2C", "region": "BE"}'
    args = ["policy", "explain", str(RUNNER_POLICY), "--invoice", invoice]
    ok = CliRunner().invoke(app, [*args, "--customer", consumer, "--as-of", "2025-05-07"])
    assert ok.exit_code == 0, ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0] == "invoice R1: 300 EUR, due 2025-04-15, as of 2025-05-07"
    moves = [line for line in lines if " -> " in line]
    # A9: "7d after due" waits for three TARGET2 days after Tue 15 April; Good Friday and
    # Easter Monday are closed, so the grace ends on 22 April and the reminder goes on the 23rd.
    assert moves == [
        f"2025-04-12  open -> vorab  because `at 3d before due`  ({RUNNER_POLICY}:8)",
        f"2025-04-23  vorab -> erinnerung  because `at 7d after due`  ({RUNNER_POLICY}:9)",
        f"2025-05-07  erinnerung -> mahnung_1  because `after 14d in erinnerung`  "
        f"({RUNNER_POLICY}:10)",
    ]
    assert lines[-2].startswith("state 'mahnung_1' since 2025-05-07; balance 301.78")
    bad = CliRunner().invoke(app, [*args, "--customer", '{"type": "B2X"}'])
    assert bad.exit_code == 1
    assert "type must be B2B or B2C" in bad.stderr


STALE_MESSAGE_BUG = (
    "runner._write_actions queues the last message of a catch-up run without looking at the "
    "outcome's final record: an invoice paid (or disputed, held) later in the same run still "
    "gets the reminder of the level it passed on the way; see the report"
)


def test_a_catch_up_run_queues_no_reminder_for_an_invoice_paid_meanwhile(books: Mahnwerk):
    books("run", "--as-of", "2024-03-05")
    # erinnerung is due on 26 March; the customer pays in full on 28 March
    books.today(date(2024, 3, 28))
    books("event", "payment", "RE-2024-0005", "250,00", "--on", "2024-03-28")
    books("run", "--as-of", "2024-04-02")
    data = books.json("show", "RE-2024-0005")
    assert data["invoice"]["state"] == "paid"
    assert data["messages"] == []


def _login(db_url: str) -> str:
    """Who the tests act as: the OS user on SQLite, the database login on PostgreSQL."""
    engine = make_engine(db_url)
    try:
        return login(engine)[1]
    finally:
        engine.dispose()


def test_four_eyes_count_people_not_spellings(books: Mahnwerk):
    """D8: the proven person (the OS user) and any spelling of their name is one person
    (`Root`, with a zero-width space, full-width); `engine` and `dispatch` are nobody's
    name; another person's name is a forged `--by`; the refusals change nothing."""
    books("run", "--as-of", "2024-03-05")
    books.today(date(2024, 6, 1))
    books.runs(date(2024, 3, 12), date(2024, 6, 1), every=7)
    big = next(a for a in books.json("approvals", "list") if a["required"] == 2)
    me = _login(books.db)
    books("approvals", "approve", big["id"], "--by", me)
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in me)
    for variant in (me.upper(), me[:1] + "\u200b" + me[1:], f" {me} ", wide):
        again = books("approvals", "approve", big["id"], "--by", variant, code=1)
        assert "a second approval must come from a different person" in again.stderr, variant
    for machine in ("engine", "dispatch", "Engine"):
        refused = books("approvals", "approve", big["id"], "--by", machine, code=1)
        assert "is reserved for mahnwerk's own entries" in refused.stderr
    refused = books("event", "hold", big["invoice"], "--by", "engine", code=1)
    assert "is reserved" in refused.stderr
    forged = books("approvals", "approve", big["id"], "--by", "b.operator", code=1)
    assert "--by b.operator is not who you are" in forged.stderr
    waiting = next(a for a in books.json("approvals", "list") if a["id"] == big["id"])
    assert waiting["approved_by"] == [me]
    engine = make_engine(books.db)  # b.operator, proven elsewhere (own OS account, a token)
    out = decide(engine, big["id"], "b.operator", True, datetime(2024, 6, 1, 9, tzinfo=UTC),
                 date(2024, 6, 1))  # fmt: skip
    engine.dispose()
    assert "approved; the next run moves the invoice to gericht" in out
