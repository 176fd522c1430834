"""How long a large policy takes to read, check and turn into graphs.

A realistic big policy — a group with many business units, each with its own
segments, ladders with pre-due notes, reminders, several Mahnungen, branches on
the amount, explicit transitions, hand-overs and court steps — is generated in
the text form (about 2,000 lines by default), then timed:

    parse      text -> IR                   (`text_reader.read_text`)
    check      IR -> checked, graphs built  (`compile.compile_policy`)
    total      both, as `load_policy` does  (`compile.compile_source`)

Each figure is the best of N runs (`time.perf_counter`); the target for the
total is 200 ms.  With `--yaml` the same policy is also converted to YAML
(needs `dsl/writers.py` and `dsl/yaml_reader.py`) and timed the same way.
With `--profile` the total is run under cProfile and the top functions printed.

    /tmp/venv/bin/python bench/bench_compile.py [--lines 2000] [--runs 7] [--yaml]
        [--profile] [--dump] [--strict]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable

from mahnwerk.dsl.compile import compile_policy, compile_source
from mahnwerk.dsl.errors import Collector
from mahnwerk.dsl.text_reader import read_text

TARGET_MS = 200.0

HEAD = """# Generated benchmark policy: many business units, segments and ladders.
policy "bench-konzern" version 7 {
  currency EUR
  timezone "Europe/Berlin"
  calendar DE region from customer
  language de

  limits {
    minimum balance 5.00 EUR
    at most 3 contacts per 7 days
    letters at least 14 days apart
    no sms between 20:00 and 08:00
    no call between 20:00 and 08:00
    fees at most 2.50 EUR
    fees at most 30% of principal
    no handover below 50.00 EUR
  }
"""

EVENTS = """
  on dispute_opened    pause
  on dispute_resolved  resume
  on promise_made      pause until promised_date + 3 business days
  on promise_broken    resume
  on plan_agreed       pause
  on instalment_missed resume
  on plan_completed    stop -> paid
  on payment_partial   ignore
  on insolvency        stop -> insolvent
  on write_off         stop -> written_off
  on hold              pause
  on release           resume
  on death_notice      pause
}
"""

REGIONS = ["BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST"]


def _ladder(name: str, b2b: bool, mahnungen: int) -> list[str]:
    """One ladder: pre-due, reminder, `mahnungen` Mahnungen, final notice, branches."""
    out = [f"  ladder {name} {{"]
    out += [
        '    state vorab "Hinweis vor Fälligkeit" at 3d before due {',
        '      email "vorab_hinweis"',
        "      offer skonto 2% within 3d when invoice.amount >= 5000 EUR",
        "    }",
        '    state erinnerung "Zahlungserinnerung" at 7d after due {',
        '      email "zahlungserinnerung"',
        '      sms "zahlungserinnerung_sms"',
        "    }",
        '    state erinnerung_brief "Erinnerung per Brief" on delivery_failed from erinnerung {',
        '      letter "zahlungserinnerung"',
        "    }",
        "    after 14d in erinnerung_brief -> mahnung_1",
    ]
    prev = "erinnerung"
    for k in range(1, mahnungen + 1):
        out += [
            f'    state mahnung_{k} "{k}. Mahnung" after 14d in {prev} {{',
            f'      letter "mahnung_{k}"',
            "      fee 1.00 EUR",
        ]
        if k == 1:
            out.append("      interest statutory")
            if b2b:
                out.append("      lump sum")
        if k % 2 == 0:
            out.append(f"      offer payment plan of {k + 4} instalments when balance > 200 EUR")
        if k % 3 == 0:
            out.append('      notify "forderungsmanagement"')
        out.append("    }")
        out += [
            f'    state anruf_{k} "Anruf {k}" on delivery_failed from mahnung_{k} {{',
            f'      call "anruf_leitfaden_{k}"',
            '      notify "telefonteam"',
            "    }",
            f"    after 7d in anruf_{k} -> mahnung_{k + 1 if k < mahnungen else 'letzte'}",
        ]
        prev = f"mahnung_{k}"
    out += [
        f'    state mahnung_letzte "Letzte Mahnung" after 14d in {prev} {{',
        '      letter "letzte_mahnung"',
        "      fee 1.00 EUR",
        "      stop credit" if b2b else '      notify "forderungsmanagement"',
        "    }",
        '    state spaet "Spätfall" at 180d after due when not disputed {',
        '      letter "letzte_mahnung"',
        '      notify "forderungsmanagement"',
        "    }",
        "    after 14d in spaet -> klaerung",
        '    state inkasso "Inkasso" after 14d in mahnung_letzte',
        "        when principal >= 50 EUR and principal < 5000 EUR and not disputed {",
        '      letter "inkasso_ankuendigung"',
        "      approval by 2 when balance > 1000 EUR else 1",
        '      handover to "Inkasso Partner GmbH"',
        "    }",
    ]
    if b2b:
        out += [
            '    state mahnbescheid "Mahnbescheid" after 14d in mahnung_letzte',
            "        when principal >= 5000 EUR and not disputed and not invoice.time_barred {",
            '      letter "mahnbescheid_ankuendigung"',
            "      approval by 2",
            "      court order",
            "      wait",
            "    }",
        ]
    low = "principal < 50 EUR" if not b2b else "principal < 50 EUR or invoice.time_barred"
    out += [
        '    state klaerung "Klärung" after 14d in mahnung_letzte',
        f"        when {low} or disputed {{",
        '      notify "forderungsmanagement"',
        "      wait",
        "    }",
        "  }",
        "",
    ]
    return out


def _segments(units: int, ladders: list[tuple[str, bool]]) -> list[str]:
    out = []
    b2b = [n for n, is_b2b in ladders if is_b2b]
    b2c = [n for n, is_b2b in ladders if not is_b2b]
    for u in range(units):
        region = REGIONS[u % len(REGIONS)]
        lb, lc = b2b[u % len(b2b)], b2c[u % len(b2c)]
        out += [
            f"  segment bu{u:02}_b2b_risk",
            f"      when customer.type == B2B and customer.region == {region}"
            f" and customer.risk_score >= {60 + u % 30}",
            f"      use {lb} tone firm",
            f"  segment bu{u:02}_b2b_gross",
            f"      when customer.type == B2B and customer.region == {region}"
            f" and customer.open_balance > {10000 + 500 * u} EUR",
            f"      use {lb} tone friendly language de",
            f"  segment bu{u:02}_b2c_gut",
            f"      when customer.region == {region} and customer.avg_days_late <= {3 + u % 5}",
            '        and not customer.vulnerable and "neukunde" not in customer.tags',
            f"      use {lc} tone friendly",
        ]
    out.append(f"  segment default use {b2c[0]}")
    out.append("")
    return out


def generate(lines: int = 2000) -> str:
    """A valid text policy of about `lines` lines."""
    ladders: list[tuple[str, bool]] = []
    body: list[str] = []
    units = 20
    fixed = HEAD.count("\n") + len(_segments(units, [("a", True), ("b", False)]))
    fixed += EVENTS.count("\n")
    n = 0
    while True:
        is_b2b = n % 2 == 0
        name = f"{'b2b' if is_b2b else 'b2c'}_{n:02}"
        chunk = _ladder(name, is_b2b, mahnungen=3 + n % 4)
        if fixed + len(body) >= lines and len(ladders) >= 2:
            break
        ladders.append((name, is_b2b))
        body += chunk
        n += 1
    segs = _segments(units, ladders)
    return HEAD + "\n".join(segs) + "\n" + "\n".join(body) + EVENTS


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """The fastest of `runs` calls of `fn`, in milliseconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _time_text(source: str, runs: int) -> dict[str, float]:
    path = "bench.mahn"

    def parse():
        c = Collector(path, source)
        policy = read_text(source, path, c)
        assert policy is not None and not c.errors, c.errors
        return policy

    policy = parse()
    return {
        "parse": best_of(runs, parse),
        "check+graphs": best_of(runs, lambda: compile_policy(policy, source)),
        "total": best_of(runs, lambda: compile_source(source, path)),
    }


