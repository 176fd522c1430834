"""Shared fixtures: every database test runs on SQLite and, when a server is given, PostgreSQL.

Set `MAHNWERK_TEST_PG_URL` (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
to add the PostgreSQL runs.  Each PostgreSQL test gets its own schema, reached
through the URL itself (`?options=-csearch_path=<schema>`), so code under test
that only receives a URL string (`init_db`, the CLI) lands in that schema too;
the schema is dropped afterwards.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

# Hypothesis's 200 ms deadline per example measures the machine, not the code: on CI's two
# shared cores an example that first imports a holiday calendar took 474 ms, and the D1/D2
# property failed although every moment it chose was right.  Properties keep their example
# budgets; only the wall-clock deadline goes.
settings.register_profile("mahnwerk", deadline=None)
settings.load_profile("mahnwerk")


class _MutantLoader(importlib.abc.Loader):
    """Hands out a module that is already loaded (the mutated copy) under a second name."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        """Already executed when it was imported under its mutmut name."""


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Under `mutmut run`, `mahnwerk.X.Y` is the mutated copy `mutants/X/Y.py` where one exists.

    mutmut names each mutant by its file path (`engine/bank/matching.py` becomes
    `engine.bank.matching`) and switches a mutant on only inside a module of that name; the
    installed package maps the same file to `mahnwerk.engine.bank.matching` (package-dir in
    pyproject.toml), which would load the unmutated original.  This finder, first on the meta
    path before anything of ours is imported, imports the mutated file under mutmut's name and
    hands that one module out under the package name too, whatever imports it first and in
    whatever order, so no second, unmutated copy can be called by the code under test.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        head, _, short = fullname.partition(".")
        if head != "mahnwerk" or not short:
            return None
        if not (self.root / (short.replace(".", "/") + ".py")).is_file():
            return None
        return importlib.util.spec_from_loader(
            fullname, _MutantLoader(importlib.import_module(short))
        )


def _use_mutmut_mutants() -> None:
    """Outside `mutmut run` (which runs the tests inside `mutants/`) this does nothing."""
    if "mutmut" in sys.modules and Path.cwd().name == "mutants":
        sys.meta_path.insert(0, _MutantFinder(Path.cwd()))


_use_mutmut_mutants()

from mahnwerk.engine.store.db import init_db, make_engine, normalize_url  # noqa: E402

PG_ENV = "MAHNWERK_TEST_PG_URL"
PG_SKIP = f"{PG_ENV} not set: PostgreSQL tests need a server"
DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    """The sample CSV files in tests/data."""
    return DATA


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mahnwerk.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(base), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalize_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # Don't hang forever on a connection a test left inside a transaction.
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to the newest schema (by `init_db`)."""
    init_db(db_url)
    eng = make_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()
