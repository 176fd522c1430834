"""A deploy is a reviewed change: what a new policy version will do, before it does it.

`plan_deploy` reads the open invoices and steps each of them in memory twice —
under the deployments as they are, and as they would be with the file
deployed — with the real engine step on the day of the next run, the same
segment re-evaluation (`segment_moves`) and the same `--for` routing the
runner uses.  Nothing is written.  The plan says, per segment and state, how
many invoices move where, which stay (the move rule keeps them), which would
strand (a state or segment the new version lacks and the rule cannot place:
the deploy is refused), which messages the next run would queue that the old
version would not (and the other way round), which templates are missing, and
the diff of the two texts.

`mahnwerk policy deploy` prints `render(plan)` for `--dry-run` and before it
asks for confirmation; the TUI shows the same text (`preview_text`).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from mahnwerk.dsl.compile import CompiledPolicy, compile_source, read_policy_source
from mahnwerk.dsl.errors import Diagnostic
from mahnwerk.engine import segment_moves
from mahnwerk.engine import step as stepper
from mahnwerk.engine.policies import Deployment, PolicySet, _parse_for
from mahnwerk.engine.state import Message, Record
from mahnwerk.engine.store import invoice_value, record_value
from mahnwerk.engine.store.action_writers import kept_messages
from mahnwerk.engine.store.deploys import active_version, review_book

#: The stand-in version id of the file being deployed (it has none before it is stored).
NEW = -1


@dataclass
class DeployPlan:
    path: str
    name: str
    version: int
    old_version: int | None
    applies_to: str | None
    as_of: date
    invoices: int = 0  # open invoices looked at
    taken_over: int = 0  # open invoices of the old version the new one takes over
    moves: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    stays: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    stranded: list[tuple[str, str, str, str]] = field(default_factory=list)
    new_messages: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    gone_messages: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    template_errors: list[Diagnostic] = field(default_factory=list)
    diff: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.stranded or self.template_errors)


def plan_deploy(
    engine: Engine,
    path: str | Path,
    as_of: date,
    applies_to: str | None = None,
    priority: int | None = None,
    templates: Any = None,
) -> DeployPlan:
    """What deploying `path` would do at the run for `as_of`; raises `PolicyError`.

    `templates` (a `TemplateStore`) checks every template the policy sends in every
    language it or its customers use; None skips that check.
    """
    source = read_policy_source(Path(path))
    new = compile_source(source, str(path))
    _parse_for(applies_to, str(path))
    current, old_row = _current(engine, new.name)
    proposed = _proposed(current, new, old_row, applies_to, priority)
    plan = DeployPlan(
        str(path),
        new.name,
        new.policy.version,
        old_row.version if old_row is not None else None,
        applies_to if applies_to is not None else (old_row.applies_to if old_row else None),
        as_of,
    )
    old_source = old_row.source if old_row is not None else ""
    plan.diff = "".join(
        difflib.unified_diff(
            old_source.splitlines(keepends=True),
            source.splitlines(keepends=True),
            f"{new.name} version {plan.old_version} (deployed)" if old_row else "(nothing)",
            f"{new.name} version {new.policy.version} ({path})",
        )
    )
    languages = _walk(engine, plan, current, proposed, old_row.id if old_row else None)
    if templates is not None:
        from mahnwerk.engine.template_check import missing_templates

        plan.template_errors = missing_templates(new.policy, templates, languages)
    return plan


def _current(engine: Engine, name: str) -> tuple[PolicySet | None, Any]:
    old_row = active_version(engine, name)
    try:
        return PolicySet.load(engine), old_row
    except LookupError:
        return None, old_row


def _proposed(
    current: PolicySet | None,
    new: CompiledPolicy,
    old_row: Any,
    applies_to: str | None,
    priority: int | None,
) -> PolicySet:
    """The deployments as they will be: the file in place of its name's active version."""
    kept = [d for d in (current.deployments if current else []) if d.compiled.name != new.name]
    if applies_to is None and old_row is not None:
        applies_to = old_row.applies_to
    if priority is None:
        priority = (
            old_row.priority
            if old_row is not None
            else 1 + max((d.priority for d in kept), default=0)
        )
    mine = Deployment(NEW, new, _parse_for(applies_to, new.policy.path), applies_to, priority)
    versions = dict(current.versions) if current else {}
    versions[NEW] = new
    return PolicySet([*kept, mine], versions, current.arms if current else None)


def _walk(
    engine: Engine,
    plan: DeployPlan,
    current: PolicySet | None,
    proposed: PolicySet,
    old_id: int | None,
) -> set[str]:
    """Step every open invoice both ways; fill the plan; return the customers' languages."""
    languages, rows, customers = review_book(engine, _serves_new(proposed))
    for row in rows:
        cust = customers[row.customer_id]
        inv = invoice_value(row, cust.id, external_id=row.inv_ext)
        record = record_value(row, row.inv_ext)
        plan.invoices += 1
        version = NEW if row.policy_version_id == old_id and old_id is not None else None
        plan.taken_over += version == NEW
        _one(plan, proposed, current, row.policy_version_id, version, record, inv, cust)
    return languages


def _serves_new(proposed: PolicySet) -> Callable[[Any], bool]:
    """Whether the new deployment serves a customer (its `--for`)."""

    def serves(customer: Any) -> bool:
        try:
            return proposed.for_customer(customer)[0] == NEW
        except LookupError:  # no deployment serves this customer
            return False

    return serves


