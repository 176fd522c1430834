"""`mahnwerk audit verify|seal`: is the audit log still what mahnwerk wrote?

Kept apart from `cli.py`, which wires it in with one call: `register(app)`.  The chain itself
lives in `engine/audit.py`.  `verify` changes nothing; it exits 1 and names the first broken
entry when the log was rewritten outside mahnwerk.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mahnwerk.engine.audit import head as chain_head
from mahnwerk.engine.audit import seal, verify
from mahnwerk.errors import MahnwerkError
from mahnwerk.options import DbOption, open_engine

audit_app = typer.Typer(
    no_args_is_help=True, help="The audit log's hash chain: verify it, or seal new entries."
)


class AuditBroken(MahnwerkError):
    """The chain does not hold: the log was changed outside mahnwerk."""


def verify_cmd(
    head: Annotated[
        str | None,
        typer.Option(help="A head hash written down earlier: the chain must still pass it."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Recompute the hash chain over the log; name the first entry that was changed."""
    verdict = verify(open_engine(db), head=head)
    pending = f"; {verdict.unsealed} newer entr{'y' if verdict.unsealed == 1 else 'ies'} not "
    pending += "sealed yet (the next run, dispatch or `mahnwerk audit seal` seals them)"
    if verdict.broken is not None:
        b = verdict.broken
        raise AuditBroken(
            f"the audit log was changed outside mahnwerk: {b.reason} "
            f"(chain position {b.seq}; {verdict.sealed} entries before it are intact)",
            hint="restore the database from a backup and compare; the entries named are suspect",
        )
    typer.echo(
        f"audit log intact: {verdict.sealed} sealed entries, head {verdict.head}"
        + (pending if verdict.unsealed else "")
    )


def seal_cmd(db: DbOption = None) -> None:
    """Extend the hash chain over the entries written since the last seal."""
    engine = open_engine(db)
    sealed = seal(engine)
    typer.echo(
        f"sealed {sealed} new entr{'y' if sealed == 1 else 'ies'}; head {chain_head(engine)}"
    )


def register(app: typer.Typer) -> None:
    """Add the `audit` group to the top-level `mahnwerk` app."""
    audit_app.command("verify")(verify_cmd)
    audit_app.command("seal")(seal_cmd)
    app.add_typer(audit_app, name="audit")
