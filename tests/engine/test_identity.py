"""D8 four eyes by name: variants of one name are one person, the machine's names nobody's.

Every place a person's name is taken goes through `identity.person`, and the
four-eyes count compares by `identity_key`: these tests drive the public
functions (approvals, bank, events, the TUI's start) on a real SQLite file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from mahnwerk.engine.identity import (
    MACHINE_ACTORS,
    IdentityError,
    identity_key,
    person,
    same_person,
)

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "variant",
    [
        "A.Operator",
        "a.operator ",
        "  a.operator",
        "a.\u200boperator",  # zero-width space
        "a.oper\u00adator",  # soft hyphen
        "\ufeffa.operator",  # byte-order mark
        "a.operator\u2060",  # word joiner
        "\uff41.operator",  # full-width a (NFKC)
        "A.OPERATOR\u200d",  # zero-width joiner
    ],
)
def test_variants_of_a_name_are_the_same_person(variant: str) -> None:
    assert same_person("a.operator", variant)
    assert identity_key(variant) == "a.operator"


def test_different_people_stay_different() -> None:
    assert not same_person("anna.schulz", "anna.schultz")
    assert not same_person("Anna Berg", "AnnaBerg")  # a visible blank is part of the name
    assert same_person("Anna  Berg", "Anna Berg")  # but two blanks read as one


def test_the_name_is_kept_as_written_only_cleaned() -> None:
    assert person("  Anna\u200b Berg ") == "Anna Berg"
    assert person("Petra Vogel") == "Petra Vogel"


@pytest.mark.parametrize(
    "name", ["engine", "dispatch", "Engine", " DISPATCH ", "en\u200bgine", "run", "import"]
)
def test_machine_names_are_refused(name: str) -> None:
    with pytest.raises(IdentityError, match="reserved for mahnwerk's own entries"):
        person(name)


@pytest.mark.parametrize("name", ["", "   ", "\u200b\u200b", "\ufeff"])
def test_an_invisible_name_names_nobody(name: str) -> None:
    with pytest.raises(IdentityError, match="names nobody"):
        person(name, "--by NAME")


def test_every_actor_the_machine_writes_is_reserved() -> None:
    """The actors the engine, dispatcher, runner, importers and demo write themselves."""
    assert {"engine", "dispatch", "run", "import", "bank-import", "demo"} <= MACHINE_ACTORS


def test_events_refuse_a_machine_name(tmp_path) -> None:
    from mahnwerk.engine.store import invoices as queries
    from mahnwerk.engine.store.db import init_db, make_engine

    url = f"sqlite:///{tmp_path / 'm.db'}"
    init_db(url)
    engine = make_engine(url)
    with pytest.raises(IdentityError):
        queries.record_event(engine, "R1", "hold", date(2026, 4, 1), "engine", NOW)
    with pytest.raises(IdentityError):
        queries.record_customer_event(engine, "K1", "insolvency", date(2026, 4, 1), "\u200b", NOW)


def test_the_tui_refuses_a_machine_name_as_operator(tmp_path) -> None:
    from mahnwerk.engine.store.db import init_db, make_engine
    from mahnwerk.tui.app import MahnwerkApp

    url = f"sqlite:///{tmp_path / 'm.db'}"
    init_db(url)
    engine = make_engine(url)
    with pytest.raises(IdentityError, match="reserved"):
        MahnwerkApp(engine, "dispatch", date(2026, 4, 1), lambda: NOW)
    app = MahnwerkApp(engine, " anna\u200b ", date(2026, 4, 1), lambda: NOW)
    assert app.ctx.operator == "anna"


# --- as a user types it -------------------------------------------------------------------

BANK = Path(__file__).parents[1] / "data" / "bank"


def _cli(db: str, *args: object, code: int = 0):
    from typer.testing import CliRunner

    from mahnwerk.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args] + ["--db", db])
    assert result.exit_code == code, (args, result.output)
    return result


def _login(db_url: str) -> str:
    from mahnwerk.engine.store.db import make_engine
    from mahnwerk.service.identity import login

    engine = make_engine(db_url)
    try:
        return login(engine)[1]
    finally:
        engine.dispose()


def test_bank_assign_and_dismiss_refuse_machine_names(db_url: str) -> None:
    import json

    _cli(db_url, "init")
    _cli(db_url, "import", "customers", BANK / "book" / "kunden.csv")
    _cli(db_url, "import", "invoices", BANK / "book" / "rechnungen.csv")
    _cli(db_url, "import", "bank", BANK / "own" / "camt053_de_cases.xml")
    queue = json.loads(_cli(db_url, "bank", "unmatched", "--json").output)
    braun, _, returned = (q["id"] for q in queue)
    refused = _cli(db_url, "bank", "assign", braun, "R2026000105", "--by", "Dispatch", code=1)
    assert "'Dispatch' is reserved for mahnwerk's own entries" in refused.output
    refused = _cli(db_url, "bank", "dismiss", returned, "--reason", "x", "--by", "engine", code=1)
    assert "reserved" in refused.output
    me = _login(db_url)  # the proven login, typed with a zero-width space and blanks
    done = _cli(db_url, "bank", "assign", braun, "R2026000105", "--by", f" {me}\u200b ").output
    assert "45.00 to R2026000105" in done
    entry = json.loads(_cli(db_url, "bank", "unmatched", "--json").output)
    assert braun not in [q["id"] for q in entry]
