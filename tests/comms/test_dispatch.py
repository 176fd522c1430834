"""Dispatch against real channels: an SMTP server, a webhook, PDF files, a database."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from mahnwerk.engine import models as m
from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import dispatch
from mahnwerk.portal.tables import PORTAL_LINK

from .helpers import ENV, NOW, write_config


def pdf_text(path) -> str:
    reader = PdfReader(BytesIO(path.read_bytes()) if hasattr(path, "read_bytes") else path)
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def settings(tmp_path, smtp_server, webhook):
    path = write_config(tmp_path / "mahnwerk.toml", smtp_server, webhook, tmp_path / "letters")
    return load_settings(path, env=ENV)


def test_an_email_arrives_over_starttls_with_text_html_and_a_neutral_subject(
    engine, seed, settings, smtp_server
):
    if not smtp_server.tls:
        pytest.skip("openssl missing: no certificate for STARTTLS")
    c = seed.customer("K1")
    i = seed.invoice(c, "R2026-0001", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    stats = dispatch(engine, settings, NOW)
    assert stats.rows_sent == 1 and stats.errors == []
    [mail] = smtp_server.box.to("erika@example.org")
    assert mail["Subject"] == "Ihre Rechnung R2026-0001"  # E1: no "Mahnung" in the subject
    assert "Erika Mustermann" in mail["To"]
    text = flat(mail.get_body(("plain",)).get_content())
    html = flat(mail.get_body(("html",)).get_content())
    assert "Guten Tag Erika Mustermann," in text
    assert "1.000,00 €" in text and "DE89 3704 0044 0532 0130 00" in text
    assert "https://pay.example.com/R2026-0001" in text
    assert "<table" in html and "1.000,00 €" in html
    outbox = seed.outbox()
    assert [r.status for r in outbox.values()] == ["sent"]
    with engine.connect() as conn:
        d = conn.execute(select(m.DELIVERY)).one()
    assert d.message_id == mail["Message-ID"] and d.status == "sent"


def test_a_second_dispatch_sends_nothing_again(engine, seed, settings, smtp_server):
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    dispatch(engine, settings, NOW)
    stats = dispatch(engine, settings, NOW + timedelta(hours=2))
    assert stats.due == 0
    assert len(smtp_server.box.messages) == 1


def test_nothing_goes_out_before_not_before(engine, seed, settings, smtp_server):
    """D2: the runner sets not_before (quiet hours, Sundays, holidays); dispatch obeys it."""
    c = seed.customer("K1")
    i = seed.invoice(c, "R1")
    seed.queue(i, c, "mahnung_1", "letter", not_before=NOW + timedelta(days=1))
    assert dispatch(engine, settings, NOW).due == 0
    assert seed.outbox()[1].status == "queued"
    stats = dispatch(engine, settings, NOW + timedelta(days=1))
    assert stats.rows_sent == 1


def test_a_letter_is_a_din_a4_pdf_with_the_itemised_claim_and_goes_into_the_print_batch(
    engine, seed, settings, tmp_path
):
    c = seed.customer("K7")
    i = seed.invoice(c, "R2026-0042", amount="1234.56")
    seed.queue(i, c, "mahnung_1", "letter")
    c2 = seed.customer("K8", name="Hans Meier")
    i2 = seed.invoice(c2, "R2026-0043", amount="99.00", fee=None, interest=None)
    seed.queue(i2, c2, "mahnung_1", "letter")
    stats = dispatch(engine, settings, NOW)
    assert stats.messages["letter"] == 2
    letter = next(p for p in stats.files if "K7" in p.name)
    reader = PdfReader(letter)
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    text = flat(pdf_text(letter))
    assert "Erika Mustermann Heidestraße 17 51147 Köln" in text  # the address window
    assert "1. Mahnung" in text
    assert "1.234,56 €" in text and "1.240,34 €" in text  # principal and total
    assert "Mahngebühr 1,00 €" in text
    assert "Verzugszinsen 4,78 €: 29 Tage vom 02.04.2026 bis 30.04.2026 zu 6,27 %" in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    batch = pdf_text(stats.batch)
    assert "Erika Mustermann" in batch and "Hans Meier" in batch
    assert stats.batch.parent == tmp_path / "letters" / "2026-05-04"


def test_an_sms_goes_to_the_webhook_with_headers_and_body_template(engine, seed, settings, webhook):
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="vorab", fee=None, interest=None)
    seed.queue(i, c, "vorab_hinweis_sms", "sms", state="vorab")
    stats = dispatch(engine, settings, NOW)
    assert stats.messages["sms"] == 1
    [req] = webhook.requests
    assert req["headers"]["Authorization"] == "Bearer test-token"
    body = json.loads(req["body"])
    assert body["to"] == "+4915112345678"
    assert "R1" in body["text"] and "1.000,00 €" in flat(body["text"])
    assert req["headers"]["Idempotency-Key"] == body["id"]


def test_an_sms_carries_the_portal_link_where_a_portal_is_configured(
    engine, seed, tmp_path, webhook
):
    """[portal] base_url set: the SMS names the customer's page (the link the letters and
    e-mails carry) instead of the longer payment link, and fits three parts; plain spaces
    and quotes as sent, so the text stays GSM-7."""
    from mahnwerk.engine.comms.checks import check_sms_length
    from mahnwerk.engine.comms.sms import MAX_SEGMENTS, segments
    from mahnwerk.engine.comms.templates import TemplateStore

    portal = '\n[portal]\nbase_url = "https://kunden.muster-versand.example"\n'
    with_portal = load_settings(
        write_config(tmp_path / "p.toml", hook=webhook, extra=portal), env=ENV
    )
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="vorab", fee=None, interest=None)
    seed.queue(i, c, "vorab_hinweis_sms", "sms", state="vorab")
    assert dispatch(engine, with_portal, NOW).messages["sms"] == 1
    text = json.loads(webhook.requests[-1]["body"])["text"]
    assert "Ihre Seite: https://kunden.muster-versand.example/p/" in text
    assert "pay.example.com" not in text and "\xa0" not in text and "1.000,00 €" in text
    assert segments(text) <= MAX_SEGMENTS
    with engine.connect() as conn:  # the link is the customer's, as on letters and e-mails
        link_id = conn.execute(select(PORTAL_LINK.c.id)).scalar_one()
    assert f"/p/{link_id}." in text
    # without a portal the SMS keeps the payment link
    c2 = seed.customer("K2", phone="+4915199999999")
    i2 = seed.invoice(c2, "R2", state="vorab", fee=None, interest=None)
    seed.queue(i2, c2, "vorab_hinweis_sms", "sms", state="vorab")
    plain = load_settings(write_config(tmp_path / "q.toml", hook=webhook), env=ENV)
    assert dispatch(engine, plain, NOW).messages["sms"] == 1
    text = json.loads(webhook.requests[-1]["body"])["text"]
    assert "/p/" not in text and "Online: https://pay.example.com/R2" in text
    # every shipped SMS template fits with the longest portal link (`letters check`)
    store = TemplateStore()
    sms = [k for k in store.keys() if k.channel == "sms"]
    assert sms and all(check_sms_length(store, k) == [] for k in sms)


def test_sms_parts_are_counted_as_a_phone_counts_them():
    from mahnwerk.engine.comms.sms import segments

    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("a" * 459) == 3
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # € counts twice in GSM-7
    assert segments("Ω" + "ł" * 69) == 1 and segments("ł" * 71) == 2  # UCS-2: 70, then 67
    assert segments("1.000,00\xa0€") == 1  # the no-break space is sent as a space


def test_a_rejected_number_becomes_a_delivery_failed_event(engine, seed, settings, webhook):
    webhook.status = 400
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="vorab", fee=None, interest=None)
    seed.queue(i, c, "vorab_hinweis_sms", "sms", state="vorab")
    stats = dispatch(engine, settings, NOW)
    assert stats.failed == 1
    assert seed.outbox()[1].status == "failed"
    [entry] = seed.inbox()
    assert entry.kind == "delivery_failed" and entry.invoice_id == i
    assert json.loads(entry.payload)["channel"] == "sms"


def test_several_invoices_of_one_customer_go_into_one_email(engine, seed, settings, smtp_server):
    """D3: one message lists all invoices; each outbox row is marked sent once."""
    c = seed.customer("K1")
    ids = [seed.invoice(c, f"R{n}", state="erinnerung", fee=None, interest=None) for n in (1, 2, 3)]
    for i in ids:
        seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    stats = dispatch(engine, settings, NOW)
    assert stats.messages["email"] == 1 and stats.rows_sent == 3
    [mail] = smtp_server.box.mails()
    assert mail["Subject"] == "Ihre Rechnung R1, R2, R3"
    text = flat(mail.get_body(("plain",)).get_content())
    assert "R1" in text and "R2" in text and "R3" in text and "3.000,00 €" in text
    assert {r.status for r in seed.outbox().values()} == {"sent"}
    with engine.connect() as conn:
        items = conn.execute(select(m.DELIVERY_ITEM)).all()
    assert len(items) == 3 and len({x.delivery_id for x in items}) == 1


def test_an_opted_out_channel_is_never_used_the_message_becomes_a_letter(
    engine, seed, settings, smtp_server
):
    """D7: opted out of e-mail → the same template as a letter; of SMS without one → cancelled."""
    c = seed.customer("K1", opted_out="email,sms")
    i = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    i2 = seed.invoice(c, "R2", state="vorab", fee=None, interest=None)
    seed.queue(i2, c, "vorab_hinweis_sms", "sms", state="vorab")
    stats = dispatch(engine, settings, NOW)
    assert smtp_server.box.messages == []
    assert stats.messages == {"letter": 1} and stats.fallbacks == 1 and stats.cancelled == 1
    out = seed.outbox()
    assert out[1].status == "sent" and "D7" in out[1].last_error
    assert out[2].status == "cancelled" and "D7" in out[2].last_error
    assert "Zahlungserinnerung" in pdf_text(stats.files[0])


def test_a_deceased_customers_letter_goes_to_the_heirs(engine, seed, settings):
    """C6: "An die Erben von …", never a salutation in the deceased's name."""
    c = seed.customer("K1", deceased_since=date(2026, 3, 20))
    i = seed.invoice(c, "R1")
    seed.queue(i, c, "mahnung_1", "letter")
    stats = dispatch(engine, settings, NOW)
    text = flat(pdf_text(stats.files[0]))
    assert "An die Erben von Erika Mustermann" in text
    assert "Sehr geehrte Damen und Herren," in text
    assert "Guten Tag Erika Mustermann" not in text


