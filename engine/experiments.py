"""Champion/challenger: a challenger policy duns a random share of the champion's customers.

An experiment names the **champion** (a deployed policy: what these customers get today)
and the **challenger** (a policy file, stored as an inactive `policy_version`).  Every
customer the champion serves — and, with `--for`, only those for whom the condition
holds — is enrolled in one arm, once and for good (`experiment_assignment`):

* **Random and reproducible.**  The arm follows from a keyed hash (HMAC-SHA256) of the
  customer number with the experiment's secret key: the same customer lands in the same
  arm in every run and process, and nobody can steer a customer into an arm by its number.
* **Stratified by segment.**  At the start, the customers of each segment of the
  champion are ranked by their hash and the first `round(share × n)` of each segment go to
  the challenger, so every segment holds the share exactly.  A customer first seen later
  (a run's intake) joins the challenger when its hash, read as a number in [0, 1), is
  below the share — the share per segment then holds in expectation.
* **Never switched.**  A recorded assignment is never rewritten, and a customer
  enrolled in one running experiment is not enrolled in another.

Routing (`PolicySet.for_customer`): the challenger arm's invoices — new ones and those
in flight — are stepped by the challenger; the champion arm follows the deployments as
they are.  An in-flight invoice changes policy at its next step by the segment-move rule
the deploys use (`engine/segment_moves.py`), so nothing is sent or charged twice, and
the legal guards are those of the step itself, the same in both arms.

Enrolment stops at `--until DATE` or after `--until-customers N`; the arms keep their
policies until the experiment is promoted (the challenger deployed through the reviewed
deploy) or stopped (its customers go back to the champion at their next step).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import compile_source, read_policy_source
from mahnwerk.dsl.expr import EvalError, Expr, evaluate
from mahnwerk.dsl.segments import select_segment
from mahnwerk.engine.state import Customer
from mahnwerk.engine.store import experiments as store
from mahnwerk.engine.store import policies as versions
from mahnwerk.errors import MahnwerkError

CHAMPION, CHALLENGER = "champion", "challenger"


class ExperimentError(MahnwerkError):
    """An experiment that cannot be started, found, promoted or stopped as asked."""


def parse_share(text: str) -> Decimal:
    """`10%`, `10 %`, `0.1` or `0,1` as a fraction strictly between 0 and 1."""
    raw = text.strip().replace(",", ".")
    percent = raw.endswith("%")
    try:
        value = Decimal(raw.rstrip("%").strip())
    except InvalidOperation:
        value = Decimal(-1)
    if percent:
        value /= 100
    if not (0 < value < 1):
        raise ExperimentError(
            f"--share {text!r}: the challenger's share must lie between 0 and 100 %",
            "write e.g. --share 10%",
        )
    return value.quantize(Decimal("0.0001"))


def unit(key: str, customer: str, purpose: str = "arm") -> float:
    """The customer's keyed hash as a number in [0, 1): the same in every process."""
    digest = hmac.new(key.encode(), f"{purpose}:{customer}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Running:
    """A running experiment as routing and enrolment need it."""

    id: int
    name: str
    key: str
    share: Decimal
    champion_name: str
    challenger_version_id: int
    condition: Expr | None
    until_on: date | None
    until_customers: int | None
    enrolled: int = 0

    def enrolling(self, day: date) -> bool:
        if self.until_on is not None and day > self.until_on:
            return False
        return self.until_customers is None or self.enrolled < self.until_customers


@dataclass
class Arms:
    """The running experiments, and the customers (by number) each arm holds."""

    running: list[Running] = field(default_factory=list)
    challenger: dict[str, int] = field(default_factory=dict)  # customer -> policy version
    enrolled: set[str] = field(default_factory=set)


def load(conn: Connection) -> Arms:
    """The running experiments and their assignments (read with the deployments)."""
    from mahnwerk.engine.policies import _parse_for

    arms = Arms()
    by_id: dict[int, Running] = {}
    for row in store.running(conn):
        by_id[row.id] = Running(
            row.id, row.name, row.key, Decimal(row.share), row.champion_name,
            row.challenger_version_id, _parse_for(row.applies_to, f"experiment {row.name}"),
            row.until_on, row.until_customers,
        )  # fmt: skip
    if not by_id:
        return arms
    arms.running = list(by_id.values())
    for row in store.assignments(conn, list(by_id)):
        exp = by_id[row.experiment_id]
        exp.enrolled += 1
        arms.enrolled.add(row.external_id)
        if row.arm == CHALLENGER:
            arms.challenger[row.external_id] = exp.challenger_version_id
    return arms


def _stratum(policies: Any, exp: Running, customer: Customer) -> str | None:
    """The champion's segment of an eligible customer; None when it is not eligible."""
    try:
        _vid, compiled = policies.deployed_for(customer)
    except LookupError:
        return None
    if compiled.name != exp.champion_name:
        return None
    facts = customer.facts()
    if exp.condition is not None:
        try:
            if not evaluate(exp.condition, facts):
                return None
        except EvalError:
            return None
    return select_segment(compiled.policy, facts).segment.name


def enrol_new(conn: Connection, policies: Any, customers: Mapping[int, Customer], day: date) -> int:
    """Enrol customers a run meets for the first time; returns how many were enrolled."""
    arms: Arms = policies.arms
    rows = []
    for cid, cust in customers.items():
        if cust.id in arms.enrolled:
            continue
        for exp in arms.running:
            if not exp.enrolling(day):
                continue
            segment = _stratum(policies, exp, cust)
            if segment is None:
                continue
            arm = CHALLENGER if unit(exp.key, cust.id) < exp.share else CHAMPION
            rows.append(dict(experiment_id=exp.id, customer_id=cid, arm=arm, segment=segment,
                             assigned_on=day))  # fmt: skip
            exp.enrolled += 1
            arms.enrolled.add(cust.id)
            if arm == CHALLENGER:
                arms.challenger[cust.id] = exp.challenger_version_id
            break
    if rows:
        store.add_assignments(conn, rows)
    return len(rows)


# ---------------------------------------------------------------------------
# Starting, stopping, promoting
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    name: str
    champion: str
    challenger: str
    counts: dict[tuple[str, str], int]  # (segment, arm) -> customers


def _find_policy(conn: Connection, text: str) -> Any:
    """The active deployment named `text`, or the active version of the policy in file `text`."""
    row = versions.active_version(conn, text)
    if row is not None:
        return row
    path = Path(text)
    if not path.is_file():
        raise ExperimentError(
            f"--champion {text!r}: no deployed policy of that name and no such file",
            "name a deployed policy (mahnwerk policy deploy) or its file",
        )
    compiled = compile_source(read_policy_source(path), str(path))
    row = versions.active_version(conn, compiled.name)
    if row is None or row.sha256 != compiled.sha256:
        raise ExperimentError(
            f"--champion {text}: policy {compiled.name!r} version {compiled.policy.version} "
            "is not the deployed one",
            "the champion is what the customers get today: deploy it first, or name the "
            "deployed policy",
        )
    return row


def _store_challenger(conn: Connection, path: Path, now: datetime) -> int:
    """The challenger as an inactive policy version (the one already stored, if identical)."""
    if not path.is_file():
        raise ExperimentError(f"--challenger {path}: no such file", "give the policy file")
    source = read_policy_source(path)
    compiled = compile_source(source, str(path))
    name, version = compiled.name, compiled.policy.version
    row = versions.stored_version(conn, name, version)
    if row is not None:
        if row.sha256 != compiled.sha256:
            raise ExperimentError(
                f"--challenger {path}: policy {name!r} version {version} is stored with a "
                "different text", "raise the `version` in the file for every change",
            )  # fmt: skip
        return row.id
    return versions.add_version(
        conn, name=name, version=version, path=str(path), source=source,
        sha256=compiled.sha256, deployed_at=now, active=False,
    )  # fmt: skip


def start(
    engine: Engine,
    name: str,
    champion: str,
    challenger: str | Path,
    share: Decimal,
    day: date,
    now: datetime,
    actor: str,
    applies_to: str | None = None,
    until_on: date | None = None,
    until_customers: int | None = None,
    key: str | None = None,
) -> Started:
    """Record the experiment and enrol every eligible customer known today.

    `key`: the hash's secret; a fresh random one unless given (tests fix it, as the clock).
    """
    from mahnwerk.engine.policies import PolicySet, _parse_for

    condition = _parse_for(applies_to, f"experiment {name} (--for)")
    if until_on is not None and until_on < day:
        raise ExperimentError(f"--until {until_on}: that day has passed", "give a later day")
    if until_customers is not None and until_customers < 2:
        raise ExperimentError("--until-customers: at least 2 customers, one per arm", "")
    with engine.begin() as conn:
        champ, chall = _arms(conn, name, champion, Path(challenger), now)
    policies = PolicySet.load(engine)  # with any other running experiment's arms
    key = key or secrets.token_hex(32)
    exp = Running(0, name, key, share, champ.name, chall.id, condition, until_on,
                  until_customers)  # fmt: skip
    with engine.begin() as conn:
        strata = _strata(conn, policies, exp)
        if not any(strata.values()):
            raise ExperimentError(
                f"no customer is served by {champ.name!r}"
                + (f" with {applies_to}" if applies_to else ""),
                "import customers first, or check --champion and --for",
            )
        exp_id = store.add_experiment(
            conn, name=name, champion_name=champ.name, champion_version_id=champ.id,
            challenger_version_id=chall.id, share=share, applies_to=applies_to,
            until_on=until_on, until_customers=until_customers, key=key, started_on=day,
            started_at=now, actor=actor,
        )  # fmt: skip
        counts = _assign(conn, exp_id, strata, key, share, day)
        _wake(conn, exp_id, day)
    label = f"{chall.name} version {chall.version}"
    return Started(name, f"{champ.name} version {champ.version}", label, dict(counts))


def _arms(conn: Connection, name: str, champion: str, challenger: Path, now: datetime) -> Any:
    """The champion's and the challenger's version rows (the challenger stored if new)."""
    if store.name_taken(conn, name):
        raise ExperimentError(f"experiment {name!r} exists already", "choose another name")
    champ = _find_policy(conn, champion)
    chall_id = _store_challenger(conn, challenger, now)
    chall = versions.version(conn, chall_id)
    if chall.id == champ.id:
        raise ExperimentError("the challenger is the champion itself", "give another policy")
    return champ, chall


def _strata(conn: Connection, policies: Any, exp: Running) -> dict[str, list[Any]]:
    """The eligible customers known today by segment: (draw, id, external id).

    A customer in another running experiment is never in two.  With `until_customers`,
    a random sample of the eligible, then stratified.
    """
    from mahnwerk.engine.store.run import customers as _customers

    customers = _customers(conn, store.customer_ids(conn))
    strata: dict[str, list[tuple[float, int, Any]]] = defaultdict(list)
    for cid, cust in customers.items():
        if cust.id in policies.arms.enrolled:
            continue
        segment = _stratum(policies, exp, cust)
        if segment is not None:
            strata[segment].append((unit(exp.key, cust.id, "enrol"), cid, cust.id))
    if exp.until_customers is not None:
        kept = sorted(x for xs in strata.values() for x in xs)[: exp.until_customers]
        keep = {x[1] for x in kept}
        strata = {s: [x for x in xs if x[1] in keep] for s, xs in strata.items()}
    return strata


def _assign(
    conn: Connection,
    exp_id: int,
    strata: dict[str, list[Any]],
    key: str,
    share: Decimal,
    day: date,
) -> dict[tuple[str, str], int]:
    """Within each segment the `share` drawn first get the challenger; counts by arm."""
    rows, counts = [], defaultdict(int)
    for segment, members in sorted(strata.items()):
        ranked = sorted((unit(key, ext), cid) for _u, cid, ext in members)
        k = int((share * len(ranked)).quantize(Decimal(1), ROUND_HALF_UP))
        for i, (_u, cid) in enumerate(ranked):
            arm = CHALLENGER if i < k else CHAMPION
            counts[(segment, arm)] += 1
            rows.append(dict(experiment_id=exp_id, customer_id=cid, arm=arm,
                             segment=segment, assigned_on=day))  # fmt: skip
    store.add_assignments(conn, rows)
    return counts


def find(conn: Connection, name: str) -> Any:
    row = store.named(conn, name)
    if row is None:
        names = store.names(conn)
        raise ExperimentError(
            f"no experiment {name!r}",
            f"known: {', '.join(names)}" if names else "start one with `mahnwerk experiment start`",
        )
    return row


def _wake(conn: Connection, exp_id: int, day: date) -> None:
    """The challenger arm's open invoices are looked at by the next run, to change policy."""
    store.wake_arm(conn, exp_id, CHALLENGER, day, sorted(ir.TERMINAL_NAMES))


def _end(engine: Engine, name: str, status: str, now: datetime, actor: str) -> Any:
    with engine.begin() as conn:
        row = find(conn, name)
        if row.status != "running":
            raise ExperimentError(f"experiment {name!r} is {row.status} already", "")
        _wake(conn, row.id, now.date())
        store.end(conn, row.id, status, now, actor)
    return row


def stop(engine: Engine, name: str, now: datetime, actor: str) -> str:
    """End without promoting: the challenger's customers go back to the champion."""
    _end(engine, name, "stopped", now, actor)
    return (f"experiment {name!r} stopped; the challenger's invoices return to the champion "
            "at their next step (by the segment-move rule)")  # fmt: skip


def challenger_file(engine: Engine, name: str) -> tuple[Path, Any, Any]:
    """The challenger's policy file (unchanged since the start), its row, the champion's row."""
    with engine.connect() as conn:
        row = find(conn, name)
        chall = versions.version(conn, row.challenger_version_id)
        champ = versions.active_version(conn, row.champion_name)
    path = Path(chall.path)
    if row.status != "running":
        raise ExperimentError(f"experiment {name!r} is {row.status} already", "")
    if not path.is_file() or hashlib.sha256(read_policy_source(path).encode()).hexdigest() != (
        chall.sha256
    ):
        raise ExperimentError(
            f"{path}: the challenger's file is gone or changed since the experiment started",
            "put the file back as it was, then promote",
        )
    return path, chall, champ


def promote(engine: Engine, name: str, now: datetime, actor: str) -> str:
    """Deploy the challenger in the champion's place (after the caller's review)."""
    from mahnwerk.engine.policies import deploy

    path, _chall, champ = challenger_file(engine, name)
    applies_to = champ.applies_to if champ is not None else None
    priority = champ.priority if champ is not None else None
    _id, message = deploy(engine, path, now, applies_to, priority, reviewed=True)
    if champ is not None and _chall.name != champ.name:
        with engine.begin() as conn:  # a challenger of another name replaces the champion
            versions.retire(conn, champ.id)
    _end(engine, name, "promoted", now, actor)
    return f"experiment {name!r} promoted: {message}"
