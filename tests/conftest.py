"""Shared fixtures: every database test runs on SQLite and, when a server is given, PostgreSQL.

Set `MAHNWERK_TEST_PG_URL` (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
to add the PostgreSQL runs.  Each PostgreSQL test gets its own schema, reached
through the URL itself (`?options=-csearch_path=<schema>`), so code under test
that only receives a URL string (`init_db`, the CLI) lands in that schema too;
the schema is dropped afterwards.
"""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool


def _use_mutmut_mutants() -> None:
    """Under `mutmut run`, make `mahnwerk.engine.X` the mutated copy in `mutants/engine/X.py`.

    mutmut names each mutant by its file path (`engine/limitation.py` becomes
    `engine.limitation`) and puts `mutants/` first on `sys.path`; the installed package
    maps the same file to `mahnwerk.engine.limitation` (package-dir in pyproject.toml),
    which would load the unmutated original.  Aliasing the mutated modules under the
    package name lets the tests exercise the mutants.  Outside mutmut this does nothing.
    """
    if "mutmut" not in sys.modules or Path.cwd().name != "mutants":
        return
    for path in sorted((Path.cwd() / "engine").glob("*.py")):
        if path.stem != "__init__":
            module = importlib.import_module(f"engine.{path.stem}")
            sys.modules[f"mahnwerk.engine.{path.stem}"] = module


_use_mutmut_mutants()

from mahnwerk.engine.db import init_db, make_engine, normalize_url  # noqa: E402

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
