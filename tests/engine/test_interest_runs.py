"""A6: interest is the sum of its per-period lines, whenever and however often the engine books.

The expected values here never come from the engine's own interest code: they are computed
day by day from the base-rate data (`rates.base_rate_on`, the Bundesbank table) with the
statutory points, grouped into periods of one rate and one principal, and each period rounded
half-up once — the rule of `legal-rules.md` A6 written out again in a few lines.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mahnwerk.dsl.compile import CompiledPolicy, compile_source, load_policy
from mahnwerk.dsl.ir import EventKind
from mahnwerk.engine import law
from mahnwerk.engine.rates import base_rate_on, known_until
from mahnwerk.engine.state import Charge, Customer, Event, Invoice, Record
from mahnwerk.engine.step import step

D = Decimal
CENT = D("0.01")


def independent_interest(
    principal_on: dict[date, Decimal], first: date, last: date, points: Decimal
) -> Decimal:
    """Day by day: group runs of one rate and one principal, round each run once, add.

    Days after the last published base rate are provisional (A5) and stand apart: their
    rate is a guess until the Bundesbank publishes it, so they never share a line.
    """
    total, run_key, run_sum = D("0.00"), None, D(0)
    day = first
    while day <= last:
        key = (base_rate_on(day) + points, principal_on[day], day > known_until())
        if key != run_key:
            total += run_sum.quantize(CENT, rounding=ROUND_HALF_UP)
            run_key, run_sum = key, D(0)
        rate, principal, _ = key
        run_sum += principal * max(rate, D(0)) / D(36500)
        day += timedelta(days=1)
    return total + run_sum.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# The issue's worked example, through the shipped consumer policy
# ---------------------------------------------------------------------------

B2C = load_policy(
    __import__("pathlib").Path(__file__).resolve().parents[2] / "policies/de_b2c_standard.mahn"
)


def _run(
    compiled: CompiledPolicy,
    invoice: Invoice,
    customer: Customer,
    days: list[date],
    events: list[Event],
) -> tuple[Record, list[Charge], list]:
    record, charges, transitions = None, [], []
    waiting = sorted(events, key=lambda e: e.on)
    for day in days:
        due = [e for e in waiting if e.on <= day]
        waiting = [e for e in waiting if e.on > day]
        out = step(record, invoice, customer, due, day, compiled)
        record = out.record
        charges += out.charges
        transitions += out.transitions
    return record, charges, transitions


def test_the_issue_example_books_the_day_by_day_sum_and_leaves_nothing_open():
    """Consumer, 2,345.67 EUR in default from 2024-12-10, paid 2025-07-20: 104.05 EUR."""
    invoice = Invoice(
        "R1", "K1", date(2024, 11, 25), date(2024, 12, 9), D("2345.67"), due_date_agreed=True
    )
    customer = Customer("K1", type="B2C", region="BE")
    days = [date(2024, 12, 1) + timedelta(days=i) for i in range(231)]  # to 2025-07-19
    record, charges, _ = _run(B2C, invoice, customer, days, [])
    owed = record.balance + law.unbooked_interest(record, True, True, date(2025, 7, 20))
    pay = Event(EventKind.PAYMENT_FULL, date(2025, 7, 20), owed)
    out = step(record, invoice, customer, [pay], date(2025, 7, 20), B2C)
    interest = sum(c.amount for c in [*charges, *out.charges] if c.kind == "interest")
    principal = {date(2024, 12, 10) + timedelta(days=i): D("2345.67") for i in range(222)}
    expected = independent_interest(principal, date(2024, 12, 10), date(2025, 7, 19), D(5))
    assert expected == D("104.05")  # 11.83 + 84.56 + 7.66, the three base-rate periods
    assert interest == expected
    assert out.record.state == "paid" and out.record.balance == 0


def test_lines_of_one_period_booked_on_several_days_add_up_to_that_period_rounded_once():
    """Booked daily, the 181 days at 7.27 % come to 84.56, not a sum of 181 roundings."""
    run_from, principal, points = date(2025, 1, 1), D("2345.67"), D(5)
    booked, total = None, D("0.00")
    for end in (date(2025, 1, 1) + timedelta(days=i) for i in range(181)):
        for line in law.interest_lines(principal, run_from, booked, end, points):
            assert line.rate == D("7.27")
            total += line.amount
        booked = end
    assert total == D("84.56")


def test_a_line_never_spans_a_base_rate_change():
    lines = law.interest_lines(D("1000.00"), date(2025, 5, 16), None, date(2025, 8, 14), D(5))
    assert [(x.start, x.end, x.rate, x.amount) for x in lines] == [
        (date(2025, 5, 16), date(2025, 6, 30), D("7.27"), D("9.16")),
        (date(2025, 7, 1), date(2025, 8, 14), D("6.27"), D("7.73")),
    ]


# ---------------------------------------------------------------------------
# The property: random ladder timings, payments and run days
# ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def ladder(first: int, gaps: tuple[int, ...], claim_at: int) -> CompiledPolicy:
    """A ladder with the given timings; `interest statutory` in state number `claim_at`."""
    states = [f'state s0 at {first}d after due {{ email "zahlungserinnerung"'] + [
        f'state s{i + 1} after {gap}d in s{i} {{ letter "mahnung_{i + 1}"'
        for i, gap in enumerate(gaps)
    ]
    body = "\n".join(
        text
        + ("; interest statutory" if i == claim_at else "")
        + ("; wait" if i == len(gaps) else "")
        + " }"
        for i, text in enumerate(states)
    )
    source = f"""
