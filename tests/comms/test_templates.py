"""Templates: sandboxed, escaped, strict, formatted for the locale, checked against B3/E1/C6."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mahnwerk.engine.comms import checks, formatting
from mahnwerk.engine.comms.checks import (
    check_collection_letter,
    check_store,
    check_subject,
    debt_words,
    probe_context,
)
from mahnwerk.engine.comms.templates import SHIPPED, TemplateError, TemplateKey, TemplateStore

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def flat(text: str) -> str:
    return " ".join(text.split())


def render(store, name, language="de", channel="letter", tone=None, **kw):
    ctx = probe_context(name, language, channel, tone)
    ctx.update(kw)
    return store.render(store.find(name, language, channel, tone), ctx)


def test_the_shipped_templates_pass_every_check():
    store = TemplateStore()
    assert check_store(store) == []


def test_every_template_the_shipped_policies_send_exists_in_german_and_english():
    from mahnwerk.dsl import ir
    from mahnwerk.dsl.compile import load_policy

    store = TemplateStore()
    for path in sorted(POLICIES.glob("*.mahn")) + sorted(POLICIES.glob("*.yaml")):
        policy = load_policy(path).policy
        for ladder in policy.ladders:
            for state in ladder.states:
                for action in state.actions:
                    if isinstance(action, ir.Send):
                        for lang in ("de", "en"):
                            assert store.has(action.template, lang, action.channel.value), (
                                path.name,
                                action.template,
                                action.channel.value,
                                lang,
                            )


def test_policy_check_accepts_the_shipped_template_folder(tmp_path):
    from typer.testing import CliRunner

    from mahnwerk.cli import app

    result = CliRunner().invoke(
        app,
        ["policy", "check", *map(str, sorted(POLICIES.glob("*.ma*"))), "--templates", str(SHIPPED)],
    )
    assert result.exit_code == 0, result.output


def test_a_customer_called_like_a_template_stays_a_name():
    store = TemplateStore()
    ctx = probe_context("mahnung_1", "de", "letter")
    ctx["customer"] = replace(ctx["customer"], name="{{ 7*7 }}")
    from mahnwerk.engine.comms.context import recipient

    ctx["recipient"] = recipient(ctx["customer"], "de")
    out = store.render(store.find("mahnung_1", "de", "letter"), ctx)
    assert "Guten Tag {{ 7*7 }}," in out.text
    assert "49" not in out.text


def test_html_is_escaped_but_the_text_is_not():
    store = TemplateStore()
    ctx = probe_context("zahlungserinnerung", "de", "email")
    from mahnwerk.engine.comms.context import recipient

    ctx["customer"] = replace(ctx["customer"], name="Müller & <Söhne>")
    ctx["recipient"] = recipient(ctx["customer"], "de")
    out = store.render(store.find("zahlungserinnerung", "de", "email"), ctx)
    assert "Müller &amp; &lt;Söhne&gt;" in out.html
    assert "<Söhne>" not in out.html
    assert "Müller & <Söhne>" in out.text


def test_the_sandbox_refuses_python_internals(tmp_path):
    (tmp_path / "boese.de.letter.j2").write_text(
        '{% extends "_letter.de.j2" %}{% block subject %}x{% endblock %}'
        "{% block body %}{{ creditor.__class__.__mro__ }}{% endblock %}"
    )
    store = TemplateStore([tmp_path])
    with pytest.raises(TemplateError) as err:
        render(store, "boese")
    assert "boese.de.letter.j2" in str(err.value)


def test_a_missing_variable_is_an_error_naming_template_and_line(tmp_path):
    (tmp_path / "lueckenhaft.de.letter.j2").write_text(
        '{% extends "_letter.de.j2" %}\n'
        "{% block subject %}Hinweis{% endblock %}\n"
        "{% block body %}\n"
        "Ihr Kundenberater: {{ customer.berater }}\n"
        "{% endblock %}\n"
    )
    store = TemplateStore([tmp_path])
    with pytest.raises(TemplateError) as err:
        render(store, "lueckenhaft")
    assert err.value.file.endswith("lueckenhaft.de.letter.j2")
    assert err.value.line == 4
    assert "berater" in err.value.message


def test_a_syntax_error_names_template_and_line(tmp_path):
    (tmp_path / "kaputt.de.email.j2").write_text("{% block subject %}x{% endblock %}\n{% if %}\n")
    with pytest.raises(TemplateError) as err:
        render(TemplateStore([tmp_path]), "kaputt", channel="email")
    assert err.value.line == 2 and "kaputt.de.email.j2" in str(err.value)


def test_own_templates_come_before_the_shipped_ones(tmp_path):
    (tmp_path / "mahnung_1.de.letter.j2").write_text(
        '{% extends "_letter.de.j2" %}{% block subject %}Eigene{% endblock %}'
        "{% block body %}Unser eigener Text.{% endblock %}"
    )
    out = render(TemplateStore([tmp_path]), "mahnung_1")
    assert out.subject == "Eigene" and "Unser eigener Text." in out.text


def test_a_tone_picks_its_own_file_and_falls_back_to_the_plain_one():
    store = TemplateStore()
    assert store.find("mahnung_1", "de", "letter", "firm").tone == "firm"
    assert store.find("mahnung_1", "de", "letter", "friendly") == TemplateKey(
        "mahnung_1", "de", "letter"
    )
    with pytest.raises(TemplateError, match="mahnung_9"):
        store.find("mahnung_9", "de", "letter")


def test_amounts_and_dates_follow_the_locale():
    from datetime import date
    from decimal import Decimal

    assert flat(formatting.money(Decimal("1234.56"), "de")) == "1.234,56 €"
    assert formatting.money(Decimal("1234.56"), "en") == "€1,234.56"
    assert formatting.day(date(2026, 4, 15), "de") == "15.04.2026"
    assert formatting.day(date(2026, 4, 15), "en") == "15 April 2026"
    assert formatting.percent(Decimal("9.27"), "de") == "9,27 %"


def test_a_letter_itemises_fees_and_interest_with_period_rate_and_principal():
    text = flat(render(TemplateStore(), "mahnung_1").text)
    assert "Mahngebühr 2,00 €: Material- und Portokosten dieses Schreibens" in text
    assert (
        "Verzugszinsen 13,79 €: 44 Tage vom 16.04.2026 bis 29.05.2026 zu 9,27 % jährlich "
        "auf 1.234,56 €"
    ) in text
    assert "1.250,35 €" in text  # the total
    assert "„PR-2026-0815“" in text  # the payment reference
    assert "https://pay.example/PR-2026-0815" in text


# ---------------------------------------------------------------------------
# B3, E1, C6
# ---------------------------------------------------------------------------


def test_b3_the_shipped_collection_letter_states_everything_13a_rdg_requires():
    for lang in ("de", "en"):
        source = (SHIPPED / f"inkasso_ankuendigung.{lang}.letter.j2").read_text()
        assert check_collection_letter(source, lang) == []


def test_b3_a_collection_letter_without_the_supervisory_authority_is_refused():
    source = (SHIPPED / "inkasso_ankuendigung.de.letter.j2").read_text()
    broken = source.replace(
        "Zuständige Aufsichtsbehörde: {{ collection.supervisory_authority }}", ""
    )
    assert check_collection_letter(broken, "de") == ["the supervisory authority"]


def test_b3_a_collection_letter_without_the_interest_calculation_is_refused(tmp_path):
    source = (SHIPPED / "inkasso_ankuendigung.de.letter.j2").read_text()
    (tmp_path / "inkasso_ankuendigung.de.letter.j2").write_text(
        source.replace("{{ m.itemised() }}", "")
    )
    problems = check_store(TemplateStore([tmp_path]))
    rules = {(p.rule, p.message.split("state ")[-1]) for p in problems}
    assert ("B3", "interest: period") in rules and ("B3", "costs: reason") in rules


def test_e1_a_subject_with_debt_words_is_refused(tmp_path):
    assert debt_words("1. Mahnung zu Rechnung 4711") == ["mahnung"]
    assert debt_words("Final notice: overdue invoice", "en") == ["overdue", "final notice"]
    assert check_subject("Ihre Rechnung 4711", "de") == []
    (tmp_path / "zahlungserinnerung.de.email.j2").write_text(
        '{% extends "_email.de.j2" %}{% block subject %}Zahlungserinnerung {{ numbers }}'
        "{% endblock %}{% block body %}Bitte zahlen.{% endblock %}"
    )
    [problem] = check_store(TemplateStore([tmp_path]))
    assert problem.rule == "E1" and "zahlungserinnerung" in problem.message


def test_e1_can_be_switched_off_in_the_settings(tmp_path):
    (tmp_path / "zahlungserinnerung.de.email.j2").write_text(
        '{% extends "_email.de.j2" %}{% block subject %}Mahnung{% endblock %}'
        "{% block body %}Bitte zahlen.{% endblock %}"
    )
    settings = checks.probe_settings(neutral_subjects=False)
    assert check_store(TemplateStore([tmp_path]), settings) == []


def test_c6_letters_after_a_death_go_to_the_heirs():
    store = TemplateStore()
    for lang, heirs, greeting in (
        ("de", "An die Erben von Erika Mustermann", "Sehr geehrte Damen und Herren,"),
        ("en", "To the estate of Erika Mustermann", "Dear Sir or Madam,"),
    ):
        ctx = probe_context("mahnung_1", lang, "letter", deceased=True)
        assert ctx["recipient"].lines[0] == heirs
        out = store.render(store.find("mahnung_1", lang, "letter"), ctx)
        assert out.text.splitlines()[0] == greeting


@pytest.mark.parametrize("language", ["de", "en"])
def test_letters_announce_exactly_the_steps_the_engine_allows(language):
    """D9 and C2: a threat only where the workflow can take the step, and the credit-bureau
    notice whenever the engine records it as given."""
    store = TemplateStore()
    bdsg = "§ 31 Abs. 2 Nr. 4 BDSG" if language == "de" else "§ 31(2) no. 4 BDSG"
    collector = "Inkassounternehmen" if language == "de" else "debt collection agency"
    court = "Mahnbescheid" if language == "de" else "payment order"
    for name in ("mahnung_1", "mahnung_2", "letzte_mahnung"):
        quiet = render(store, name, language, announces=frozenset()).text
        loud = render(
            store,
            name,
            language,
            announces=frozenset({"credit_report", "handover", "court_order"}),
        ).text
        for words in (bdsg, collector, court):
            assert words not in flat(quiet), (name, words)
            assert words in flat(loud), (name, words)