def test_a_bounce_fails_permanently_and_the_policy_hears_of_it(engine, seed, settings, smtp_server):
    c = seed.customer("K1", email="bounce@example.org")
    i = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    stats = dispatch(engine, settings, NOW)
    assert stats.failed == 1 and smtp_server.box.messages == []
    row = seed.outbox()[1]
    assert row.status == "failed" and "550" in row.last_error
    [entry] = seed.inbox()
    payload = json.loads(entry.payload)
    assert entry.kind == "delivery_failed" and payload["channel"] == "email"
    assert entry.occurred_on == date(2026, 5, 4)


def test_a_temporary_failure_is_retried_with_backoff_then_given_up(
    engine, seed, settings, smtp_server
):
    c = seed.customer("K1", email="busy@example.org")
    i = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    stats = dispatch(engine, settings, NOW)
    row = seed.outbox()[1]
    assert stats.retried == 1 and row.status == "queued" and row.attempts == 1
    assert row.not_before == NOW + timedelta(seconds=60)
    assert dispatch(engine, settings, NOW + timedelta(seconds=30)).due == 0  # backing off
    dispatch(engine, settings, NOW + timedelta(seconds=60))
    row = seed.outbox()[1]
    assert row.attempts == 2 and row.not_before == NOW + timedelta(seconds=180)  # doubled
    stats = dispatch(engine, settings, NOW + timedelta(seconds=180))
    assert stats.failed == 1  # max_attempts = 3
    assert seed.outbox()[1].status == "failed"
    assert [e.kind for e in seed.inbox()] == ["delivery_failed"]


