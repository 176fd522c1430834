"""The pay page: the chosen invoices, one GiroCode per transfer, each reference one that the
bank matching reads back as exactly its invoices, and the provider's link per transfer."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine.bank.references import ReferenceIndex
from mahnwerk.engine.comms.config import demo_settings
from mahnwerk.engine.store.db import init_db, make_engine
from mahnwerk.portal import links

NOW = datetime(2026, 2, 9, 9, tzinfo=UTC)
NUMBERS = [f"RE-2026-{n:06d}" for n in range(1, 13)]  # twelve do not fit one reference


@pytest.fixture
def portal(tmp_path: Path):
    from fastapi.testclient import TestClient

    from mahnwerk.portal.web import create_portal

    url = f"sqlite:///{tmp_path / 'm.db'}"
    init_db(url)
    (tmp_path / "k.csv").write_text("customer_id,name,type,language\nK-7,Erika,B2C,de\n")
    (tmp_path / "r.csv").write_text(
        "invoice_id,customer_id,issue_date,due_date,amount\n"
        + "".join(f"{n},K-7,2026-01-01,2026-01-15,{100 + i}.50\n" for i, n in enumerate(NUMBERS))
    )
    for kind, file in (("customers", "k.csv"), ("invoices", "r.csv")):
        done = CliRunner().invoke(app, ["import", kind, str(tmp_path / file), "--db", url])
        assert done.exit_code == 0, done.output
    engine = make_engine(url)
    demo = demo_settings()
    provider = "https://pay.example.com/?amount={amount}&ref={reference}"
    settings = replace(demo, portal=replace(demo.portal, payment_url=provider))
    made = links.new_link(engine, "K-7", settings.portal, NOW, "t")
    client = TestClient(create_portal(engine, lambda: NOW, settings))
    yield client, f"/{made.token}"
    engine.dispose()


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_many_invoices_are_paid_in_one_transfer_per_reference_that_fits(portal) -> None:
    client, root = portal
    page = client.get(f"{root}/pay")
    assert page.status_code == 200
    sections = re.findall(r'<section class="transfer".*?</section>', page.text, re.S)
    assert len(sections) == 2 and page.text.count("<svg") == 2  # one code per transfer
    refs = [_text(re.search(r"<dd>([^<]*Kd K-7[^<]*)</dd>", s).group(1)) for s in sections]
    index = ReferenceIndex({n: i for i, n in enumerate(NUMBERS)})
    named = [[NUMBERS[k] for k in index.find(ref)] for ref in refs]
    assert named[0] + named[1] == NUMBERS and all(len(r) <= 140 for r in refs)
    for numbers, section in zip(named, sections, strict=True):
        listed = re.findall(r"RE-2026-\d{6}", re.search(r'<ul class="paid">.*?</ul>', section,
                                                         re.S).group(0))  # fmt: skip
        assert listed == numbers  # the invoices shown are the ones the reference names
        due = sum(Decimal(f"{100 + NUMBERS.index(n)}.50") for n in numbers)
        assert f"{due:.2f}".replace(".", ",") in _text(section)
        assert f"amount={due:.2f}&amp;ref=" in section  # the provider's link for this transfer
    # the pay sentence names every transfer's reference, not only the first one's
    sentence = _text(re.search(r"<h1>.*?</h1>\s*<p>(.*?)</p>", page.text, re.S).group(1))
    assert "in 2 Überweisungen" in sentence
    assert all(f"„{ref}“" in sentence for ref in refs), sentence


def test_the_customer_chooses_which_invoices_to_pay(portal) -> None:
    client, root = portal
    chosen = NUMBERS[:2]
    page = client.get(f"{root}/pay", params=[("invoice", n) for n in [*chosen, "R-OTHER"]])
    text = _text(page.text)
    assert page.text.count("<svg") == 1
    assert "Überweisen Sie bitte 202,00 € mit dem Verwendungszweck „Kd K-7 " in text
    assert f"„Kd K-7 {chosen[0]} {chosen[1]}“" in text
    assert "R-OTHER" not in text  # a number that is not this customer's is no choice
    # the choice can be changed on the page: every open invoice, the chosen ones ticked
    ticked = re.findall(r'value="(RE-[^"]+)" id="c-\d+" checked', page.text)
    assert ticked == chosen and len(re.findall(r'name="invoice" value="RE-', page.text)) == 12
