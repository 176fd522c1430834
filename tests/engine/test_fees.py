"""Dunning fees (B1), proportionality (D10), lump sum (A7) and collection costs (B2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mahnwerk.dsl.ir import Channel
from mahnwerk.engine.fees import (
    CollectionCase,
    FeeTableError,
    collection_costs,
    costs_after_lump_sum,
    dunning_fee,
    exceeds_consumer_cap,
    fee_headroom,
    fee_tables,
    lump_sum,
    lump_sum_decision,
    parse_fee_tables,
    rvg_one_fee,
)

D = Decimal


def fee(**overrides: object) -> Decimal:
    args: dict[str, object] = {
        "requested": D("1.00"),
        "channel": Channel.LETTER,
        "reminder_creates_default": False,
        "in_default": True,
        "consumer": True,
        "principal": D("100.00"),
    }
    args.update(overrides)
    return dunning_fee(**args).amount  # type: ignore[arg-type]


def test_reminder_that_creates_default_is_free() -> None:
    assert fee(reminder_creates_default=True) == 0


def test_no_fee_before_default() -> None:
    assert fee(in_default=False) == 0


def test_letter_after_default_charges_the_requested_fee() -> None:
    decision = dunning_fee(
        requested=D("1.00"),
        channel="letter",
        reminder_creates_default=False,
        in_default=True,
        consumer=True,
        principal=D("100.00"),
    )
    assert decision.amount == D("1.00")
    assert "§§ 280, 286 BGB" in decision.reason


def test_email_sms_and_calls_have_no_material_costs() -> None:
    for channel in (Channel.EMAIL, Channel.SMS, Channel.CALL):
        assert fee(channel=channel) == 0


def test_consumer_fee_is_capped_at_2_50_but_business_fee_is_not() -> None:
    assert fee(requested=D("3.00")) == D("2.50")
    assert fee(requested=D("3.00"), consumer=False) == D("3.00")
    assert exceeds_consumer_cap(D("2.51"))
    assert not exceeds_consumer_cap(D("2.50"))


def test_fees_stay_within_thirty_percent_of_principal() -> None:
    assert fee(principal=D("10.00"), fees_so_far=D("2.50")) == D("0.50")
    assert fee(principal=D("10.00"), fees_so_far=D("3.00")) == 0
    assert fee_headroom(principal=D("10.00"), fees_so_far=D("0"), share_percent=D(10)) == 1
    # the cent below and at the 30 % share of 100.00
    assert fee(principal=D("100.00"), fees_so_far=D("28.99"), requested=D("1.00")) == D("1.00")
    assert fee(principal=D("100.00"), fees_so_far=D("29.00"), requested=D("1.01")) == D("1.00")
    assert fee(principal=D("100.00"), fees_so_far=D("30.00"), requested=D("0.01")) == 0


@given(
    principal=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    fees_so_far=st.decimals(min_value=D("0"), max_value=D("1000"), places=2),
    requested=st.decimals(min_value=D("0"), max_value=D("10"), places=2),
)
def test_charged_fee_never_breaks_the_share(
    principal: Decimal, fees_so_far: Decimal, requested: Decimal
) -> None:
    charged = fee(principal=principal, fees_so_far=fees_so_far, requested=requested, consumer=False)
    assert D(0) <= charged <= requested
    if charged:
        assert (fees_so_far + charged) * 100 <= principal * 30  # D10, the rule itself


def test_lump_sum_is_40_eur_once_for_business_debtors_only() -> None:
    assert lump_sum(consumer=False, in_default=True, already_charged=False) == D("40.00")
    assert lump_sum(consumer=False, in_default=True, already_charged=True) == 0
    assert lump_sum(consumer=True, in_default=True, already_charged=False) == 0
    assert lump_sum(consumer=False, in_default=False, already_charged=False) == 0


def test_lump_sum_is_credited_against_later_collection_costs() -> None:
    assert costs_after_lump_sum(D("40.00"), D("55.62")) == D("15.62")  # owes 55.62 in all
    assert costs_after_lump_sum(D("40.00"), D("18.30")) == 0  # owes 40.00 in all
    assert costs_after_lump_sum(D("0.00"), D("18.30")) == D("18.30")


def test_standard_collection_costs_for_400_eur_claim_are_55_62() -> None:
    costs = collection_costs(D("400.00"), date(2025, 6, 1))
    assert (costs.one_fee, costs.fee, costs.expenses, costs.total) == (
        D("51.50"),
        D("46.35"),
        D("9.27"),
        D("55.62"),
    )


def test_40_eur_claim_paid_on_first_demand_costs_18_30() -> None:
    costs = collection_costs(D("40.00"), date(2025, 7, 1), CollectionCase.PAID_ON_FIRST_DEMAND)
    assert (costs.fee, costs.expenses, costs.total) == (D("15.25"), D("3.05"), D("18.30"))


@pytest.mark.parametrize(
    ("value", "mandate", "case", "total"),
    [
        ("50.00", "2025-05-31", CollectionCase.PAID_ON_FIRST_DEMAND, "18.00"),
        ("50.00", "2025-05-31", CollectionCase.STANDARD, "32.40"),
        ("50.00", "2025-06-01", CollectionCase.STANDARD, "32.94"),
        ("500.00", "2025-05-31", CollectionCase.DIFFICULT, "76.44"),
        ("500.00", "2025-06-01", CollectionCase.DIFFICULT, "80.34"),
        ("1000.00", "2025-06-01", CollectionCase.STANDARD, "100.44"),
        ("1000.00", "2025-06-01", CollectionCase.DIFFICULT, "140.90"),  # expenses capped at 20
    ],
)
def test_collection_costs_match_the_research_table(
    value: str, mandate: str, case: CollectionCase, total: str
) -> None:
    assert collection_costs(D(value), date.fromisoformat(mandate), case).total == D(total)


def test_fee_table_switches_on_1_june_2025() -> None:
    assert rvg_one_fee(D("1000.00"), date(2025, 5, 31)) == D("88.00")
    assert rvg_one_fee(D("1000.00"), date(2025, 6, 1)) == D("93.00")
    assert rvg_one_fee(D("1000.01"), date(2025, 6, 1)) == D("134.50")
    assert rvg_one_fee(D("50.01"), date(2025, 6, 1)) == D("51.50")


def test_claim_above_the_known_brackets_is_a_clear_error() -> None:
    with pytest.raises(FeeTableError, match="above the last bracket"):
        rvg_one_fee(D("30000.01"), date(2025, 6, 1))


def test_mandate_before_the_collection_rules_is_refused() -> None:
    with pytest.raises(FeeTableError, match="no RVG collection-fee table"):
        collection_costs(D("100.00"), date(2021, 9, 30))


def test_both_packaged_tables_cover_the_same_brackets() -> None:
    old, new = fee_tables()
    assert (old.effective_from, new.effective_from) == (date(2021, 10, 1), date(2025, 6, 1))
    assert [v for v, _ in old.brackets] == [v for v, _ in new.brackets]
    assert all(o < n for (_, o), (_, n) in zip(old.brackets, new.brackets, strict=True))


# ---------------------------------------------------------------------------
# The reason a person reads (E3), one per branch, and the boundaries found by mutation
# testing (issue 20)
# ---------------------------------------------------------------------------

FEE_OK = "letter fee after default: material costs (§§ 280, 286 BGB)"


@pytest.mark.parametrize(
    ("overrides", "amount", "reason"),
    [
        ({"requested": D("0.00")}, "0.00", "no fee requested"),
        ({"reminder_creates_default": True}, "0.00",
         "the reminder that creates default is free (§ 286 Abs. 1 BGB)"),
        ({"in_default": False}, "0.00",
         "no default yet: no damages for default (§§ 280, 286 BGB)"),
        ({"channel": Channel.EMAIL}, "0.00",
         "email has no material costs (VIII ZR 95/18)"),
        ({}, "1.00", FEE_OK),
        ({"requested": D("2.51")}, "2.50",
         f"{FEE_OK}; capped at 2.50 EUR for consumers (§ 309 Nr. 5 BGB)"),
        ({"requested": D("3.00"), "principal": D("5.00")}, "1.50",
         f"{FEE_OK}; capped at 2.50 EUR for consumers (§ 309 Nr. 5 BGB); "
         "cut to stay within 30 % of the principal (D10)"),
        # exactly the share that is left: charged in full, nothing was cut
        ({"requested": D("0.50"), "principal": D("5.00"), "fees_so_far": D("1.00")}, "0.50",
         FEE_OK),
        ({"requested": D("2.00"), "consumer_cap": D("1.50")}, "1.50",
         f"{FEE_OK}; capped at 1.50 EUR for consumers (§ 309 Nr. 5 BGB)"),
    ],
)
def test_each_fee_decision_says_why_in_the_words_of_the_rule(
    overrides: dict[str, object], amount: str, reason: str
) -> None:
    args: dict[str, object] = {
        "requested": D("1.00"), "channel": Channel.LETTER, "reminder_creates_default": False,
        "in_default": True, "consumer": True, "principal": D("100.00"),
    }
    decision = dunning_fee(**{**args, **overrides})  # type: ignore[arg-type]
    assert (decision.amount, decision.reason) == (D(amount), reason)


@pytest.mark.parametrize(
    ("kwargs", "amount", "reason"),
    [
        ({"consumer": True}, "0.00", "no lump sum from a consumer (§ 288 Abs. 5 BGB)"),
        ({"payment_for_goods_or_services": False}, "0.00",
         "no lump sum: not payment for goods or services (§ 288 Abs. 5 BGB)"),
        ({"in_default": False}, "0.00", "no lump sum before default (§ 288 Abs. 5 BGB)"),
        ({"already_charged": True}, "0.00",
         "the lump sum is due once per claim (§ 288 Abs. 5 BGB)"),
        ({}, "40.00", "lump sum for default (§ 288 Abs. 5 BGB)"),
    ],
)
def test_each_lump_sum_decision_says_why(kwargs: dict[str, bool], amount: str, reason: str):
    """Without `payment_for_goods_or_services` the claim is one (the usual case): 40 EUR."""
    args = {"consumer": False, "in_default": True, "already_charged": False, **kwargs}
    decision = lump_sum_decision(**args)
    assert (decision.amount, decision.reason) == (D(amount), reason)
    assert isinstance(decision.amount, Decimal)
    assert lump_sum(**args) == D(amount)


TABLE_CSV = """# a comment line, then a blank one

