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
