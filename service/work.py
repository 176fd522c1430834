"""The day's work over HTTP: events, approvals, messages, policy versions, runs, reports.

Each endpoint calls the engine function the CLI calls (`record_event`, `decide`,
`deploy`, `run`, the reports), under the caller's proven identity, so the API can do
nothing the command line could not, and the audit log names who did it.
"""

from __future__ import annotations

import json
import tempfile
import threading
from datetime import date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import Engine

from mahnwerk.dsl.errors import PolicyError
from mahnwerk.engine.approvals import ApprovalError, decide, pending
from mahnwerk.engine.store import api as api_store
from mahnwerk.engine.store import invoices, lease
from mahnwerk.service.data import Cursor, KeyPath, Limit
from mahnwerk.service.deps import (
    caller,
    decode_cursor,
    encode_cursor,
    engine_of,
    now_of,
)
from mahnwerk.service.identity import Identity
from mahnwerk.service.problems import Problem
from mahnwerk.service.schemas import (
    CustomerEventIn,
    Decided,
    DecisionIn,
    EventIn,
    Page,
    PolicyIn,
    Recorded,
    RunIn,
)

router = APIRouter()


def _payload(event: EventIn) -> dict[str, Any]:
    if event.kind == "promise_made":
        if event.promised_date is None:
            raise _missing("promised_date", "a promise needs the promised date")
        return {"promised_date": event.promised_date.isoformat()}
    if event.kind == "plan_agreed":
        if not event.instalments:
            raise _missing("instalments", "a plan needs at least one instalment")
        return {"instalments": [[i.date.isoformat(), i.amount] for i in event.instalments]}
    return {"note": event.note} if event.note else {}


def _missing(field: str, detail: str) -> Problem:
    return Problem(
        422,
        "Invalid request",
        f"{field}: {detail}",
        [{"pointer": f"/{field}", "field": field, "detail": detail}],
    )


@router.post(
    "/invoices/{invoice_id}/events",
    response_model=Recorded,
    status_code=201,
    tags=["events"],
    description="Record a dispute, promise, plan, hold … for the next run. ",
)
def post_event(
    invoice_id: KeyPath,
    event: EventIn,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    who: Identity = Depends(caller),
) -> Recorded:
    day = event.on or now.date()
    try:
        eid = invoices.record_event(
            engine, invoice_id, event.kind, day, who.name, now, _payload(event)
        )
    except invoices.NotFound as exc:
        raise Problem(404, "Not found", str(exc)) from None
    return Recorded(
        id=eid,
        invoices=[invoice_id],
        detail=f"recorded {event.kind} for {invoice_id} on {day}; the next run applies it",
    )


@router.post(
    "/customers/{customer_id}/events",
    response_model=Recorded,
    status_code=201,
    tags=["events"],
    description="Insolvency or death of a customer (every open invoice is told). ",
)
def post_customer_event(
    customer_id: KeyPath,
    event: CustomerEventIn,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    who: Identity = Depends(caller),
) -> Recorded:
    day = event.on or now.date()
    try:
        told = invoices.record_customer_event(engine, customer_id, event.kind, day, who.name, now)
    except invoices.NotFound as exc:
        raise Problem(404, "Not found", str(exc)) from None
    return Recorded(invoices=told, detail=f"recorded {event.kind} of {customer_id} on {day}")