effective_from,value_up_to,fee_1_0,source
2025-06-01,500,51.50,new
2021-11-15,500,49.05,old
2021-11-15,50,30.00,old
"""


def test_a_fee_table_file_is_read_sorted_by_date_and_bracket_comments_skipped() -> None:
    old, new = parse_fee_tables(TABLE_CSV)
    assert (old.effective_from, old.brackets) == (
        date(2021, 11, 15), ((D(50), D("30.00")), (D(500), D("49.05"))),
    )
    assert (new.effective_from, new.brackets) == (date(2025, 6, 1), ((D(500), D("51.50")),))


def test_collection_costs_use_the_table_they_are_given_and_round_a_half_cent_up() -> None:
    """A 1.0 fee of 49.05 EUR at 0.9 is 44.145 EUR: 44.15 (§ 2 Abs. 2 RVG, half up)."""
    tables = parse_fee_tables(TABLE_CSV)
    costs = collection_costs(D("400.00"), date(2024, 1, 10), tables=tables)
    assert (costs.claim_value, costs.table_from, costs.one_fee, costs.factor) == (
        D("400.00"), date(2021, 11, 15), D("49.05"), D("0.9"),
    )
    assert (costs.fee, costs.expenses, costs.total) == (D("44.15"), D("8.83"), D("52.98"))
    assert rvg_one_fee(D("400.00"), date(2025, 6, 1), tables) == D("51.50")
    with pytest.raises(FeeTableError, match=r"above the last bracket \(500 EUR\)"):
        rvg_one_fee(D("500.01"), date(2025, 6, 1), tables)


@pytest.mark.parametrize("value", [D("0.00"), D("-1.00")])
def test_a_claim_of_nothing_has_no_collection_fee(value: Decimal) -> None:
    with pytest.raises(ValueError, match=f"claim value must be positive, got {value}"):
        rvg_one_fee(value, date(2025, 6, 1))
    assert rvg_one_fee(D("0.01"), date(2025, 6, 1)) == D("30.50")  # the first bracket
    assert rvg_one_fee(D("1.00"), date(2025, 6, 1)) == D("30.50")
