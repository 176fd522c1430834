"""The daily cycle that runs itself: drop-folder import, the run, dispatch, weekly analyse.

`mahnwerk serve` ticks this scheduler every `tick` seconds (or `mahnwerk scheduler`
alone). Each job is *due* by a rule over the stored state, never by an in-memory
timer, so a server that was down catches up on start:

* `import`   — every tick: each file in the drop folder is imported whole
  (customers*/kunden*, invoices*/rechnungen*, payments*/zahlungen*, events*.csv;
  camt `.xml` and MT940 `.sta/.940/.mt940` as bank statements) and moved to `done/`,
  or to `failed/` next to a `.error.txt` saying why.
* `run`      — once per day after `run_at` in the policy's time zone. The day due
  is today once `run_at` has passed, else yesterday; if the last run (from the `run`
  table, whoever started it) is older, *one* run for that day catches up every missed
  day — the engine dates each rule on its own day, so one run over three missed days
  ends where three daily runs would (README, "Catch-up").
* `dispatch` — every tick inside a dispatch window (local time, e.g. 08:00-18:00).
* `analyse`  — once a week, on `analyse_on` (default Monday) or the first tick after.

Exactly one process runs a job at a time: on PostgreSQL a session advisory lock per
job (`pg_try_advisory_lock`), which the database frees when a killed process's
connection drops, so another server takes the job over on its next tick; on SQLite a
lease on the job's `schedule_job` row. Under the lock the job's due rule is checked
again, so two servers waking at the same second run the day once.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from mahnwerk.dsl.statute import BERLIN
from mahnwerk.engine.store import schedule as store

log = logging.getLogger("mahnwerk.scheduler")
LEASE = timedelta(minutes=30)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DROP_KINDS = (
    ("customers", ("customers", "kunden")),
    ("invoices", ("invoices", "rechnungen")),
    ("payments", ("payments", "zahlungen")),
    ("events", ("events", "ereignisse")),
)
BANK_SUFFIXES = (".xml", ".sta", ".940", ".mt940")


class ScheduleError(ValueError):
    """A bad `[schedule]` section: names the key and what to write."""


@dataclass(frozen=True)
class Schedule:
    run_at: time = time(6, 0)
    timezone: str | None = None  # None: the time zone of the active policy
    drop_folder: Path | None = None
    windows: tuple[tuple[time, time], ...] = ((time(8, 0), time(18, 0)),)
    analyse_on: int = 0
    config: Path | None = None  # mahnwerk.toml, for dispatch settings
    tick: float = 30.0
    jobs: tuple[str, ...] = ("import", "run", "dispatch", "analyse")


def _clock_time(value: Any, key: str, file: Path) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ScheduleError(
            f'{file}: [schedule] {key} = {value!r}: write HH:MM, e.g. "06:00"'
        ) from None


def load_schedule(file: Path | None) -> Schedule:
    """The `[schedule]` section of mahnwerk.toml (every key optional)."""
    if file is None or not file.is_file():
        return Schedule(config=None)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8")).get("schedule", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScheduleError(
            f"{file}: not a TOML file ({exc}); fix the [schedule] section"
        ) from None
    windows = []
    for item in data.get("dispatch_windows", ["08:00-18:00"]):
        start, _, end = str(item).partition("-")
        windows.append(
            (
                _clock_time(start, "dispatch_windows", file),
                _clock_time(end, "dispatch_windows", file),
            )
        )
    day = str(data.get("analyse_on", "monday")).lower()
    if day not in WEEKDAYS:
        raise ScheduleError(f"{file}: [schedule] analyse_on = {day!r}: write a weekday in English")
    folder = data.get("drop_folder")
    if "timezone" in data:
        try:
            ZoneInfo(str(data["timezone"]))
        except (KeyError, ValueError):
            raise ScheduleError(
                f"{file}: [schedule] timezone: unknown zone {data['timezone']!r}"
            ) from None
    return Schedule(
        run_at=_clock_time(data.get("run_at", "06:00"), "run_at", file),
        timezone=data.get("timezone"),
        drop_folder=(file.parent / folder) if folder else None,
        windows=tuple(windows),
        analyse_on=WEEKDAYS.index(day),
        config=file,
        tick=float(data.get("tick_seconds", 30)),
        jobs=tuple(data.get("jobs", Schedule.jobs)),
    )


def lock_key(job: str, schema: str = "public") -> int:
    """The PostgreSQL advisory-lock key of a job in a schema (advisory locks are per database,
    so two mahnwerk schemas in one database must not share keys)."""
    digest = hashlib.sha256(f"mahnwerk:{schema}:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass
class Scheduler:
    engine: Engine
    schedule: Schedule
    clock: Callable[[], datetime]
    name: str = "scheduler"
    done: list[str] = field(default_factory=list)

    # -- when ------------------------------------------------------------------

    def zone(self) -> ZoneInfo:
        if self.schedule.timezone:
            return ZoneInfo(self.schedule.timezone)
        from mahnwerk.engine.policies import PolicySet

        try:
            return ZoneInfo(PolicySet.load(self.engine).deployments[0].compiled.policy.timezone)
        except LookupError:
            return BERLIN

    def run_day(self, local: datetime) -> date:
        """The business day whose run is due: today once `run_at` passed, else yesterday."""
        today = local.date()
        return today if local.time() >= self.schedule.run_at else today - timedelta(days=1)

    def _last_run(self) -> date | None:
        return store.last_run(self.engine)

    # -- the tick --------------------------------------------------------------

    def tick(self) -> list[str]:
        """Run every job that is due now; returns what ran (for logs and tests)."""
        now = self.clock()
        local = now.astimezone(self.zone())
        ran = []
        for job in self.schedule.jobs:
            check, work = JOBS[job]
            with self._exclusively(job, now) as mine:
                if not mine:
                    continue
                due = check(self, local)
                if due is None:
                    continue
                result = work(self, due, now)
                self._finished(job, due, now, result)
                ran.append(f"{job} {due}: {result}")
                log.info("%s: %s %s: %s", self.name, job, due, result)
        self.done.extend(ran)
        return ran

    @contextmanager
    def _exclusively(self, job: str, now: datetime) -> Iterator[bool]:
        self._ensure_row(job)
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                key = lock_key(job, store.current_schema(conn))
                got = store.try_advisory_lock(conn, key)
                conn.commit()
                try:
                    yield bool(got)
                finally:
                    if got:
                        store.advisory_unlock(conn, key)
                        conn.commit()
            return
        with self.engine.begin() as conn:
            got = store.take_lease(conn, job, now, now + LEASE, self.name)
        try:
            yield bool(got)
        finally:
            if got:
                with self.engine.begin() as conn:
                    store.give_back_lease(conn, job)

    def _ensure_row(self, job: str) -> None:
        if store.has_job(self.engine, job):
            return
        try:
            with self.engine.begin() as conn:
                store.add_job(conn, job)
        except IntegrityError:
            pass  # another process made it

    def _job(self, job: str) -> Any:
        return store.job(self.engine, job)

    def _finished(self, job: str, day: date, now: datetime, result: str) -> None:
        with self.engine.begin() as conn:
            store.finished(
                conn,
                job,
                last_day=day,
                last_started_at=now,
                last_finished_at=self.clock(),
                last_result=result[:2000],
                runner=self.name,
            )

    # -- due rules -------------------------------------------------------------

    def due_import(self, local: datetime) -> date | None:
        folder = self.schedule.drop_folder
        if folder is None or not folder.is_dir():
            return None
        return local.date() if any(p.is_file() for p in folder.iterdir()) else None

    def due_run(self, local: datetime) -> date | None:
        day = self.run_day(local)
        last = self._last_run()
        return day if last is None or last < day else None

    def due_dispatch(self, local: datetime) -> date | None:
        if self.schedule.config is None:
            return None
        now = local.time()
        inside = any(a <= now < b for a, b in self.schedule.windows)
        return local.date() if inside else None

    def due_analyse(self, local: datetime) -> date | None:
        today = local.date()
        this_week = today - timedelta(days=today.weekday() - self.schedule.analyse_on)
        if today < this_week:
            this_week -= timedelta(days=7)
        job = self._job("analyse")
        if job is not None and job.last_day is not None and job.last_day >= this_week:
            return None
        return today if self._last_run() is not None else None

    # -- the work --------------------------------------------------------------

    def do_run(self, day: date, now: datetime) -> str:
        from mahnwerk.engine.policies import PolicySet
        from mahnwerk.engine.runner import run

        try:
            policies = PolicySet.load(self.engine)
        except LookupError as exc:
            return f"skipped: {exc}"
        stats = run(self.engine, day, policies, now).as_dict()
        return (
            f"{stats['checked']} checked, {stats['transitions']} transitions, "
            f"{stats['approvals']} approvals requested"
        )

    def do_dispatch(self, day: date, now: datetime) -> str:
        from mahnwerk.engine.comms.config import ConfigError, load_settings
        from mahnwerk.engine.comms.dispatch import dispatch

        try:
            settings = load_settings(self.schedule.config)
        except ConfigError as exc:
            return f"skipped: {exc}"
        return str(dispatch(self.engine, settings, now).as_dict())

    def do_analyse(self, day: date, now: datetime) -> str:
        from mahnwerk.engine.analyse import analyse

        last = self._last_run() or day
        result = analyse(self.engine, last, now)
        return f"analysed as of {last}: {getattr(result, 'customers', '')}".strip()

    def do_import(self, day: date, now: datetime) -> str:
        folder = self.schedule.drop_folder
        assert folder is not None
        files = sorted(p for p in folder.iterdir() if p.is_file())
        done = [_import_one(self.engine, path, now) for path in sorted(files, key=_order)]
        return "; ".join(done)


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if path.suffix.lower() in BANK_SUFFIXES:
        return "bank"
    if path.suffix.lower() != ".csv":
        return None
    return next((kind for kind, prefixes in DROP_KINDS if name.startswith(prefixes)), None)


def _order(path: Path) -> tuple[int, str]:
    order = [k for k, _ in DROP_KINDS] + ["bank"]
    kind = _kind(path)
    return (order.index(kind) if kind in order else len(order), path.name)


def _import_one(engine: Engine, path: Path, now: datetime) -> str:
    """Import one dropped file and move it to done/ or failed/ (with the reason beside it)."""
    from mahnwerk.engine.bank import StatementError, import_statement
    from mahnwerk.engine.event_import import ImportFailed as EventsFailed
    from mahnwerk.engine.event_import import import_events
    from mahnwerk.engine.importer import ImportFailed, import_file

    kind = _kind(path)
    try:
        if kind is None:
            raise ValueError(
                "unknown file: name it customers*.csv, invoices*.csv, payments*.csv, "
                "events*.csv, or give a bank statement .xml/.sta"
            )
        if kind == "bank":
            result: Any = import_statement(engine, path, now=now, actor="scheduler")
        elif kind == "events":
            result = import_events(engine, path, actor="scheduler")
        else:
            result = import_file(engine, kind, path, actor="scheduler", now=now)  # type: ignore[arg-type]
    except (ImportFailed, EventsFailed, StatementError, ValueError) as exc:
        target = path.parent / "failed"
        target.mkdir(exist_ok=True)
        (target / f"{path.name}.error.txt").write_text(str(exc) + "\n", encoding="utf-8")
        shutil.move(path, target / path.name)
        return f"{path.name}: failed (see failed/{path.name}.error.txt)"
    target = path.parent / "done"
    target.mkdir(exist_ok=True)
    shutil.move(path, target / path.name)
    return f"{path.name}: {result}"


JOBS: dict[
    str,
    tuple[Callable[[Scheduler, datetime], date | None], Callable[[Scheduler, date, datetime], str]],
] = {
    "import": (Scheduler.due_import, Scheduler.do_import),
    "run": (Scheduler.due_run, Scheduler.do_run),
    "dispatch": (Scheduler.due_dispatch, Scheduler.do_dispatch),
    "analyse": (Scheduler.due_analyse, Scheduler.do_analyse),
}
