"""The letter shop channel: each letter's PDF POSTed to a print service, printed once.

The print service is a real HTTP server on 127.0.0.1.  Like a real one it prints a
letter once per `Idempotency-Key`; it can be told to answer 503 first (busy).  A
dispatcher that dies after the upload (a child process ending with `os._exit`)
sends the letter again after the lease, with the same key.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from pypdf import PdfReader

from mahnwerk.engine.comms.config import load_settings
from mahnwerk.engine.comms.dispatch import dispatch

from .helpers import ENV, NOW, Answer, http_receiver, write_config
from .test_crash import crash_dispatch


@dataclass
class PrintShop:
    url: str = ""
    answers: list[int] = field(default_factory=list)  # statuses to give first, then 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    printed: dict[str, bytes] = field(default_factory=dict)  # Idempotency-Key → the PDF


@pytest.fixture
def print_shop() -> Iterator[PrintShop]:
    shop = PrintShop()

    def answer(request: BaseHTTPRequestHandler, body: bytes) -> Answer:
        shop.requests.append({"headers": dict(request.headers), "body": body})
        status = shop.answers.pop(0) if shop.answers else 200
        if status == 200:
            shop.printed.setdefault(request.headers["Idempotency-Key"], body)
        return status, "text/plain", b"queued for printing" if status == 200 else b"busy"

    with http_receiver("/print", answer) as shop.url:
        yield shop


@pytest.fixture
def config(tmp_path, print_shop):
    shop = f'\n[letter_shop]\nurl = "{print_shop.url}"\n'
    shop += 'headers = { Authorization = "Bearer s3" }\n'
    return write_config(tmp_path / "mahnwerk.toml", letters=tmp_path / "letters", extra=shop)


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _one_letter(seed) -> None:
    c = seed.customer("K1", name="Erika Mustermann")
    i = seed.invoice(c, "R-2026-001")
    seed.queue(i, c, "mahnung_1", "letter_shop")


def test_a_retried_letter_reaches_the_print_shop_exactly_once(
    seed, engine, config, print_shop, tmp_path
):
    _one_letter(seed)
    print_shop.answers = [503]
    settings = load_settings(config, env=ENV)

    stats = dispatch(engine, settings, NOW)
    assert stats.retried == 1 and stats.rows_sent == 0
    assert len(print_shop.requests) == 1 and print_shop.printed == {}
    assert seed.outbox()[1].status == "queued"
    assert dispatch(engine, settings, NOW + timedelta(seconds=30)).due == 0  # backoff

    later = NOW + timedelta(seconds=61)
    stats = dispatch(engine, settings, later)
    assert stats.rows_sent == 1 and dict(stats.messages) == {"letter_shop": 1}
    assert stats.batch is None  # the shop has it: no print batch on disk
    assert dispatch(engine, settings, later + timedelta(hours=1)).due == 0

    assert len(print_shop.requests) == 2
    assert len(print_shop.printed) == 1
    (pdf,) = print_shop.printed.values()
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert "Erika Mustermann" in text and "R-2026-001" in text
    first, second = (r["headers"] for r in print_shop.requests)
    assert first["Idempotency-Key"] == second["Idempotency-Key"]
    assert second["Content-Type"] == "application/pdf"
    assert second["Authorization"] == "Bearer s3"
    assert seed.outbox()[1].status == "sent"
    # the copy for the files (the court dossier), where the letters' copies are kept
    archived = [p for p in (tmp_path / "letters").rglob("*.pdf") if p.name.startswith("K1_")]
    assert [p.read_bytes() for p in archived] == [pdf]


def test_a_dispatcher_killed_after_the_upload_sends_it_again_and_the_shop_prints_once(
    seed, engine, db_url, config, print_shop, tmp_path
):
    _one_letter(seed)
    crash_dispatch(db_url, config, "after_transmit", tmp_path)
    assert len(print_shop.printed) == 1  # the shop has it ...
    assert seed.outbox()[1].status == "sending"  # ... the books do not

    settings = load_settings(config, env=ENV)
    later = NOW + timedelta(seconds=settings.delivery.lease_seconds + 1)
    stats = dispatch(engine, settings, later)
    assert stats.reconciled_requeued == 1 and stats.rows_sent == 1
    keys = [r["headers"]["Idempotency-Key"] for r in print_shop.requests]
    assert len(keys) == 2 and keys[0] == keys[1]  # the repeat carries the same key
    assert len(print_shop.printed) == 1  # so the shop printed it once
    assert seed.outbox()[1].status == "sent"


def test_without_its_settings_the_channel_waits_and_says_what_to_write(seed, engine, tmp_path):
    _one_letter(seed)
    config = write_config(tmp_path / "mahnwerk.toml", letters=tmp_path / "letters")
    stats = dispatch(engine, load_settings(config, env=ENV), NOW)
    assert stats.rows_sent == 0
    assert any("[letter_shop] url" in e and "missing" in e for e in stats.errors), stats.errors
    assert seed.outbox()[1].status == "queued"


def test_a_dry_run_writes_the_pdf_the_shop_would_get(seed, engine, config, tmp_path, print_shop):
    _one_letter(seed)
    out = tmp_path / "dry"
    stats = dispatch(engine, load_settings(config, env=ENV), NOW, dry_run=True, out=out)
    (path,) = stats.files
    assert path.name.endswith(".letter_shop.pdf") and path.read_bytes().startswith(b"%PDF")
    assert print_shop.requests == [] and seed.outbox()[1].status == "queued"