def _time_yaml(source: str, runs: int) -> dict[str, float] | None:
    try:
        from mahnwerk.dsl.writers import to_yaml
        from mahnwerk.dsl.yaml_reader import read_yaml
    except ImportError:
        return None
    text = to_yaml(compile_source(source, "bench.mahn").policy)
    path = "bench.yaml"

    def parse():
        c = Collector(path, text)
        policy = read_yaml(text, path, c)
        assert policy is not None and not c.errors, c.errors
        return policy

    policy = parse()
    return {
        "lines": text.count("\n"),
        "parse": best_of(runs, parse),
        "check+graphs": best_of(runs, lambda: compile_policy(policy, text)),
        "total": best_of(runs, lambda: compile_source(text, path)),
    }


def _profile(source: str, top: int = 25) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        compile_source(source, "bench.mahn")
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
    stats.print_stats(top)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=2000, help="size of the policy (default 2000)")
    ap.add_argument("--runs", type=int, default=7, help="best of N runs (default 7)")
    ap.add_argument("--yaml", action="store_true", help="also time the YAML form")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of the total")
    ap.add_argument("--dump", action="store_true", help="print the generated policy and exit")
    ap.add_argument("--strict", action="store_true", help="exit 1 if the target is missed")
    args = ap.parse_args(argv)

    source = generate(args.lines)
    if args.dump:
        sys.stdout.write(source)
        return 0
    compiled = compile_source(source, "bench.mahn")  # also warms the grammar cache
    p = compiled.policy
    states = sum(len(ladder.states) for ladder in p.ladders)
    edges = sum(g.number_of_edges() for g in compiled.graphs.values())
    print(
        f"policy: {source.count(chr(10))} lines, {len(p.segments)} segments, "
        f"{len(p.ladders)} ladders, {states} states, {len(p.handlers)} event rules, "
        f"{edges} edges over all segment graphs"
    )
    print(f"best of {args.runs} runs (ms):")
    figures = _time_text(source, args.runs)
    for key, ms in figures.items():
        print(f"  text  {key:13} {ms:8.1f}")
    if args.yaml:
        yaml_figures = _time_yaml(source, args.runs)
        if yaml_figures is None:
            print("  yaml  (skipped: dsl/writers.py or dsl/yaml_reader.py missing)")
        else:
            print(f"  yaml  ({yaml_figures.pop('lines'):.0f} lines)")
            for key, ms in yaml_figures.items():
                print(f"  yaml  {key:13} {ms:8.1f}")
    total = figures["total"]
    verdict = "met" if total < TARGET_MS else "MISSED"
    print(f"target: total < {TARGET_MS:.0f} ms: {verdict} ({total:.1f} ms)")
    if args.profile:
        print(_profile(source))
    return 1 if args.strict and total >= TARGET_MS else 0


if __name__ == "__main__":
    raise SystemExit(main())
