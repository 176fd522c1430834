"""Fixtures of the service tests: an initialised database and a started server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_harness import Receiver, Server, start_server, token

from mahnwerk.engine.store.db import init_db


@pytest.fixture
def store(db_url: str) -> str:
    init_db(db_url)
    return db_url


@pytest.fixture
def server(store: str, tmp_path: Path) -> Iterator[Server]:
    running = start_server(store, tmp_path, "--no-schedule")
    yield running
    running.stop()


@pytest.fixture
def admin(store: str) -> str:
    return token(store, "admin")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    yield hooks
    hooks.stop()