def test_a_message_about_an_invoice_that_moved_on_is_cancelled(engine, seed, settings):
    c = seed.customer("K1")
    paid = seed.invoice(c, "R1", state="paid")
    seed.queue(paid, c, "mahnung_1", "letter", state="mahnung_1")
    disputed = seed.invoice(c, "R2", disputed=True)
    seed.queue(disputed, c, "mahnung_1", "letter")
    stats = dispatch(engine, settings, NOW)
    assert stats.cancelled == 2 and stats.rows_sent == 0
    out = seed.outbox()
    assert "paid" in out[1].last_error and "disputed" in out[2].last_error


def test_a_customer_without_an_address_gets_no_letter_and_the_policy_hears_of_it(
    engine, seed, settings
):
    c = seed.customer("K1", street=None)
    i = seed.invoice(c, "R1")
    seed.queue(i, c, "mahnung_1", "letter")
    stats = dispatch(engine, settings, NOW)
    assert stats.failed == 1
    assert seed.inbox()[0].kind == "delivery_failed"


def test_dry_run_writes_eml_and_pdf_files_and_changes_nothing(
    engine, seed, settings, smtp_server, tmp_path
):
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    i2 = seed.invoice(c, "R2")
    seed.queue(i2, c, "mahnung_1", "letter")
    before = seed.outbox()
    out = tmp_path / "preview"
    stats = dispatch(engine, settings, NOW, dry_run=True, out=out)
    assert sorted(p.suffix for p in out.iterdir()) == [".eml", ".pdf", ".pdf"]  # + print batch
    eml = next(out.glob("*.eml")).read_bytes()
    assert b"Subject: Ihre Rechnung R1" in eml
    assert smtp_server.box.messages == []
    assert seed.outbox() == before
    assert stats.rows_sent == 2
    with engine.connect() as conn:
        assert conn.execute(select(m.DELIVERY)).all() == []


