"""Every command × broken input: a located one-line error, exit 1 or 2, nothing changed on disk.

The corpus is what a person actually gets wrong: a `--db` that is missing, a folder, an empty
file or not a database; an input file that is missing, a folder, binary, empty, not UTF-8, or
a CSV with a field larger than the csv module takes; a date, amount, number or name that does
not exist.  For each case the test asserts what the person sees and what is left behind:

* no Python traceback, exit code 1 (2 for a malformed command line), a line with `error`;
* the message names what was wrong — the file, or the value typed;
* the folder is byte for byte as before (files, sizes, hashes; the database's content), so a
  refused command created nothing (no empty database file, no output folder) and changed
  nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.dsl.events import EVENTS

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
POLICY = ROOT / "policies" / "de_b2c_standard.mahn"
runner = CliRunner()


def _cli(args: list[str]):
    return runner.invoke(app, args, env={"MAHNWERK_DB": "", "MAHNWERK_DEBUG": ""})


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """A working folder: a good book and a shelf of broken inputs next to it."""
    ws = tmp_path_factory.mktemp("corpus")
    db = str(ws / "good.db")
    for args in (
        ["init", "--db", db],
        ["import", "customers", str(DATA / "customers_utf8.csv"), "--db", db],
        ["import", "invoices", str(DATA / "invoices_comma.csv"), "--db", db],
        ["policy", "deploy", str(POLICY), "--yes", "--db", db],
    ):
        result = _cli(args)
        assert result.exit_code == 0, result.output
    (ws / "mahnwerk.toml").write_text(_cli(["letters", "config-example"]).output)
    (ws / "garbage.bin").write_bytes(bytes(range(256)) * 16)
    (ws / "empty.csv").write_bytes(b"")
    (ws / "bigfield.csv").write_text(
        "customer_id;name;type\nK9;" + "x" * 200_000 + ";B2C\n", encoding="utf-8"
    )
    (ws / "folder").mkdir()
    (ws / "latin.mahn").write_bytes(POLICY.read_text(encoding="utf-8").encode("cp1252"))
    (ws / "garbage.mahn").write_text('policy "kaputt" version {\n  segment ??? \n', "utf-8")
    (ws / "notdb.db").write_text("Einkaufsliste: Milch, Brot, Eier\n" * 300)
    (ws / "empty.db").write_bytes(b"")
    return ws


def snapshot(ws: Path) -> dict[str, str]:
    """Every file's hash; the database by its content (its WAL file is SQLite's business)."""
    state: dict[str, str] = {}
    for path in sorted(ws.rglob("*")):
        rel = str(path.relative_to(ws))
        if path.name.startswith("good.db"):
            continue
        state[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    conn = sqlite3.connect(ws / "good.db")
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    state["good.db (content)"] = hashlib.sha256(dump.encode()).hexdigest()
    return state


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------

CFG = ["--config", "{ws}/mahnwerk.toml"]
DB_COMMANDS: list[list[str]] = [
    ["invoices"],
    ["invoices", "--json"],
    ["show", "INV-1"],
    ["approvals", "list"],
    ["approvals", "approve", "1"],  # as the proven OS user; `--by` may only name them
    ["approvals", "reject", "1"],
    ["run", "--as-of", "2024-05-01"],
    ["event", "dispute", "INV-1"],
    ["event", "promise", "INV-1", "--until", "2024-06-01"],
    ["event", "payment", "INV-1", "10,00"],
    ["event", "plan", "INV-1", "--schedule", "2024-06-01=10.00"],
    ["event", "customer", "C-1", "insolvency"],
    ["import", "customers", str(DATA / "customers_utf8.csv")],
    ["import", "invoices", str(DATA / "invoices_comma.csv")],
    ["import", "payments", str(DATA / "zahlungen_utf8_bom.csv")],
    ["policy", "deploy", str(POLICY), "--yes"],
    ["bank", "unmatched"],
    ["bank", "rematch"],
    ["bank", "show", "1"],
    ["bank", "account", "C-1", "DE02120300000000202051"],
    ["customer", "export", "C-1"],
    ["customer", "erase", "C-1"],
    ["audit", "verify"],
    ["audit", "seal"],
    ["analyse"],
    ["report", "aging"],
    ["forecast"],
    ["experiment", "report", "gibtsnicht"],
    ["experiment", "stop", "gibtsnicht", "--by", "anna.schulz"],
    ["simulate", "--policy", str(POLICY), "--from", "2024-04-01", "--to", "2024-05-01"],
    ["dispatch", "--dry-run", "--out", "{ws}/vorschau", *CFG],
    ["dispatch", *CFG],
    ["letters", "preview", "--invoice", "INV-1", "--template", "mahnung_1", *CFG],
    ["tui", "--operator", "anna.schulz"],
    ["scheduler", "--once", *CFG],
    ["token", "list"],
    ["token", "create", "erp", "--role", "viewer"],
    ["token", "revoke", "1"],
    ["users", "list"],
    ["users", "add", "anna.schulz", "--role", "viewer"],
    ["users", "role", "anna.schulz", "viewer"],
    ["webhooks", "add", "http://127.0.0.1:9/hook"],
    ["webhooks", "deliveries"],
    ["webhooks", "replay", "1"],
]
BAD_DBS = {
    "missing.db": "missing.db: no such database",
    "folder": "folder is a folder, not a database file",
    "empty.db": "empty.db is an empty file",
    "notdb.db": "notdb.db: the file is not an SQLite database",
}
CSV_IMPORTS = ["customers", "invoices", "payments", "events"]
BAD_CSVS = ["missing.csv", "folder", "garbage.bin", "empty.csv", "bigfield.csv"]
POLICY_COMMANDS: list[list[str]] = [
    ["policy", "check", "{file}"],
    ["policy", "graph", "{file}"],
    ["policy", "convert", "{file}", "--to", "yaml"],
    ["policy", "deploy", "{file}", "--yes", "--db", "{ws}/good.db"],
    ["policy", "explain", "{file}", "--customer", "{{}}", "--invoice", "{{}}"],
    ["simulate", "--policy", "{file}", "--from", "2024-04-01", "--to", "2024-05-01",
     "--db", "{ws}/good.db"],
]  # fmt: skip
BAD_POLICIES = ["missing.mahn", "folder", "latin.mahn", "garbage.mahn", "garbage.bin"]
GOOD = ["--db", "{ws}/good.db"]
VALUES: list[tuple[list[str], str]] = [
    (["run", "--as-of", "gestern", *GOOD], "gestern"),
    (["run", "--as-of", "2024-02-30", *GOOD], "2024-02-30"),
    (["run", "--as-of", "2024-05-01", "--workers", "2", *GOOD], "--workers 2"),
    (["show", "R-GIBT-ES-NICHT", *GOOD], "R-GIBT-ES-NICHT"),
    (["event", "dispute", "R-GIBT-ES-NICHT", *GOOD], "R-GIBT-ES-NICHT"),
    (["event", "dispute", "INV-1", "--on", "31.02.2024", *GOOD], "31.02.2024"),
    (["event", "promise", "INV-1", "--until", "morgen", *GOOD], "morgen"),
    (["event", "payment", "INV-1", "zwölf", *GOOD], "zwölf"),
    (["event", "payment", "INV-1", "-5", *GOOD], "-5"),
    (["event", "payment", *GOOD, "--", "INV-1", "-5"], "positive"),
    (["event", "plan", "INV-1", "--schedule", "2024-06-01=viel", *GOOD], "viel"),
    (["event", "customer", "C-1", "scheidung", *GOOD], "scheidung"),
    (["event", "customer", "K-GIBT-ES-NICHT", "insolvency", *GOOD], "K-GIBT-ES-NICHT"),
    (["approvals", "approve", "999", *GOOD], "999"),
    (["approvals", "approve", "eins", *GOOD], "approval_id"),
    (["approvals", "approve", "1", "--by", "anna.schulz", *GOOD], "--by anna.schulz"),
    (["bank", "show", "999", *GOOD], "999"),
    (["bank", "assign", "999", "INV-1", *GOOD], "999"),
    (["bank", "dismiss", "999", "--reason", "x", *GOOD], "999"),
    (["bank", "account", "C-1", "DE00 1234", *GOOD], "DE00 1234"),
    (["customer", "export", "K-GIBT-ES-NICHT", *GOOD], "K-GIBT-ES-NICHT"),
    (["customer", "erase", "K-GIBT-ES-NICHT", *GOOD], "K-GIBT-ES-NICHT"),
    (["report", "gibtsnicht", *GOOD], "gibtsnicht"),
    (["report", "aging", "--format", "docx", *GOOD], "--format"),
    (["forecast", "--as-of", "gestern", *GOOD], "gestern"),
    (["experiment", "start", "x", "--champion", "de-b2c-standard", "--challenger",
      "{ws}/garbage.mahn", "--share", "10%", *GOOD], "garbage.mahn"),
    (["experiment", "start", "x", "--champion", "de-b2c-standard", "--challenger", str(POLICY),
      "--share", "150%", *GOOD], "150%"),
    (["experiment", "start", "x", "--champion", "gibtsnicht", "--challenger", str(POLICY),
      "--share", "10%", *GOOD], "gibtsnicht"),
    (["experiment", "report", "gibtsnicht", *GOOD], "gibtsnicht"),
    (["experiment", "report", "x", "--cost", "brief=1", *GOOD], "brief=1"),
    (["experiment", "promote", "gibtsnicht", *GOOD], "gibtsnicht"),
    (["experiment", "stop", "gibtsnicht", *GOOD], "gibtsnicht"),
    (["forecast", "--backtest", "{ws}/garbage.bin", *GOOD], "garbage.bin"),
    (["invoices", "--limit", "viele", *GOOD], "--limit"),
    (["policy", "graph", str(POLICY), "--format", "pdf"], "pdf"),
    (["policy", "graph", str(POLICY), "--segment", "gibtsnicht"], "gibtsnicht"),
    (["policy", "convert", str(POLICY), "--to", "xml"], "xml"),
    (["policy", "check", str(POLICY), "--templates", "{ws}/missing"], "missing"),
    (["policy", "explain", str(POLICY), "--customer", "{{kaputt", "--invoice", "{{}}"], "kaputt"),
    (["policy", "deploy", str(POLICY), "--yes", "--for", "customer.gibtsnicht == 1", *GOOD],
     "gibtsnicht"),
    (["simulate", "--policy", str(POLICY), "--from", "2024-05-01", "--to", "2024-04-01", *GOOD],
     "2024-04-01"),
    (["letters", "preview", "--invoice", "R-GIBT-ES-NICHT", "--template", "mahnung_1", *CFG,
      *GOOD], "R-GIBT-ES-NICHT"),
    (["letters", "preview", "--invoice", "INV-1", "--template", "gibtsnicht", *CFG, *GOOD],
     "gibtsnicht"),
    (["letters", "check", "--config", "{ws}/missing.toml"], "missing.toml"),
    (["letters", "check", "--config", "{ws}/garbage.bin"], "garbage.bin"),
    (["dispatch", "--config", "{ws}/missing.toml", *GOOD], "missing.toml"),
    (["dispatch", "--now", "jetzt", *CFG, *GOOD], "jetzt"),
    (["tui", "--operator", "", *GOOD], "--operator"),
    (["analyse", "--customer", "K-GIBT-ES-NICHT", *GOOD], "K-GIBT-ES-NICHT"),
    (["serve", "--now", "gestern", "--no-schedule", *GOOD], "gestern"),
    (["scheduler", "--once", "--config", "{ws}/garbage.bin", *GOOD], "garbage.bin"),
    (["scheduler", "--once", "--now", "gestern", *GOOD], "gestern"),
    (["token", "create", "erp", "--role", "chef", *GOOD], "chef"),
    (["token", "revoke", "999", *GOOD], "999"),
    (["users", "add", "anna.schulz", "--role", "chef", *GOOD], "chef"),
    (["users", "role", "niemand", "viewer", *GOOD], "niemand"),
    (["webhooks", "add", "https://erp.example/hooks", "--type", "gibtsnicht", *GOOD],
     "gibtsnicht"),
    (["webhooks", "add", "erp.example/hooks", *GOOD], "'erp.example/hooks' is not a web address"),
    (["webhooks", "add", "ftp://erp.example/hooks", *GOOD], "http:// or https://"),
    (["webhooks", "add", "https://", *GOOD], "'https://' is not a web address"),
    (["webhooks", "replay", "999", *GOOD], "no delivery 999"),
    (["webhooks", "replay", "--since", "gestern", *GOOD], "gestern"),
    (["webhooks", "deliveries", "--status", "kaputt", *GOOD], "kaputt"),
    (["analyse", "--evaluate", "--history", "{ws}/garbage.bin", *GOOD], "garbage.bin"),
    (["import", "bank", "{ws}/missing.xml", *GOOD], "missing.xml"),
    (["import", "bank", "{ws}/garbage.bin", *GOOD], "garbage.bin"),
    (["import", "bank", "{ws}/empty.csv", *GOOD], "empty.csv"),
    (["import", "bank", "{ws}/folder", *GOOD], "folder"),
    (["init", "--db", "{ws}/missing/sub/x.db"], "x.db: the database file cannot be opened"),
    (["serve", "--port", "viele", *GOOD], "--port"),
    (["import", "einvoice", "{ws}/garbage.bin", *GOOD], "garbage.bin"),
    (["import", "einvoice", "{ws}/missing.xml", *GOOD], "missing.xml"),
    (["import", "opos", "{ws}/garbage.bin", *GOOD], "garbage.bin"),
    (["import", "opos", "{ws}/missing.csv", *GOOD], "missing.csv"),
    (["export", "datev", "--from", "gestern", "--to", "2024-05-01", *CFG, *GOOD], "gestern"),
    (["export", "handover", "--since", "gestern", *CFG, *GOOD], "gestern"),
    (["portal", "link", "K-GIBT-ES-NICHT", *GOOD], "K-GIBT-ES-NICHT"),
    (["portal", "link", "C-1", "--config", "{ws}/garbage.bin", *GOOD], "garbage.bin"),
    (["portal", "revoke", "gibtsnicht", *GOOD], "gibtsnicht"),
    *[
        (["event", name, "R-GIBT-ES-NICHT", *GOOD], "R-GIBT-ES-NICHT")
        for name in (spec.verb for spec in EVENTS if spec.verb not in (None, "dispute"))
    ],
]  # fmt: skip


def _cases() -> list[tuple[str, list[str], str]]:
    cases = []
    for cmd in DB_COMMANDS:
        for db, needle in BAD_DBS.items():
            cases.append((f"{' '.join(cmd[:2])} --db {db}", [*cmd, "--db", f"{{ws}}/{db}"], needle))
    for kind in CSV_IMPORTS:
        for name in BAD_CSVS:
            cases.append((f"import {kind} {name}", ["import", kind, f"{{ws}}/{name}", *GOOD], name))
    for cmd in POLICY_COMMANDS:
        for name in BAD_POLICIES:
            args = [a.replace("{file}", f"{{ws}}/{name}") for a in cmd]
            cases.append((f"{' '.join(cmd[:2])} {name}", args, name))
    for args, needle in VALUES:
        cases.append((" ".join(a for a in args if "{ws}" not in a)[:60], args, needle))
    return cases


CASES = _cases()


@pytest.mark.parametrize(("args", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_input_gets_a_located_error_and_changes_nothing(ws, args, needle):
    before = snapshot(ws)
    result = _cli([a.format(ws=ws) for a in args])
    out = result.output
    assert "Traceback" not in out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (1, 2), out
    assert "error" in out.lower(), out
    assert needle in out, out
    assert "unexpected failure" not in out, out
    assert snapshot(ws) == before


def test_the_corpus_covers_every_command():
    """A new command joins the corpus: each one is tried with at least one broken input."""
    import typer.main

    def leaves(command, prefix=()):
        subs = getattr(command, "commands", None)
        if not subs:
            yield " ".join(prefix)
            return
        for name, sub in subs.items():
            yield from leaves(sub, (*prefix, name))

    every = set(leaves(typer.main.get_command(app)))
    tried = set()
    for _id, args, _needle in CASES:
        for n in (3, 2, 1):
            if " ".join(args[:n]) in every:
                tried.add(" ".join(args[:n]))
                break
    untried = (
        every - tried - {"demo", "policy facts", "letters config-example", "letters templates"}
    )
    assert untried == set(), f"commands without a broken-input case: {sorted(untried)}"
