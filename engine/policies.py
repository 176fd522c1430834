"""Deployed policy versions: which policy applies to which customer.

Several policies can be active at once (a B2C standard, a B2B standard, a
key-account policy).  Each deployment may say which customers it is for, as a
condition in the policy language (`customer.type == B2B`); the first active
deployment whose condition holds wins, in the order they were given
priority, and a deployment without a condition catches everybody else.

A deploy stores the policy's full source with its hash, so the audit trail
can always show the exact text a decision was made under.  A new version of a
policy takes over its invoices by state name; a deploy that would strand
invoices in a state the new version lacks is refused with the list of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import CompiledPolicy, compile_source, read_policy_source
from mahnwerk.dsl.errors import Collector, PolicyError
from mahnwerk.dsl.expr import EvalError, Expr, Type, check_expr, evaluate, parse_expr
from mahnwerk.engine import experiments
from mahnwerk.engine.experiments import Arms
from mahnwerk.engine.state import Customer
from mahnwerk.engine.store import policies as store
from mahnwerk.errors import MahnwerkError


class DeployRefused(MahnwerkError):
    """A deploy that would strand invoices, or whose `--for` condition is broken."""


@dataclass(frozen=True)
class Deployment:
    version_id: int
    compiled: CompiledPolicy
    applies_to: Expr | None
    applies_text: str | None
    priority: int


class PolicySet:
    """The active deployments, compiled once per run."""

    def __init__(
        self,
        deployments: list[Deployment],
        all_versions: dict[int, CompiledPolicy],
        arms: Arms | None = None,
    ):
        self.deployments = sorted(deployments, key=lambda d: (d.priority, d.version_id))
        self.versions = all_versions
        self.arms = arms if arms is not None else Arms()  # running experiments (issue 18)

    @classmethod
    def load(cls, engine: Engine) -> PolicySet:
        with engine.connect() as conn:
            rows = store.versions(conn)
            arms = experiments.load(conn)
        versions: dict[int, CompiledPolicy] = {}
        deployments = []
        for row in rows:
            compiled = compile_source(row.source, row.path)
            versions[row.id] = compiled
            if row.active:
                deployments.append(
                    Deployment(
                        row.id,
                        compiled,
                        _parse_for(row.applies_to, row.path),
                        row.applies_to,
                        row.priority,
                    )
                )
        if not deployments:
            raise LookupError("no policy is deployed: run `mahnwerk policy deploy FILE` first")
        return cls(deployments, versions, arms)

    def for_customer(self, customer: Customer) -> tuple[int, CompiledPolicy]:
        """The policy stepping the customer's invoices: an experiment's arm, else a deployment."""
        challenger = self.arms.challenger.get(customer.id)
        if challenger is not None:
            return challenger, self.versions[challenger]
        return self.deployed_for(customer)

    def deployed_for(self, customer: Customer) -> tuple[int, CompiledPolicy]:
        """The first deployment whose `--for` holds for the customer (experiments aside)."""
        for d in self.deployments:
            if d.applies_to is None:
                return d.version_id, d.compiled
            facts = customer.facts()
            try:
                if evaluate(d.applies_to, facts):
                    return d.version_id, d.compiled
            except EvalError:  # a fact this customer lacks means "not this policy"
                continue
        raise LookupError(f"no deployed policy applies to customer {customer.id}")

    def limits(self) -> list[ir.Limits]:
        """The limits of every stored version: an invoice may still step under an old one."""
        return [cp.policy.limits for cp in self.versions.values()]

    def by_version(self, version_id: int | None) -> CompiledPolicy:
        if version_id is None or version_id not in self.versions:
            raise LookupError(f"policy version {version_id} is not stored")
        return self.versions[version_id]


def _parse_for(text: str | None, path: str) -> Expr | None:
    if not text:
        return None
    collector = Collector(f"{path} (--for)", text)
    expr = parse_expr(text, collector)
    if expr is not None:
        check_expr(expr, collector, Type.BOOL)
    collector.raise_if_errors()
    return expr


def deploy(
    engine: Engine,
    path: str | Path,
    now: datetime,
    applies_to: str | None = None,
    priority: int | None = None,
    reviewed: bool = False,
) -> tuple[int, str]:
    """Store a policy file as the active version of its name; return (id, message).

    `reviewed`: the caller showed the deploy preview and refused a stranding deploy already.
    """
    path = Path(path)
    source = read_policy_source(path)
    compiled = compile_source(source, str(path))
    _parse_for(applies_to, str(path))
    name = compiled.policy.name
    with engine.connect() as conn:
        active = store.active_version(conn, name)
    if active is not None and active.sha256 != compiled.sha256:
        if active.version != compiled.policy.version and not reviewed:
            _refuse_stranding(engine, path, now.date(), applies_to, priority)
    with engine.begin() as conn:
        same = store.active_version(conn, name)
        if same is not None and same.sha256 == compiled.sha256:
            return _retarget(conn, same, name, applies_to, priority)
        if same is not None and same.version == compiled.policy.version:
            raise DeployRefused(
                f"policy {name!r} version {same.version} is deployed with a different text; "
                "raise the `version` in the file for every change"
            )
        if priority is None:
            priority = same.priority if same is not None else _next_priority(conn)
        if same is not None:
            # At most one active version per name: retire the old one first.
            store.retire(conn, same.id)
        new_id = _activate(conn, compiled, source, path, now, applies_to, priority)
        moved = _take_over(conn, same.id, new_id, now.date()) if same is not None else 0
    verb = (
        "deployed"
        if same is None
        else f"replaced version {same.version}; it takes over {moved} invoice(s), each "
        "re-evaluated (segment and state) at the next run"
    )
    return new_id, f"policy {name!r} version {compiled.policy.version} {verb}"


def _retarget(
    conn: Connection, same: Any, name: str, applies_to: str | None, priority: int | None
) -> tuple[int, str]:
    """The same text deployed again: nothing, or only whom it applies to and its priority."""
    if same.applies_to == applies_to and priority in (None, same.priority):
        return same.id, f"policy {name!r} version {same.version} is already deployed"
    store.retarget(conn, same.id, applies_to, same.priority if priority is None else priority)
    return same.id, f"policy {name!r} version {same.version}: now for {applies_to or 'all'}"


def _next_priority(conn: Connection) -> int:
    """A new policy name goes after every deployed one (ten apart, room to insert)."""
    return store.highest_priority(conn) + 10


def _activate(
    conn: Connection,
    compiled: CompiledPolicy,
    source: str,
    path: Path,
    now: datetime,
    applies_to: str | None,
    priority: int,
) -> int:
    """Make this text the active version of its name; the version row's id."""
    name = compiled.policy.name
    stored = store.stored_version(conn, name, compiled.policy.version)
    if stored is not None and stored.sha256 != compiled.sha256:
        raise DeployRefused(
            f"policy {name!r} version {stored.version} is stored with a different text; "
            "raise the `version` in the file for every change"
        )
    if stored is not None:
        # Stored before and not active (an experiment's challenger, an earlier version
        # brought back): the same row becomes active, so its invoices keep their version.
        store.reactivate(conn, stored.id, applies_to, priority, str(path))
        return stored.id
    return store.add_version(
        conn,
        name=name,
        version=compiled.policy.version,
        path=str(path),
        source=source,
        sha256=compiled.sha256,
        deployed_at=now,
        active=True,
        applies_to=applies_to,
        priority=priority,
    )