def test_english_messages_use_english_formats(engine, seed, settings, smtp_server):
    c = seed.customer("K1", name="John Smith", language="en", email="john@example.org")
    i = seed.invoice(c, "R1", amount="1234.56", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung", language="en")
    dispatch(engine, settings, NOW)
    [mail] = smtp_server.box.mails()
    assert mail["Subject"] == "Your invoice R1"
    text = flat(mail.get_body(("plain",)).get_content())
    assert "Dear John Smith," in text and "€1,234.56" in text and "14 May 2026" in text


def test_a_firm_tone_uses_its_own_template(engine, seed, settings):
    c = seed.customer("K1")
    i = seed.invoice(c, "R1")
    seed.queue(i, c, "mahnung_1", "letter", tone="firm")
    stats = dispatch(engine, settings, NOW)
    assert "trotz unserer Zahlungserinnerung" in pdf_text(stats.files[0])


def test_an_smtp_server_that_is_down_keeps_the_messages_queued(engine, seed, tmp_path):
    from .helpers import SmtpServer, free_port

    dead = SmtpServer("127.0.0.1", free_port(), None, None, False)  # nobody listens
    settings = load_settings(write_config(tmp_path / "m.toml", dead), env={})
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    stats = dispatch(engine, settings, NOW)
    assert stats.errors and "SMTP server" in stats.errors[0]
    row = seed.outbox()[1]
    assert row.status == "queued" and row.attempts == 0
    assert seed.inbox() == []


def test_the_engine_reacts_to_a_bounce_with_a_letter(engine, tmp_path, smtp_server):
    """End to end: run → e-mail bounces → inbox → next run moves to the letter → dispatch."""
    from pathlib import Path

    from sqlalchemy import insert

    from mahnwerk.engine.policies import PolicySet, deploy
    from mahnwerk.engine.runner import run

    from .helpers import EARLY

    settings = load_settings(
        write_config(tmp_path / "m.toml", smtp_server, letters=tmp_path / "letters"), env=ENV
    )
    policy = Path(__file__).resolve().parents[2] / "policies" / "de_b2c_standard.mahn"
    deploy(engine, policy, EARLY)
    with engine.begin() as conn:
        cid = conn.execute(
            insert(m.CUST).values(
                external_id="K1",
                name="Erika Mustermann",
                type="B2C",
                email="bounce@example.org",
                street="Heidestraße 17",
                postal_code="51147",
                city="Köln",
                region="NW",
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(m.INV).values(
                external_id="R1",
                customer_id=cid,
                issue_date=date(2026, 3, 1),
                due_date=date(2026, 4, 24),
                amount=Decimal("80.00"),
                currency="EUR",
            )
        )
    policies = PolicySet.load(engine)
    day = date(2026, 5, 1)  # 7 days after due: the reminder e-mail
    run(engine, day, policies, EARLY)
    stats = dispatch(engine, settings, NOW)
    assert stats.failed == 1
    run(engine, date(2026, 5, 4), policies, NOW)
    with engine.connect() as conn:
        state = conn.execute(select(m.DS.c.state)).scalar_one()
        rows = conn.execute(select(m.OUTBOX).order_by(m.OUTBOX.c.id)).all()
    assert state == "erinnerung_brief"
    assert [(r.channel, r.status) for r in rows] == [("email", "failed"), ("letter", "queued")]
    later = rows[1].not_before  # the runner decides when (D2, D3); dispatch obeys
    assert dispatch(engine, settings, later - timedelta(minutes=1)).due == 0
    stats = dispatch(engine, settings, later)
    assert stats.messages == {"letter": 1}, stats.as_dict()
    assert "Zahlungserinnerung" in pdf_text(stats.files[0])


def test_the_demo_preview_writes_only_the_latest_runs_post(engine, seed, settings, tmp_path):
    from sqlalchemy import update

    from mahnwerk.engine.comms.dispatch import preview_latest_run

    c = seed.customer("K1")
    old = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(old, c, "zahlungserinnerung", "email", state="erinnerung")
    new = seed.invoice(c, "R2")
    seed.queue(new, c, "mahnung_1", "letter", not_before=NOW + timedelta(days=2))
    with engine.begin() as conn:  # the letter was queued by a later run
        conn.execute(update(m.OUTBOX).where(m.OUTBOX.c.id == 2).values(created_at=NOW))
    stats = preview_latest_run(engine, settings, tmp_path / "post")
    assert [p.suffix for p in stats.files] == [".pdf"]
    assert "06.05.2026" in pdf_text(stats.files[0])  # dated when it would go out
    assert {r.status for r in seed.outbox().values()} == {"queued"}


def test_an_email_can_carry_the_letter_as_pdf(engine, seed, tmp_path, smtp_server):
    path = write_config(tmp_path / "mahnwerk.toml", smtp_server, letters=tmp_path / "letters")
    settings = load_settings(path, env={**ENV, "MAHNWERK_SMTP_ATTACH_PDF": "true"})
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="erinnerung", fee=None, interest=None)
    seed.queue(i, c, "zahlungserinnerung", "email", state="erinnerung")
    dispatch(engine, settings, NOW)
    [mail] = smtp_server.box.mails()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = flat(PdfReader(BytesIO(attachment.get_content())).pages[0].extract_text())
    assert "Zahlungserinnerung" in text and "1.000,00 €" in text


def test_a_channel_without_settings_keeps_its_messages_queued(engine, seed, tmp_path):
    settings = load_settings(write_config(tmp_path / "m.toml"), env={})  # no [smtp], no [sms]
    c = seed.customer("K1")
    i = seed.invoice(c, "R1", state="vorab", fee=None, interest=None)
    seed.queue(i, c, "vorab_hinweis_sms", "sms", state="vorab")
    i2 = seed.invoice(c, "R2")
    seed.queue(i2, c, "mahnung_1", "letter")
    stats = dispatch(engine, settings, NOW)
    assert stats.messages == {"letter": 1}
    assert any("[sms]" in e for e in stats.errors)
    out = seed.outbox()
    assert (out[1].status, out[1].attempts, out[2].status) == ("queued", 0, "sent")
