"""The `mahnwerk` command line: wires the policy language, the engine and the UI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.dsl.compile import check_file, load_policy
from mahnwerk.dsl.errors import PolicyError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="mahnwerk: dunning policies as readable files, run within the law.",
)
policy_app = typer.Typer(no_args_is_help=True, help="Check, draw, explain and convert policies.")
app.add_typer(policy_app, name="policy")


def _err(text: str) -> None:
    typer.echo(text, err=True)


@policy_app.command("check")
def policy_check(
    files: Annotated[list[Path], typer.Argument(help="Policy files (.mahn or .yaml).")],
) -> None:
    """Check policies; print every error as file:line:col with the offending text."""
    failed = 0
    for path in files:
        diagnostics = check_file(path)
        errors = [d for d in diagnostics if d.severity == "error"]
        for d in diagnostics:
            _err(d.render())
        if errors:
            failed += 1
            _err(f"{path}: {len(errors)} error(s)")
        else:
            warnings = len(diagnostics)
            typer.echo(f"{path}: ok" + (f" ({warnings} warning(s))" if warnings else ""))
    if failed:
        raise typer.Exit(1)


def _load(path: Path):
    try:
        return load_policy(path)
    except PolicyError as exc:
        _err(exc.render())
        raise typer.Exit(1) from None


@policy_app.command("graph")
def policy_graph(
    file: Path,
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, mermaid or dot.")] = "text",
    events: Annotated[bool, typer.Option(help="Also draw policy-wide event rules.")] = False,
) -> None:
    """Draw each segment's ladder."""
    from mahnwerk.dsl.render import RENDERERS

    if fmt not in RENDERERS:
        _err(f"unknown format {fmt!r}: use one of {', '.join(RENDERERS)}")
        raise typer.Exit(2)
    compiled = _load(file)
    names = list(compiled.graphs)
    if segment is not None:
        if segment not in compiled.graphs:
            _err(f"{file}: unknown segment {segment!r}; segments: {', '.join(names)}")
            raise typer.Exit(1)
        names = [segment]
    out = [RENDERERS[fmt](compiled.graphs[n], with_handlers=events) for n in names]
    typer.echo("\n".join(out), nl=False)


@policy_app.command("convert")
def policy_convert(
    file: Path,
    to: Annotated[str, typer.Option(help="yaml or dsl.")],
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """Translate a policy between YAML and the text form (comments are not carried over)."""
    from mahnwerk.dsl import writers

    compiled = _load(file)
    if to == "yaml":
        text = writers.to_yaml(compiled.policy)
    elif to in ("dsl", "text", "mahn"):
        text = writers.to_text(compiled.policy)
    else:
        _err(f"unknown target {to!r}: use yaml or dsl")
        raise typer.Exit(2)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@policy_app.command("facts")
def policy_facts() -> None:
    """List the facts a condition can use."""
    from mahnwerk.dsl.expr import ALIASES, FACTS

    for name, fact in FACTS.items():
        typer.echo(f"{name:28} {fact.type.value:12} {fact.doc}")
    typer.echo("")
    for alias, target in ALIASES.items():
        typer.echo(f"{alias:28} = {target}")


def main() -> None:  # pragma: no cover
    app()


def _json_arg(value: str) -> dict:
    path = Path(value)
    text = path.read_text(encoding="utf-8") if path.exists() else value
    return json.loads(text)
