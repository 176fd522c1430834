"""Fixtures of the portal tests: one world for the session (building it takes seconds).

Tests touch disjoint customers: the browser story K-1, the others K-2."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from portal_book import World, build


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    made = build(tmp_path_factory.mktemp("portal"))
    made.start()
    yield made
    made.stop()
