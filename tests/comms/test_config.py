"""The settings file: wrong or missing settings are refused naming the file and the key."""

from __future__ import annotations

import pytest

from mahnwerk.engine.comms.config import ConfigError, load_settings

GOOD = """
[creditor]
name = "Muster Versand GmbH"
street = "Hauptstraße 1"
postal_code = "10115"
city = "Berlin"
iban = "DE89370400440532013000"

[smtp]
host = "mail.example.com"
sender = "Muster <f@example.com>"
username = "f@example.com"
"""


def write(tmp_path, text):
    path = tmp_path / "mahnwerk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_is_read_and_the_iban_formatted_and_the_bic_derived(tmp_path):
    s = load_settings(write(tmp_path, GOOD), env={})
    assert s.creditor.iban == "DE89 3704 0044 0532 0130 00"
    assert s.creditor.bic == "COBADEFFXXX" and s.creditor.bank
    assert s.smtp.port == 587 and s.smtp.starttls and s.smtp.password is None
    assert s.delivery.neutral_subjects is True and s.sms is None


def test_an_invalid_iban_is_refused_naming_file_and_key(tmp_path):
    path = write(tmp_path, GOOD.replace("DE89370400440532013000", "DE89370400440532013001"))
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert str(err.value).startswith(f"{path}: [creditor] iban: invalid IBAN")


def test_a_missing_setting_is_refused_naming_file_and_key(tmp_path):
    path = write(tmp_path, GOOD.replace('city = "Berlin"\n', ""))
    with pytest.raises(ConfigError, match=r"mahnwerk.toml: \[creditor\] city: missing"):
        load_settings(path, env={})


def test_a_wrong_type_is_refused(tmp_path):
    path = write(tmp_path, GOOD + 'port = "fünfhundert"\n')
    with pytest.raises(ConfigError, match=r"\[smtp\] port: 'fünfhundert' is not a whole number"):
        load_settings(path, env={})


def test_secrets_come_from_the_environment(tmp_path):
    s = load_settings(
        write(tmp_path, GOOD + '\n[sms]\nurl = "https://sms.example/x"\n'),
        env={
            "MAHNWERK_SMTP_PASSWORD": "pw",
            "MAHNWERK_SMTP_PORT": "2525",
            "MAHNWERK_SMS_HEADERS_AUTHORIZATION": "Bearer t",
        },
    )
    assert s.smtp.password == "pw" and s.smtp.port == 2525
    assert s.sms.headers == {"Authorization": "Bearer t"}


def test_a_missing_file_says_how_to_write_one(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "nope.toml", env={})
    assert "nope.toml" in str(err.value) and "[creditor]" in str(err.value)


def test_broken_toml_is_reported_with_its_position(tmp_path):
    with pytest.raises(ConfigError, match=r"\(syntax\).*line 2"):
        load_settings(write(tmp_path, "[creditor]\nname = \n"), env={})
