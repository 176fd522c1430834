"""`policy graph --format mermaid` prints ONE valid Mermaid document, checked by Mermaid itself.

The check runs Mermaid's own parser (`mermaid.parse`, the npm package, under Node with
jsdom for the DOM it expects) on what the command printed.  `.ci/run` installs the two
packages into /opt/mahnwerk-mermaid (or $MAHNWERK_MERMAID_DIR); without them, or without
Node, these tests skip and say why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.dsl.compile import load_policy

ROOT = Path(__file__).resolve().parents[2]
POLICIES = sorted((ROOT / "policies").glob("*.mahn")) + sorted(
    (ROOT / "policies").glob("*.yaml")
)
CHECK = Path(__file__).with_name("mermaid_parse.mjs")
MODULES = Path(os.environ.get("MAHNWERK_MERMAID_DIR", "/opt/mahnwerk-mermaid")) / "node_modules"

needs_mermaid = pytest.mark.skipif(
    shutil.which("node") is None or not (MODULES / "mermaid").is_dir(),
    reason=f"Mermaid's parser is not installed ({MODULES}/mermaid, with Node): .ci/run "
    "installs it with `npm install --prefix /opt/mahnwerk-mermaid mermaid@11 jsdom`",
)


def mermaid_parse(text: str) -> subprocess.CompletedProcess:
    """Mermaid's verdict on `text`: stdout `ok {...}` (exit 0) or `error …` (exit 1)."""
    script = CHECK.read_text(encoding="utf-8")
    return subprocess.run(  # run from the folder holding node_modules: ESM resolves from there
        ["node", "--input-type=module", "-e", script],
        input=text,
        capture_output=True,
        text=True,
        cwd=MODULES.parent,
        timeout=60,
    )


def graph(path: Path, *extra: str) -> str:
    result = CliRunner().invoke(app, ["policy", "graph", str(path), "--format", "mermaid", *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_all_segments_make_one_document_with_a_composite_state_each(path: Path):
    text = graph(path, "--events")
    assert text.count("stateDiagram-v2") == 1
    policy = load_policy(path).policy
    blocks = re.findall(r'state "segment (\w+) \(ladder (\w+)\)" as (\w+) \{', text)
    assert [(s, ladder) for s, ladder, _ in blocks] == [(s.name, s.ladder) for s in policy.segments]
    for segment in policy.segments:  # ids are per segment, so no two segments share a state
        ladder = policy.ladder(segment.ladder)
        for state in ladder.states:
            assert f"{segment.name}__{state.name} : " in text


@needs_mermaid
@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
@pytest.mark.parametrize("extra", [(), ("--events",)], ids=["ladders", "with-events"])
def test_mermaid_parses_the_graph_of_every_shipped_policy(path: Path, extra: tuple):
    result = mermaid_parse(graph(path, *extra))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok") and '"diagramType":"stateDiagram"' in result.stdout


@needs_mermaid
def test_one_segment_alone_is_a_valid_document_too():
    path = ROOT / "policies" / "de_b2c_standard.mahn"
    result = mermaid_parse(graph(path, "--segment", "vulnerable"))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_mermaid
def test_the_parser_refuses_two_documents_run_together():
    """The check can fail: two diagrams printed one after the other are not one document."""
    path = ROOT / "policies" / "de_b2c_standard.mahn"
    two = graph(path, "--segment", "default") + graph(path, "--segment", "vulnerable")
    result = mermaid_parse(two)
    assert result.returncode == 1 and "Parse error" in result.stdout
