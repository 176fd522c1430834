"""`mahnwerk` and `mahnwerk --help` answer from `app/commands.json` without loading the CLI.

The overview must say exactly what the real command line says — same commands, same help,
same exit codes — and must not import what makes the real one slow (SQLAlchemy, the policy
compiler).  A new or renamed command makes `commands.json` stale: the first test fails and
says how to regenerate it.
"""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from mahnwerk import launch
from mahnwerk.cli import app


def test_the_committed_index_is_the_real_command_lines() -> None:
    committed = json.loads(launch.INDEX.read_text(encoding="utf-8"))
    assert committed == launch.index_of(app), (
        "app/commands.json is stale: run `.venv/bin/python -m mahnwerk.launch --write-index`"
    )


def test_the_overview_renders_exactly_the_real_help() -> None:
    overview = launch.overview_app(launch.index_of(app))
    for args in launch.OVERVIEW_ARGS:
        fast = CliRunner().invoke(overview, args, prog_name="mahnwerk", terminal_width=100)
        real = CliRunner().invoke(app, args, prog_name="mahnwerk", terminal_width=100)
        assert (fast.exit_code, fast.output) == (real.exit_code, real.output), args
        assert "policy" in fast.output and "webhooks" in fast.output


def test_the_overview_loads_neither_the_cli_nor_the_database_layer() -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['mahnwerk', '--help']\n"
        "from mahnwerk.launch import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('mahnwerk.cli', 'sqlalchemy', 'lark', 'mahnwerk.engine')\n"
        "         if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "Usage: mahnwerk" in done.stdout
    assert "HEAVY []" in done.stderr
