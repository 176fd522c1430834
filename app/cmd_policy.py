"""`mahnwerk policy check|graph|convert|facts|explain`: the commands on policy files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mahnwerk.cli_helpers import _date, _err, _json_arg, _now
from mahnwerk.cmd_lifecycle import ConfigOption, TemplatesOption
from mahnwerk.dsl.compile import check_file, load_policy
from mahnwerk.dsl.errors import PolicyError
from mahnwerk.errors import MahnwerkError


def policy_check(
    files: Annotated[list[Path], typer.Argument(help="Policy files (.mahn or .yaml).")],
    templates: TemplatesOption = None,
    config: ConfigOption = None,
    languages: Annotated[
        str | None,
        typer.Option(help="Languages your customers speak besides the policy's, e.g. de,en."),
    ] = None,
) -> None:
    """Check policies; print every error as file:line:col with the offending text.

    Every template a policy sends must exist for each of its languages and channels,
    in the own folder (--templates, else [delivery] templates in mahnwerk.toml) or the
    shipped ones."""
    from mahnwerk.cmd_lifecycle import template_errors, template_store
    from mahnwerk.dsl.compile import TEXT_SUFFIXES, YAML_SUFFIXES

    store = template_store(templates, config)
    spoken = [x.strip() for x in (languages or "").split(",") if x.strip()]
    failed = checked = 0
    for path in files:
        if path.suffix.lower() not in TEXT_SUFFIXES | YAML_SUFFIXES:
            typer.echo(f"{path}: skipped (not a policy file: .mahn, .yaml or .yml)")
            continue
        checked += 1
        diagnostics = check_file(path)
        errors = [d for d in diagnostics if d.severity == "error"]
        if not errors:
            errors = template_errors(path, store, spoken)
            diagnostics = sorted(diagnostics + errors, key=lambda d: (d.span.line, d.span.col))
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
    if not checked:
        raise MahnwerkError(
            f"nothing checked: {', '.join(map(str, files))} — no .mahn, .yaml or .yml file",
            hint="name policy files",
        )


def _load(path: Path):
    try:
        return load_policy(path)
    except PolicyError as exc:
        _err(exc.render())
        raise typer.Exit(1) from None


def policy_graph(
    file: Path,
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, mermaid or dot.")] = "text",
    events: Annotated[bool, typer.Option(help="Also draw policy-wide event rules.")] = False,
) -> None:
    """Draw each segment's ladder."""
    from mahnwerk.dsl.render import RENDERERS

    if fmt not in RENDERERS:
        _err(f"error: unknown format {fmt!r}: use one of {', '.join(RENDERERS)}")
        raise typer.Exit(2)
    compiled = _load(file)
    names = list(compiled.graphs)
    if segment is not None:
        if segment not in compiled.graphs:
            _err(f"error: {file}: unknown segment {segment!r}; segments: {', '.join(names)}")
            raise typer.Exit(1)
        names = [segment]
    if fmt == "mermaid":  # one valid Mermaid document, whatever the number of segments
        from mahnwerk.dsl.render import to_mermaid_all

        graphs = [compiled.graphs[n] for n in names]
        typer.echo(to_mermaid_all(graphs, with_handlers=events), nl=False)
        return
    out = [RENDERERS[fmt](compiled.graphs[n], with_handlers=events) for n in names]
    typer.echo("\n".join(out), nl=False)


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
        _err(f"error: unknown target {to!r}: use yaml or dsl")
        raise typer.Exit(2)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def policy_facts() -> None:
    """List the facts a condition can use."""
    from mahnwerk.dsl.expr import ALIASES, FACTS

    for name, fact in FACTS.items():
        typer.echo(f"{name:28} {fact.type.value:12} {fact.doc}")
    typer.echo("")
    for alias, target in ALIASES.items():
        typer.echo(f"{alias:28} = {target}")


def policy_explain(
    file: Path,
    customer: Annotated[str, typer.Option(help="Customer facts: JSON text or a .json file.")],
    invoice: Annotated[str, typer.Option(help="Invoice facts: JSON text or a .json file.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date to explain for.")] = None,
) -> None:
    """Which segment, which ladder, which state an invoice would be in, and why."""
    from mahnwerk.engine.explain import ExplainError, explain

    compiled = _load(file)
    day = _date(as_of, "--as-of") if as_of else _now().date()
    try:
        facts = _json_arg(customer, "--customer"), _json_arg(invoice, "--invoice")
        lines = explain(compiled, *facts, day)
    except ExplainError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    typer.echo("\n".join(lines))


def register(policy_app: typer.Typer) -> None:
    """check, graph, convert, facts (`deploy` follows them in `mahnwerk.cli`)."""
    policy_app.command("check")(policy_check)
    policy_app.command("graph")(policy_graph)
    policy_app.command("convert")(policy_convert)
    policy_app.command("facts")(policy_facts)


def register_explain(policy_app: typer.Typer) -> None:
    """explain, listed after the data and analytics commands as it always was."""
    policy_app.command("explain")(policy_explain)