def _one(plan, proposed, current, version_id, version, record: Record, inv, cust) -> None:
    day = plan.as_of
    start = NEW if version == NEW else version_id
    if start not in proposed.versions:
        return
    new_id, new_cp, previous = segment_moves.route(
        proposed, start, record, cust, lambda cp: stepper.facts_at(record, inv, cust, cp, day)
    )
    old_cp = previous or new_cp
    facts, business_days = stepper.facts_at(record, inv, cust, new_cp, day)
    move = segment_moves.plan(record, facts, old_cp, new_cp, business_days)
    where_from = (record.segment or "", record.state)
    if move is not None and not move.stays:
        plan.moves[(*where_from, move.new_segment, move.target_state or "")] += 1
    elif move is not None and move.stays:
        plan.stays[(*where_from, move.new_segment, move.why_not)] += 1
    if _strands(record, new_cp, move, new_id == NEW or version == NEW):
        why = _strand_reason(record, new_cp)
        plan.stranded.append((inv.id, record.segment or "", record.state, why))
        return
    after = _messages(record, inv, cust, day, new_cp, previous)
    before = Counter()
    if current is not None and version_id in current.versions:
        old_id, cp, prev = segment_moves.route(
            current,
            version_id,
            record,
            cust,
            lambda c: stepper.facts_at(record, inv, cust, c, day),
        )
        before = _messages(record, inv, cust, day, cp, prev)
    plan.new_messages.update(after - before)
    plan.gone_messages.update(before - after)


def _strands(record: Record, cp: CompiledPolicy, move: Any, concerns_new: bool) -> bool:
    """An invoice the new version takes over but cannot place."""
    if not concerns_new:
        return False
    if record.pending_approval and record.pending_approval not in cp.graphs.get(
        record.segment or "", ()
    ):
        return True
    if move is not None and not move.stays:
        return False
    graph = cp.graphs.get(record.segment or "")
    return graph is None or record.state not in graph


def _strand_reason(record: Record, cp: CompiledPolicy) -> str:
    graph = cp.graphs.get(record.segment or "")
    if record.pending_approval and (graph is None or record.pending_approval not in graph):
        return f"an approval for {record.pending_approval!r}, a state the new version lacks"
    if graph is None:
        return f"the new version has no segment {record.segment!r}"
    return (
        f"segment {record.segment!r} has no state {record.state!r} in the new version, and "
        f"`on segment change move to {cp.policy.segment_move.value}` cannot place it"
    )


def _messages(record, inv, cust, day, cp, previous) -> Counter[tuple[str, str, str]]:
    try:
        out = stepper.step(record, inv, cust, [], day, cp, previous)
    except (KeyError, LookupError):
        return Counter()
    return Counter(
        (out.record.segment or "", m.channel, m.template)
        for m in kept_messages(out.actions, out.record)
        if isinstance(m, Message)
    )


# ---------------------------------------------------------------------------
# The preview as a person reads it
# ---------------------------------------------------------------------------


def render(plan: DeployPlan) -> str:
    """The preview `policy deploy --dry-run` prints and the TUI shows."""
    head = f"policy {plan.name!r} version {plan.version}"
    if plan.old_version is not None:
        head = f"policy {plan.name!r} version {plan.old_version} -> version {plan.version}"
    lines = [
        f"Deploy preview: {head} ({plan.path})",
        f"  for: {plan.applies_to or 'all customers'}; next run: {plan.as_of}",
        f"  open invoices: {plan.invoices}, taken over from the deployed version: "
        f"{plan.taken_over}",
        "",
        "Invoices that move at their next step (segment/state -> segment/state):",
    ]
    lines += _table([(f"{a}/{b}", f"{c}/{d}", n) for (a, b, c, d), n in sorted(plan.moves.items())])
    lines += ["", "Invoices the move rule keeps where they are:"]
    lines += _table(
        [(f"{a}/{b}", f"{c}: {why}", n) for (a, b, c, why), n in sorted(plan.stays.items())]
    )
    lines += ["", "Invoices that would strand (the deploy is refused):"]
    lines += [f"  {i}: segment {s!r}, state {st!r}: {why}" for i, s, st, why in plan.stranded[:50]]
    if len(plan.stranded) > 50:
        lines.append(f"  … and {len(plan.stranded) - 50} more")
    if not plan.stranded:
        lines.append("  none")
    lines += ["", "Messages the next run would queue that the deployed version would not:"]
    lines += _table([(s, f"{c} {t}", n) for (s, c, t), n in sorted(plan.new_messages.items())])
    lines += ["", "Messages the deployed version would queue that this one will not:"]
    lines += _table([(s, f"{c} {t}", n) for (s, c, t), n in sorted(plan.gone_messages.items())])
    if plan.template_errors:
        lines += ["", "Missing templates (the deploy is refused):"]
        lines += [d.render() for d in plan.template_errors]
    lines += ["", "Changes to the text:", plan.diff.rstrip("\n") or "  (the same text)"]
    return "\n".join(lines) + "\n"


def _table(rows: list[tuple[str, str, int]]) -> list[str]:
    if not rows:
        return ["  none"]
    left = max(len(a) for a, _, _ in rows)
    mid = max(len(b) for _, b, _ in rows)
    return [f"  {a:<{left}}  ->  {b:<{mid}}  {n:>7}" for a, b, n in rows]


def preview_text(
    engine: Engine,
    path: str | Path,
    as_of: date,
    applies_to: str | None = None,
    templates: Any = None,
) -> tuple[str, bool]:
    """For the TUI: the preview text and whether the deploy would be refused."""
    plan = plan_deploy(engine, path, as_of, applies_to, templates=templates)
    return render(plan), plan.refused


def proposed_set(
    engine: Engine, compiled: CompiledPolicy, applies_to: str | None = None
) -> tuple[PolicySet, bool]:
    """The deployments with `compiled` deployed; and whether its name was deployed before."""
    current, old_row = _current(engine, compiled.name)
    return _proposed(current, compiled, old_row, applies_to, None), old_row is not None
