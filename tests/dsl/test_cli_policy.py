"""`mahnwerk policy check|graph|convert|facts`, run through typer's test runner.

Exit codes are part of the interface (CI runs `mahnwerk policy check
policies/*`): 0 when all is well, 1 when a policy has errors or a named thing
does not exist, 2 for a wrong option value.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.dsl.compile import load_policy
from mahnwerk.dsl.expr import ALIASES, FACTS

POLICIES = Path(__file__).resolve().parents[2] / "policies"
BROKEN = Path(__file__).parent / "broken"
B2C = POLICIES / "de_b2c_standard.mahn"
KEY = POLICIES / "key_account.mahn"
B2B = POLICIES / "de_b2b_standard.yaml"

HAVE_YAML = importlib.util.find_spec("mahnwerk.dsl.yaml_reader") is not None
HAVE_WRITERS = importlib.util.find_spec("mahnwerk.dsl.writers") is not None
needs_yaml = pytest.mark.skipif(not HAVE_YAML, reason="dsl/yaml_reader.py is not there yet")
needs_writers = pytest.mark.skipif(
    not (HAVE_YAML and HAVE_WRITERS), reason="dsl/writers.py is not there yet"
)

GOOD = """policy "klein" version 1 {
  currency EUR
  timezone "Europe/Berlin"
  calendar DE
  language de
  segment default use standard
  ladder standard {
    state erinnerung at 7d after due { email "zahlungserinnerung" }
    state klaerung after 14d in erinnerung { notify "forderungsmanagement"; wait }
  }
  on dispute_opened pause
  on insolvency stop -> insolvent
}
"""


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "klein.mahn"
    path.write_text(GOOD, encoding="utf-8")
    return path


# ---------------------------------------------------------------- check


def test_check_prints_ok_and_exits_0_for_a_good_policy(good: Path):
    result = run("policy", "check", good)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{good}: ok\n"
    assert result.stderr == ""


def test_check_accepts_every_shipped_policy():
    files = sorted(p for p in POLICIES.iterdir() if p.suffix in (".mahn", ".yaml"))
    if not HAVE_YAML:
        files = [p for p in files if p.suffix == ".mahn"]
    result = run("policy", "check", *files)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{p}: ok" for p in files]


def test_check_shows_the_error_with_the_source_line_and_a_caret():
    path = BROKEN / "fee_on_email.mahn"
    result = run("policy", "check", path)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:21:7: error: a dunning fee needs a letter")
    assert lines[0].endswith("[L005]")
    assert lines[1] == "          fee 1.00 EUR"
    assert lines[2] == "          ^^^^^^^^^^^^"
    assert lines[3] == "    hint: send a letter in this state or remove the fee"
    assert lines[-1] == f"{path}: 1 error(s)"
    assert result.stdout == ""


def test_check_goes_through_all_files_and_fails_if_any_fails(good: Path):
    bad = BROKEN / "unknown_event.mahn"
    result = run("policy", "check", bad, good)
    assert result.exit_code == 1
    assert f"{good}: ok" in result.stdout
    assert f"{bad}:41:6: error: unknown event 'dispute_closed'" in result.stderr
    assert "    hint: did you mean 'dispute_" in result.stderr


def test_check_counts_warnings_but_still_succeeds(good: Path):
    good.write_text(GOOD.replace("  on insolvency stop -> insolvent\n", ""), encoding="utf-8")
    result = run("policy", "check", good)
    assert result.exit_code == 0
    assert result.stdout == f"{good}: ok (1 warning(s))\n"
    assert f"{good}:1:1: warning: no rule for `insolvency`" in result.stderr
    assert "[W010]" in result.stderr


def test_check_reports_a_missing_file(tmp_path: Path):
    missing = tmp_path / "nicht_da.mahn"
    result = run("policy", "check", missing)
    assert result.exit_code == 1
    assert f"{missing}:1:1: error: cannot read the policy" in result.stderr


def test_check_reports_a_file_that_is_not_utf8(tmp_path: Path):
    path = tmp_path / "latin1.mahn"
    path.write_bytes(GOOD.replace("klein", "Mahnung für Müller").encode("latin-1"))
    result = run("policy", "check", path)
    assert result.exit_code == 1
    assert "is not UTF-8 text" in result.stderr


def test_check_without_files_is_a_usage_error():
    result = run("policy", "check")
    assert result.exit_code == 2


# ---------------------------------------------------------------- graph


def test_graph_draws_every_segment_as_text():
    result = run("policy", "graph", B2C)
    assert result.exit_code == 0, result.output
    compiled = load_policy(B2C)
    for segment in compiled.policy.segments:
        assert f"segment {segment.name}  (ladder {segment.ladder})" in result.stdout
    assert "├─▶ mahnung_1  after 14d in erinnerung" in result.stdout
    assert "paused" not in result.stdout  # event rules only with --events


def test_graph_draws_one_segment_on_request():
    result = run("policy", "graph", KEY, "--segment", "key_account")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("segment key_account  (ladder key_account)\n")
    assert "segment default" not in result.stdout


def test_graph_refuses_an_unknown_segment_and_lists_the_known_ones():
    result = run("policy", "graph", KEY, "--segment", "vip")
    assert result.exit_code == 1
    assert "unknown segment 'vip'; segments: key_account, default" in result.stderr


@pytest.mark.parametrize(
    ("fmt", "start"),
    [("text", "segment "), ("mermaid", "stateDiagram-v2"), ("dot", "digraph ")],
)
def test_graph_draws_in_each_format(fmt: str, start: str):
    result = run("policy", "graph", B2C, "--segment", "default", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(start)
    for state in ("vorab", "erinnerung", "mahnung_1", "mahnung_2", "letzte_mahnung", "inkasso"):
        assert state in result.stdout


def test_graph_refuses_an_unknown_format():
    result = run("policy", "graph", B2C, "--format", "svg")
    assert result.exit_code == 2
    assert "unknown format 'svg': use one of text, mermaid, dot" in result.stderr


def test_graph_with_events_draws_the_policy_wide_rules():
    result = run("policy", "graph", B2C, "--segment", "default", "--events")
    assert result.exit_code == 0
    assert "├─▶ paused  on dispute_opened" in result.stdout
    assert "on promise_made until promised_date + 3 business days" in result.stdout
    assert "├─▶ insolvent  on insolvency" in result.stdout


def test_graph_of_a_broken_policy_shows_the_errors_and_exits_1():
    path = BROKEN / "cycle_of_time_triggers.mahn"
    result = run("policy", "graph", path)
    assert result.exit_code == 1
    assert f"{path}:29:5: error: time triggers form a cycle" in result.stderr
    assert result.stdout == ""


@needs_yaml
def test_graph_draws_a_yaml_policy():
    result = run("policy", "graph", B2B, "--format", "mermaid")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("stateDiagram-v2") == 1  # one document for every segment
    for segment in load_policy(B2B).policy.segments:
        assert f'state "segment {segment.name} (ladder {segment.ladder})"' in result.stdout


# ---------------------------------------------------------------- convert


@needs_writers
@pytest.mark.parametrize("source", [B2C, KEY, B2B], ids=lambda p: p.name)
def test_convert_round_trips_through_the_other_form(source: Path, tmp_path: Path):
    original = load_policy(source).policy
    there = "dsl" if source.suffix == ".yaml" else "yaml"
    back = "yaml" if there == "dsl" else "dsl"
    middle = tmp_path / ("middle.mahn" if there == "dsl" else "middle.yaml")
    result = run("policy", "convert", source, "--to", there, "-o", middle)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert load_policy(middle).policy == original
    result = run("policy", "convert", middle, "--to", back)
    assert result.exit_code == 0, result.output
    final = tmp_path / ("final.yaml" if back == "yaml" else "final.mahn")
    final.write_text(result.stdout, encoding="utf-8")
    assert load_policy(final).policy == original


@needs_writers
def test_convert_writes_to_stdout_without_output_option():
    result = run("policy", "convert", KEY, "--to", "yaml")
    assert result.exit_code == 0, result.output
    assert "key-account" in result.stdout
    assert "key_account" in result.stdout


@needs_writers
def test_convert_refuses_an_unknown_target():
    result = run("policy", "convert", KEY, "--to", "json")
    assert result.exit_code == 2
    assert "unknown target 'json': use yaml or dsl" in result.stderr


@needs_writers
def test_convert_of_a_broken_policy_shows_the_errors_and_exits_1():
    path = BROKEN / "unknown_state.mahn"
    result = run("policy", "convert", path, "--to", "yaml")
    assert result.exit_code == 1
    assert f"{path}:25:43: error: unknown state 'mahnung_2'" in result.stderr


def test_convert_needs_a_target():
    result = run("policy", "convert", KEY)
    assert result.exit_code == 2


# ---------------------------------------------------------------- facts


def test_facts_lists_every_fact_with_its_type_and_every_alias():
    result = run("policy", "facts")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for name, fact in FACTS.items():
        assert any(line.split()[:2] == [name, fact.type.value.split()[0]] for line in lines), name
    for alias, target in ALIASES.items():
        assert any(line.split() == [alias, "=", target] for line in lines), alias
    assert any("customer.risk_score" in line and "number" in line for line in lines)


def test_policy_without_a_subcommand_shows_help():
    result = run("policy")
    assert "check" in result.output and "graph" in result.output


def test_policy_check_refuses_a_template_missing_for_a_language_or_channel(tmp_path):
    """Own templates come before the shipped ones; a missing one is named at its line."""
    from typer.testing import CliRunner

    from mahnwerk.cli import app

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "mahnung_9.de.letter.j2").write_text("Sehr geehrte …")
    policy = tmp_path / "p.mahn"
    policy.write_text(
        'policy "t" version 1 { currency EUR timezone "Europe/Berlin" calendar DE language de\n'
        "  segment default use l\n"
        '  ladder l { state a at 7d after due { email "zahlungserinnerung" }\n'
        '             state b after 14d in a { letter "mahnung_9"; wait } }\n'
        "  on dispute_opened pause  on insolvency stop -> insolvent }\n"
    )
    shipped_only = CliRunner().invoke(app, ["policy", "check", str(policy)])
    assert shipped_only.exit_code == 1
    assert (
        f"{policy}:4:39: error: no template 'mahnung_9' for letter in language 'de'"
        in shipped_only.output
    )
    own = CliRunner().invoke(app, ["policy", "check", "--templates", str(folder), str(policy)])
    assert own.exit_code == 0, own.output
    english = CliRunner().invoke(
        app, ["policy", "check", "--templates", str(folder), "--languages", "en", str(policy)]
    )
    assert english.exit_code == 1
    assert "mahnung_9.en.letter.j2 is in none of" in english.output

def test_check_refuses_a_policy_over_the_size_limit_quickly(tmp_path: Path):
    # Issue 12: a 10 MB policy of 100,000 segments took 51 s and 1.2 GB to check.
    import time

    path = tmp_path / "riesig.mahn"
    segments = "".join(
        f"  segment s{i:06d} when customer.risk_score >= {i % 100} use standard\n"
        for i in range(100_000)
    )
    path.write_text(GOOD.replace("  segment ", segments + "  segment ", 1), encoding="utf-8")
    started = time.perf_counter()
    result = run("policy", "check", path)
    assert result.exit_code == 1
    assert f"{path}:1:1: error: the policy file is" in result.stderr
    assert "more than the limit of 256 KB for one policy" in result.stderr
    assert time.perf_counter() - started < 5
