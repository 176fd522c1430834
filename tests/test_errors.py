"""One error base and one boundary: every expected failure is a sentence, never a traceback.

`MahnwerkError` is the base of every exception class mahnwerk raises for a person to read;
the CLI catches it once (`app/boundary.py`) and prints `error: <what> — <what to do>` with
exit code 1 (2 for a malformed command line).  `--debug` adds the traceback.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.errors import MahnwerkError

POLICY = Path(__file__).resolve().parent.parent / "policies" / "de_b2c_standard.mahn"
MODULES = [
    "mahnwerk.dsl.errors",
    "mahnwerk.dsl.expr",
    "mahnwerk.dsl.expr_parse",
    "mahnwerk.dsl.expr_values",
    "mahnwerk.engine.approvals",
    "mahnwerk.engine.bank.entries",
    "mahnwerk.engine.bank.store",
    "mahnwerk.engine.bank.booking",
    "mahnwerk.engine.comms.config",
    "mahnwerk.engine.comms.mail",
    "mahnwerk.engine.comms.templates",
    "mahnwerk.engine.store.db",
    "mahnwerk.engine.explain",
    "mahnwerk.engine.fees",
    "mahnwerk.engine.history",
    "mahnwerk.engine.importer",
    "mahnwerk.engine.import_cells",
    "mahnwerk.engine.import_table",
    "mahnwerk.engine.event_import",
    "mahnwerk.engine.policies",
    "mahnwerk.engine.privacy",
    "mahnwerk.engine.privacy_rules",
    "mahnwerk.engine.store.invoices",
    "mahnwerk.engine.rates",
    "mahnwerk.engine.reports",
    "mahnwerk.engine.store.screens",
]


def _own_exceptions() -> list[type[BaseException]]:
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == name:
                found.append(obj)
    return found


def test_every_exception_class_of_mahnwerk_derives_from_the_one_base():
    classes = _own_exceptions()
    assert len(classes) >= 23
    strays = [
        f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, MahnwerkError)
    ]
    assert strays == []


def test_the_base_renders_what_and_what_to_do():
    err = MahnwerkError("kunden.csv: no such file", hint="check the path")
    assert err.cli_text() == "error: kunden.csv: no such file — check the path"
    assert err.exit_code == 1


runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def book(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "book.db"
    assert invoke("init", "--db", str(db)).exit_code == 0
    return db


def test_run_with_two_workers_on_sqlite_is_a_usage_error_without_traceback(book):
    assert invoke("policy", "deploy", str(POLICY), "--yes", "--db", str(book)).exit_code == 0
    result = invoke("run", "--as-of", "2026-03-02", "--workers", "2", "--db", str(book))
    assert result.exit_code == 2
    assert "error: --workers 2: several workers need PostgreSQL" in result.output
    assert "run with --workers 1" in result.output


def test_a_missing_database_is_named_and_not_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("invoices", "--db", "nowhere.db")
    assert result.exit_code == 1
    assert f"{tmp_path / 'nowhere.db'}: no such database" in result.output
    assert "mahnwerk init" in result.output
    assert list(tmp_path.iterdir()) == []  # no empty 4 KB file left behind


def test_a_file_that_is_not_a_database_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.db").write_text("Einkaufsliste: Milch, Brot\n" * 200)
    result = invoke("invoices", "--db", "notes.db")
    assert result.exit_code == 1
    assert f"{tmp_path / 'notes.db'}: the file is not an SQLite database" in result.output


def test_deploying_a_missing_or_non_utf8_policy_names_the_file(book, tmp_path):
    result = invoke("policy", "deploy", "gone.mahn", "--db", str(book))
    assert result.exit_code == 1
    assert "gone.mahn:1:1: error: cannot read the policy" in result.output
    latin = tmp_path / "latin1.mahn"
    latin.write_bytes(POLICY.read_text(encoding="utf-8").replace("#", "# Gebühr ").encode("cp1252"))
    result = invoke("policy", "deploy", str(latin), "--db", str(book))
    assert result.exit_code == 1
    assert f"{latin}:" in result.output and "not UTF-8" in result.output


def test_init_where_nothing_can_be_written_says_so(tmp_path):
    result = invoke("init", "--db", str(tmp_path / "no" / "such" / "folder" / "x.db"))
    assert result.exit_code == 1
    assert "x.db: the database file cannot be opened" in result.output
    assert not (tmp_path / "no").exists()


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(book, tmp_path):
    """A bug (here: a policy file that makes the reader fail in a way nobody expected) is
    reported as a bug; `--debug` shows where."""
    env = {**os.environ, "MAHNWERK_DB": str(book)}
    code = (
        "import sys, mahnwerk.cli as c\n"
        "def boom(*a, **k):\n    raise ZeroDivisionError('division by zero')\n"
        "c.list_invoices = boom\n"
        "import mahnwerk.engine.store.invoices as q; q.list_invoices = boom\n"
        "sys.argv = ['mahnwerk'] + sys.argv[1:]\n"
        "c.app()\n"
    )
    plain = subprocess.run(
        [sys.executable, "-c", code, "invoices"], capture_output=True, text=True, env=env
    )
    assert plain.returncode == 1
    assert "Traceback" not in plain.stderr
    assert "error: unexpected failure (ZeroDivisionError: division by zero)" in plain.stderr
    assert "--debug" in plain.stderr
    debug = subprocess.run(
        [sys.executable, "-c", code, "--debug", "invoices"], capture_output=True, text=True, env=env
    )
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "ZeroDivisionError" in debug.stderr
