"""Issue 11: the residual tolerance as a policy author writes it, in both forms.

`residual up to 1.00 EUR write off` (text) and `residual: up to 1.00 EUR write off` (YAML)
read to the same IR, are written back by `policy convert` in the same words, and the
checker refuses a tolerance that is no longer cents or an `ask` with nothing to ask in.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mahnwerk.dsl import ir
from mahnwerk.dsl.compile import compile_source, load_policy
from mahnwerk.dsl.errors import PolicyError
from mahnwerk.dsl.expr import Money
from mahnwerk.dsl.writers import to_text, to_yaml

POLICIES = Path(__file__).resolve().parents[2] / "policies"

TEXT = """policy "t" version 1 {
  currency EUR
  timezone "Europe/Berlin"
  calendar DE region from customer
  language de
  limits {
    %s
  }
  segment default use standard
  ladder standard {
    state mahnung_1 after 14d after due { letter "mahnung_1"; fee 1.00 EUR }
    state inkasso after 14d in mahnung_1 { approval by 1; handover to "Inkasso GmbH" }
  }
  on dispute_opened pause
  on insolvency stop -> insolvent
}
"""


def residual_of(line: str) -> ir.Residual | None:
    return compile_source(TEXT % line, "t.mahn").policy.limits.residual


def test_the_action_is_optional_and_defaults_to_write_off():
    assert residual_of("residual up to 0.50 EUR") == ir.Residual(
        Money(Decimal("0.50"), "EUR"), ir.ResidualAction.WRITE_OFF
    )
    assert residual_of("residual up to 1.00 EUR ask in next letter") == ir.Residual(
        Money(Decimal("1.00"), "EUR"), ir.ResidualAction.ASK
    )


def test_a_policy_without_the_line_has_none_and_the_engine_applies_the_default():
    from mahnwerk.engine.residual import setting

    assert residual_of("minimum balance 5.00 EUR") is None
    default = setting(ir.Limits(), "EUR")
    assert default.tolerance == Money(Decimal("1.00"), "EUR")
    assert default.action is ir.ResidualAction.WRITE_OFF


SHIPPED = ["de_b2c_standard.mahn", "de_b2b_standard.yaml", "key_account.mahn"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_policy_states_its_residual_and_keeps_it_through_convert(name):
    policy = load_policy(POLICIES / name).policy
    assert policy.limits.residual is not None
    assert policy.limits.residual.tolerance == Money(Decimal("1.00"), "EUR")
    for text, path in ((to_text(policy), "x.mahn"), (to_yaml(policy), "x.yaml")):
        again = compile_source(text, path).policy
        assert again.limits.residual == policy.limits.residual
        assert again == policy


def test_the_two_forms_write_the_same_words():
    policy = compile_source(TEXT % "residual up to 0.75 EUR ask in next letter", "t.mahn").policy
    assert "    residual up to 0.75 EUR ask in next letter" in to_text(policy).splitlines()
    assert "residual: up to 0.75 EUR ask in next letter" in " ".join(to_yaml(policy).split())


def test_ten_euros_is_still_a_tolerance_and_a_cent_more_is_not():
    assert residual_of("residual up to 10.00 EUR write off") is not None
    with pytest.raises(PolicyError) as caught:
        residual_of("residual up to 10.01 EUR write off")
    (error,) = caught.value.diagnostics
    assert (error.code, error.span.line, error.span.col) == ("L009", 7, 5)
    assert "10.01 EUR is more than 10.00 EUR" in error.message


def test_an_unknown_action_in_the_text_form_is_refused_at_its_line():
    with pytest.raises(PolicyError) as caught:
        residual_of("residual up to 1.00 EUR abschreiben")
    assert caught.value.diagnostics[0].span.line == 7
