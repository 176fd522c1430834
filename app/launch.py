"""The `mahnwerk` entry point: the overview answered fast, every command by the real CLI.

Importing the command line (`mahnwerk.cli`) imports every command's module and, through
them, SQLAlchemy, the policy compiler, the letter renderer and the HTTP service — about a
second before anything is printed.  `mahnwerk` and `mahnwerk --help`, the calls a person
makes to find their way, need none of that: they are answered from `commands.json`, the
list of commands with their help texts, rendered by Typer exactly as the real command line
renders it.  `mahnwerk show INV` on a ready SQLite file is answered by `mahnwerk.quick`
with `sqlite3` alone.  Every other call goes to `mahnwerk.cli` unchanged.

`commands.json` is generated from the real command line
(`python -m mahnwerk.launch --write-index`); `tests/test_launch.py` fails when it is stale,
so a new or renamed command cannot be missing from the overview.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

INDEX = Path(__file__).with_name("commands.json")
OVERVIEW_ARGS = ([], ["--help"])


def index_of(app: Any) -> dict[str, Any]:
    """The overview of a Typer app: its help, its options and its commands' help texts."""
    import typer

    group = typer.main.get_command(app)
    commands = [
        {"name": name, "help": command.help or ""}
        for name, command in group.commands.items()  # type: ignore[attr-defined]
        if not command.hidden
    ]
    options = [
        {"decls": list(p.opts), "help": getattr(p, "help", "") or ""}
        for p in group.params
        if p.param_type_name == "option"
    ]
    return {"help": group.help or "", "options": options, "commands": commands}


def overview_app(index: dict[str, Any]) -> Any:
    """A Typer app with the real one's overview and no work behind it: it only renders help."""
    import typer

    app = typer.Typer(no_args_is_help=True, add_completion=False, help=index["help"])
    # The root options (`--debug`), declared from the index: a signature Typer reads.
    names = [f"option_{i}" for i in range(len(index["options"]))]

    def _root(**_: Any) -> None:  # pragma: no cover - never invoked, only described
        pass

    _root.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(False, *option["decls"], help=option["help"]),
                annotation=bool,
            )
            for name, option in zip(names, index["options"], strict=True)
        ]
    )
    _root.__annotations__ = dict.fromkeys(names, bool)
    app.callback()(_root)
    for command in index["commands"]:
        app.command(command["name"], help=command["help"])(lambda: None)
    return app


def main() -> None:
    args = sys.argv[1:]
    if args in OVERVIEW_ARGS and INDEX.exists():
        overview_app(json.loads(INDEX.read_text(encoding="utf-8")))(
            args=args, prog_name="mahnwerk"
        )
        return
    if args[:1] == ["show"]:
        from mahnwerk.quick import show

        if show(args):
            return
    from mahnwerk.cli import app

    app()


def _write_index() -> None:
    from mahnwerk.cli import app

    text = json.dumps(index_of(app), ensure_ascii=False, indent=1) + "\n"
    INDEX.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-index"]:
        _write_index()
    else:
        main()
