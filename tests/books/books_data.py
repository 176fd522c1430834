"""Test data for the accounting integration tests: the official XRechnung cases and variants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

XRECHNUNG = Path(__file__).parent.parent / "data" / "xrechnung"


def cases() -> list[str]:
    """The standard business cases of the XRechnung test suite, e.g. `01.14a-INVOICE`."""
    return sorted({p.name.rsplit("_", 1)[0] for p in XRECHNUNG.glob("*_ubl.xml")})


def variant(path: Path, tmp_path: Path, name: str, **replacements: str) -> Path:
    """A copy of an official file with regex replacements (pattern → text)."""
    text = path.read_text(encoding="utf-8")
    for pattern, new in replacements.items():
        text, count = re.subn(pattern, new, text, count=1, flags=re.S)
        assert count == 1, f"{pattern!r} not found in {path.name}"
    out = tmp_path / name
    out.write_text(text, encoding="utf-8")
    return out


@pytest.fixture
def xrechnung() -> Path:
    return XRECHNUNG