@router.get(
    "/approvals",
    tags=["approvals"],
    description="Escalations waiting for a decision. ",
)
def list_approvals(
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> list[dict[str, Any]]:
    return [a.as_dict() for a in pending(engine)]


@router.post(
    "/approvals/{approval_id}/decision",
    response_model=Decided,
    tags=["approvals"],
    description="Approve or reject in the token's name; the same person never counts "
    "twice (four eyes). ",
)
def post_decision(
    approval_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: DecisionIn,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    who: Identity = Depends(caller),
) -> Decided:
    try:
        text = decide(
            engine, approval_id, who.name, body.decision == "approve", now, now.date(), body.comment
        )
    except ApprovalError as exc:
        status = 404 if str(exc).startswith("no approval") else 409
        raise Problem(status, "Not found" if status == 404 else "Conflict", str(exc)) from None
    return Decided(approval=approval_id, decided_by=who.name, detail=text)


def _message(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "invoice_id": row.invoice_ext,
        "channel": row.channel,
        "template": row.template,
        "language": row.language,
        "status": row.status,
        "not_before": row.not_before.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "rule": row.rule,
    }


@router.get(
    "/messages",
    response_model=Page,
    tags=["messages"],
    description="Queued and sent messages with their status. ",
)
def list_messages(
    cursor: Cursor = None,
    limit: Limit = 100,
    status: Literal["queued", "sending", "sent", "failed", "cancelled"] | None = None,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> Page:
    rows = api_store.messages(engine, decode_cursor(cursor), limit, status=status)
    return Page(
        items=[_message(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None,
    )


@router.get("/messages/{message_id}", tags=["messages"], description="")
def get_message(
    message_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> dict[str, Any]:
    rows = api_store.messages(engine, limit=1, message_id=message_id)
    if not rows:
        raise Problem(404, "Not found", f"no message {message_id}")
    return _message(rows[0])


def _version(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "version": row.version,
        "active": bool(row.active),
        "deployed_at": row.deployed_at.isoformat(),
        "applies_to": row.applies_to,
        "priority": row.priority,
        "sha256": row.sha256,
        "path": row.path,
    }


@router.get(
    "/policies",
    tags=["policies"],
    description="Every deployed policy version. ",
)
def list_policies(
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> list[dict[str, Any]]:
    return [_version(r) for r in api_store.policy_versions(engine)]


@router.post(
    "/policies",
    status_code=201,
    tags=["policies"],
    description="Deploy a policy (text or YAML source). With `preview: true` nothing is stored. ",
)
def post_policy(
    body: PolicyIn,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    who: Identity = Depends(caller),
) -> dict[str, Any]:
    from mahnwerk.engine.policies import DeployRefused

    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / body.filename
        path.write_text(body.source, encoding="utf-8")
        try:
            return _deploy(engine, path, now, body)
        except PolicyError as exc:
            raise Problem(
                422,
                "Invalid policy",
                exc.render(),
                [{"pointer": "/source", "field": "source", "detail": exc.render()}],
            ) from None
        except DeployRefused as exc:
            raise Problem(409, "Conflict", f"deploy refused: {exc}") from None


def _deploy(engine: Engine, path: FilePath, now: datetime, body: PolicyIn) -> dict[str, Any]:
    from mahnwerk.engine.policies import deploy

    if body.preview:
        return _preview(engine, path, now, body)
    vid, message = deploy(engine, path, now, body.applies_to, body.priority)
    return {"preview": False, "id": vid, "detail": message}


def _preview(engine: Engine, path: FilePath, now: datetime, body: PolicyIn) -> dict[str, Any]:
    """What deploying would do, from the deploy review (`engine.deploy_review`, issue 13)
    when this mahnwerk has it; otherwise only whether the policy compiles."""
    try:
        from mahnwerk.engine.deploy_review import plan_deploy
    except ImportError:
        from mahnwerk.dsl.compile import compile_source

        compiled = compile_source(body.source, body.filename)
        return {
            "preview": True,
            "name": compiled.policy.name,
            "version": compiled.policy.version,
            "detail": "the policy compiles; nothing was stored",
        }
    plan = plan_deploy(engine, path, now.date(), body.applies_to, body.priority)

    def counted(counter: Any) -> list[list[Any]]:
        return [[*key, n] for key, n in sorted(counter.items())]

    return {
        "preview": True,
        "name": plan.name,
        "version": plan.version,
        "old_version": plan.old_version,
        "as_of": plan.as_of.isoformat(),
        "invoices": plan.invoices,
        "taken_over": plan.taken_over,
        "moves": counted(plan.moves),
        "stays": counted(plan.stays),
        "stranded": [list(s) for s in plan.stranded],
        "new_messages": counted(plan.new_messages),
        "gone_messages": counted(plan.gone_messages),
        "refused": plan.refused,
        "diff": plan.diff,
        "detail": "nothing was stored" + ("; this deploy would be refused" if plan.refused else ""),
    }


def _run_row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "as_of": row.as_of.isoformat(),
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "status": "finished" if row.finished_at else "running",
        "stats": json.loads(row.stats or "{}"),
    }


@router.post(
    "/runs",
    status_code=202,
    tags=["runs"],
    description="Start the run for a business date in the background; follow it with GET /runs. ",
)
def post_run(
    body: RunIn,
    request: Request,
    engine: Engine = Depends(engine_of),
    now: datetime = Depends(now_of),
    _: Identity = Depends(caller),
) -> dict[str, Any]:
    from mahnwerk.engine.policies import PolicySet

    try:
        policies = PolicySet.load(engine)
    except LookupError as exc:
        raise Problem(409, "Conflict", f"{exc}; deploy a policy first (POST /policies)") from None
    held = _take_book(engine, body.as_of, request.app.state.clock)
    thread = threading.Thread(
        target=_run_in_background,
        args=(engine, body.as_of, policies, now, held),
        daemon=True,
        name=f"run-{body.as_of}",
    )
    try:
        thread.start()
    except BaseException:
        held.release()
        raise
    request.app.state.run_threads.append(thread)
    return {
        "as_of": body.as_of.isoformat(),
        "status": "started",
        "detail": "the run is going; GET /runs shows its progress and figures",
    }


def _take_book(engine: Engine, as_of: date, clock: Any) -> lease.Lease:
    """The book lease for the run, taken before the answer: a busy book is a 409 at once.

    The lease, not a lock of this process, decides: the run lets go of it in the commit
    that writes its row "finished", so a client that sees "finished" (GET /runs) may start
    the next run at once, and a run or import of another process (the CLI, a second server)
    is refused by name instead of queueing behind it.
    """
    try:
        return lease.acquire(engine, f"the run for {as_of.isoformat()}", wait=0, clock=clock)
    except lease.BookBusy as exc:
        held = exc.holder
        who = (
            f"{held['purpose']} is in progress (process {held['pid']} on {held['host']})"
            if held
            else "another writer is changing the book"
        )
        raise Problem(409, "Conflict", f"{who}; wait for it (GET /runs) and ask again") from None


def _run_in_background(
    engine: Engine, as_of: date, policies: Any, now: datetime, held: lease.Lease
) -> None:
    from mahnwerk.engine.runner import run

    run(engine, as_of, policies, now, taken=held)


@router.get(
    "/runs",
    response_model=Page,
    tags=["runs"],
    description="Runs, newest first, with their status and figures. ",
)
def list_runs(
    cursor: Cursor = None,
    limit: Limit = 20,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> Page:
    before = decode_cursor(cursor) or 2**31 - 1
    rows = api_store.runs_page(engine, before, limit)
    return Page(
        items=[_run_row(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None,
    )


@router.get("/runs/{run_id}", tags=["runs"], description="")
def get_run(
    run_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> dict[str, Any]:
    row = api_store.run(engine, run_id)
    if row is None:
        raise Problem(404, "Not found", f"no run {run_id}")
    return _run_row(row)


@router.get(
    "/reports/{name}",
    tags=["reports"],
    description="aging, dso, effectiveness, stages or channels, as of a day (default "
    "the last run's). ",
)
def get_report(
    name: Literal["aging", "dso", "effectiveness", "stages", "channels"],
    as_of: Annotated[date | None, Query()] = None,
    engine: Engine = Depends(engine_of),
    _: Identity = Depends(caller),
) -> dict[str, Any]:
    from mahnwerk.engine.reports import REPORTS, ReportError, last_run_day

    try:
        day = as_of or last_run_day(engine)
        report = REPORTS[name](engine, day)
    except ReportError as exc:
        raise Problem(409, "Conflict", str(exc)) from None
    return {
        "report": report.name,
        "title": report.title,
        "as_of": day.isoformat(),
        "rows": json.loads(json.dumps(report.records(), default=str)),
        "notes": report.notes,
    }
