"""`mahnwerk portal link CUSTOMER` and `mahnwerk portal revoke ID|CUSTOMER`.

Registered into the `mahnwerk` command by `app/cli.py` with one call (`register`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mahnwerk import clock
from mahnwerk.options import DbOption, open_engine

portal_app = typer.Typer(no_args_is_help=True, help="The customers' portal: personal links.")
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="mahnwerk.toml ([portal] base_url, link_days).")
]


def _settings(config: Path | None):
    from mahnwerk.engine.comms.config import config_path, demo_settings, load_settings

    path = config_path(config)
    return load_settings(path) if path.is_file() else demo_settings()


@portal_app.command("link")
def link_cmd(
    customer: Annotated[str, typer.Argument(help="The customer number, e.g. K-1001.")],
    db: DbOption = None,
    config: ConfigOpt = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="Address of `mahnwerk serve` (default: [portal] base_url)."
        ),
    ] = None,
    qr: Annotated[
        Path | None, typer.Option("--qr", help="Write the link's QR code (SVG) here.")
    ] = None,
) -> None:
    """Make a new personal link for a customer and print it (and its QR code with --qr)."""
    from mahnwerk.portal.links import new_link, qr_svg

    settings = _settings(config)
    base = base_url or settings.portal.base_url or "http://127.0.0.1:8080"
    made = new_link(open_engine(db), customer, settings.portal, clock.now(), "cli")
    url = made.url(base)
    typer.echo(f"{url}  (link {made.id}, valid until {made.expires_at:%Y-%m-%d %H:%M} UTC)")
    if qr is not None:
        qr.write_text(qr_svg(url, customer), encoding="utf-8")
        typer.echo(f"QR code: {qr}")


@portal_app.command("revoke")
def revoke_cmd(
    which: Annotated[str, typer.Argument(help="A link id (before the dot) or a customer number.")],
    by: Annotated[
        str, typer.Option("--by", envvar="MAHNWERK_OPERATOR", help="Who revokes.")
    ] = "operator",
    db: DbOption = None,
) -> None:
    """Revoke a link, or every link of a customer; the page refuses them from now on."""
    from mahnwerk.engine.identity import person
    from mahnwerk.portal.links import revoke

    typer.echo(revoke(open_engine(db), which, person(by), clock.now()))


def register(app: typer.Typer) -> None:
    app.add_typer(portal_app, name="portal")
