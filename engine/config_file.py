"""The configuration file itself: where it is, reading it as TOML, and `ConfigError`.

Both the communications settings (`engine/comms/config`) and the `[datev]` settings
(`engine/accounting/accounts`) live in the one `mahnwerk.toml`; this module reads it
for both, so a missing file, a file that is not UTF-8 and a TOML syntax error are told
the same way whichever section was wanted.  What the file must hold is each reader's.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from mahnwerk.errors import MahnwerkError

DEFAULT_FILE = "mahnwerk.toml"
ENV_FILE = "MAHNWERK_CONFIG"


class ConfigError(MahnwerkError, ValueError):
    """A setting is missing or wrong: `file: [section] key: what is wrong — what to do`."""

    def __init__(self, path: Path | str, key: str, message: str, hint: str = "") -> None:
        self.path, self.key, self.message, self.hint = str(path), key, message, hint
        text = f"{path}: {key}: {message}"
        super().__init__(text + (f" — {hint}" if hint else ""))


def config_path(cli_value: str | Path | None = None) -> Path:
    """`--config`, else $MAHNWERK_CONFIG, else `mahnwerk.toml` in the current folder."""
    return Path(cli_value or os.environ.get(ENV_FILE) or DEFAULT_FILE)


def read_config(path: str | Path | None, missing_hint: str) -> tuple[Path, dict[str, Any]]:
    """The file (`config_path(path)`) and its TOML; a `ConfigError` if it is missing
    (with `missing_hint`, the reader's own advice), not UTF-8, or not valid TOML."""
    file = config_path(path)
    if not file.is_file():
        raise ConfigError(file, "(file)", "no such configuration file", missing_hint)
    try:
        return file, tomllib.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            file, "(file)", f"not UTF-8 text (byte {exc.start})", "save it as UTF-8 TOML"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "(syntax)", str(exc), "fix the TOML syntax") from None