policy "runs" version 1 {{
  currency EUR  timezone "Europe/Berlin"  calendar DE region from customer  language de
  segment alle use l
  ladder l {{
{body}
  }}
  on payment_partial ignore
}}
"""
    return compile_source(source, "runs.mahn")


def _cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda c: D(c).scaleb(-2))


@st.composite
def cases(draw: st.DrawFn):
    due = date(2023, 6, 1) + timedelta(days=draw(st.integers(0, 900)))
    amount = draw(_cents(1000, 5_000_000))
    gaps = tuple(draw(st.lists(st.integers(7, 40), min_size=1, max_size=3)))
    compiled = ladder(draw(st.integers(1, 20)), gaps, draw(st.integers(0, len(gaps))))
    horizon = draw(st.integers(30, 400))
    end = due + timedelta(days=horizon)
    payments = []
    for _ in range(draw(st.integers(0, 3))):
        on = due + timedelta(days=draw(st.integers(1, horizon - 1)))
        share = draw(st.integers(1, 30))
        payments.append(Event(EventKind.PAYMENT_PARTIAL, on, (amount * share / 100).quantize(CENT)))
    runs = sorted(
        {due + timedelta(days=d) for d in draw(st.lists(st.integers(0, horizon), max_size=12))}
        | {due - timedelta(days=5), end}
    )
    consumer = draw(st.booleans())
    return compiled, due, amount, sorted(payments, key=lambda e: e.on), runs, end, consumer


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_interest_booked_equals_the_per_period_sum_whenever_the_engine_books(case):
    compiled, due, amount, payments, runs, end, consumer = case
    invoice = Invoice("R1", "K1", due - timedelta(days=14), due, amount, due_date_agreed=True)
    customer = Customer("K1", type="B2C" if consumer else "B2B", region="BE")
    final = Event(EventKind.PAYMENT_FULL, end, amount * 3)  # closes the claim: all booked
    record, charges, transitions = _run(compiled, invoice, customer, runs, [*payments, final])
    assert record.state == "paid"
    claim = next((t.on for t in transitions if _claims_interest(compiled, t.target)), None)
    booked = sum((c.amount for c in charges if c.kind == "interest"), D("0.00"))
    if claim is None:
        assert booked == 0  # never claimed (paid before): nothing booked
        return

    # The independent model: § 367 on each payment (no fees here: interest, then principal),
    # interest counted only once claimed; each day bears interest on that day's principal.
    points = D(5) if consumer else D(9)
    default = due + timedelta(days=1)
    principal, paid_interest = amount, D("0.00")
    principal_on: dict[date, Decimal] = {}
    day = default
    while day < end:
        for payment in [p for p in payments if p.on == day]:
            owed = D("0.00")
            if day > claim and day > default:
                earlier = day - timedelta(days=1)
                owed = independent_interest(principal_on, default, earlier, points)
                owed -= paid_interest
            to_interest = min(payment.amount, owed)
            paid_interest += to_interest
            principal = max(D("0.00"), principal - (payment.amount - to_interest))
        principal_on[day] = principal
        day += timedelta(days=1)
    last = end - timedelta(days=1)
    expected = independent_interest(principal_on, default, last, points) if end > default else 0
    assert booked == expected, (booked, expected, claim)


def _claims_interest(compiled: CompiledPolicy, state: str) -> bool:
    found = [s for s in compiled.policy.ladders[0].states if s.name == state]
    return any(type(a).__name__ == "Interest" for s in found for a in s.actions)
