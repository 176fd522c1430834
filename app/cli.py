"""The `mahnwerk` command line."""

import typer

app = typer.Typer(no_args_is_help=True, help="mahnwerk: dunning policies as readable files.")