def _take_over(conn: Connection, old_id: int, new_id: int, today: date) -> int:
    """Move the old version's invoices to the new one; how many moved.

    The new version may give a waiting state a way on (or change a date): every open
    invoice it takes over is looked at again by the next run.
    """
    return store.take_over(conn, old_id, new_id, today, sorted(ir.TERMINAL_NAMES))


def _refuse_stranding(engine: Engine, path: Path, today: date, applies_to, priority) -> None:
    """Refuse a version that would leave an invoice where the new ladders cannot take it.

    Invoices move by the policy's `on segment change` rule (`engine/segment_moves.py`);
    the deploy preview (`engine/deploy_review.py`) says which of them it cannot place.
    """
    from mahnwerk.engine.deploy_review import plan_deploy

    stranded = plan_deploy(engine, path, today, applies_to, priority).stranded
    if stranded:
        lines = [f"  {i}: segment {s!r}, state {st!r}: {why}" for i, s, st, why in stranded[:50]]
        more = f"\n  … and {len(stranded) - 50} more" if len(stranded) > 50 else ""
        raise DeployRefused(
            f"the new version would strand {len(stranded)} invoice(s):\n"
            + "\n".join(lines)
            + more
            + "\nkeep those states (and segments) in the new version, state a move rule "
            "(`on segment change move to same rank` or `... to start`), or move the invoices first"
        )


__all__ = ["DeployRefused", "PolicySet", "deploy", "PolicyError"]
