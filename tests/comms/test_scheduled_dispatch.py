"""The scheduler's dispatch job sends over real SMTP, and only inside the dispatch window
in the policy's time zone (`[schedule] dispatch_windows`, local time of the policy).

The policy here keeps New York time, so its 08:00-18:00 window is 12:00-22:00 UTC in May:
an instant inside the window in Berlin or in UTC but not in New York sends nothing, and
one inside it only in New York sends. The scheduler runs in-process with an injected
clock, against aiosmtpd (see conftest) and the database of the `engine` fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mahnwerk.engine.policies import deploy
from mahnwerk.service.scheduler import Scheduler, load_schedule

from .helpers import PASSWORD, write_config

POLICY = Path(__file__).resolve().parents[2] / "policies" / "de_b2c_standard.mahn"
SCHEDULE = """
[schedule]
jobs = ["dispatch"]
dispatch_windows = ["08:00-18:00"]
"""


def _at(hour: int, minute: int = 0, day: int = 4) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=UTC)  # 4 May 2026 is a Monday


@pytest.fixture
def new_york_policy(engine, tmp_path):  # type: ignore[no-untyped-def]
    source = POLICY.read_text(encoding="utf-8")
    assert 'timezone "Europe/Berlin"' in source
    policy = tmp_path / "new_york.mahn"
    policy.write_text(source.replace('timezone "Europe/Berlin"', 'timezone "America/New_York"'))
    deploy(engine, policy, _at(6))
    return policy


def test_dispatch_runs_only_inside_the_window_in_the_policys_time_zone(
    engine, seed, smtp_server, tmp_path, monkeypatch, new_york_policy
):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAHNWERK_SMTP_PASSWORD", PASSWORD)
    config = write_config(tmp_path / "mahnwerk.toml", smtp_server, extra=SCHEDULE)
    schedule = load_schedule(config)
    c = seed.customer("K1")
    seed.queue(seed.invoice(c, "R1", state="erinnerung"), c, "zahlungserinnerung", "email",
               state="erinnerung")  # fmt: skip
    clock = [_at(10, 30)]  # 12:30 in Berlin, 10:30 UTC, 06:30 in New York
    scheduler = Scheduler(engine, schedule, lambda: clock[0], "test")

    assert scheduler.tick() == []
    assert smtp_server.box.messages == []
    assert [r.status for r in seed.outbox().values()] == ["queued"]

    clock[0] = _at(20, 30)  # 22:30 in Berlin, 20:30 UTC, 16:30 in New York
    [ran] = scheduler.tick()
    assert ran.startswith("dispatch 2026-05-04:")
    [mail] = smtp_server.box.to("erika@example.org")
    assert mail["Subject"] == "Ihre Rechnung R1"
    assert [r.status for r in seed.outbox().values()] == ["sent"]

    # queued after the window closed (18:30 in New York): it waits for the next morning
    seed.queue(seed.invoice(c, "R2", state="erinnerung"), c, "zahlungserinnerung", "email",
               state="erinnerung")  # fmt: skip
    clock[0] = _at(22, 30)
    assert scheduler.tick() == []
    clock[0] = _at(11, 55, day=5)  # 07:55 in New York
    assert scheduler.tick() == []
    assert len(smtp_server.box.messages) == 1
    clock[0] = _at(12, 5, day=5)  # 08:05 in New York
    assert len(scheduler.tick()) == 1
    assert len(smtp_server.box.messages) == 2
    assert [r.status for r in seed.outbox().values()] == ["sent", "sent"]
