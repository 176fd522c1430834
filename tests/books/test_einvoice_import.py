"""`mahnwerk import einvoice`: the official XRechnung cases, credit notes, ZUGFeRD PDFs.

Every standard business case of the XRechnung test suite (tests/data/xrechnung,
Apache-2.0) is read in both syntaxes, and both must say the same; each imports; a
sample is checked field by field.  Broken files are refused with their path and the
element, and a refused import writes nothing.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from books_data import XRECHNUNG, cases, variant
from sqlalchemy import func, select
from typer.testing import CliRunner

from mahnwerk.cli import app
from mahnwerk.engine import models as m
from mahnwerk.engine.einvoice.document import DocumentKind
from mahnwerk.engine.einvoice.load import due_date_of, import_einvoices, read_document
from mahnwerk.engine.importer import ImportFailed
from mahnwerk.engine.store.db import init_db, make_engine

CUST, INV, DOC = m.Customer.__table__, m.Invoice.__table__, m.EInvoiceDocument.__table__


def _fields(path: Path) -> dict:
    doc = read_document(path)
    return {k: getattr(doc, k) for k in doc.__slots__ if k not in ("path", "syntax")}


@pytest.mark.parametrize("case", cases())
def test_both_syntaxes_of_every_case_say_the_same(case: str):
    ubl, cii = _fields(XRECHNUNG / f"{case}_ubl.xml"), _fields(XRECHNUNG / f"{case}_uncefact.xml")
    if case == "03.06a-INVOICE":
        # The suite's UBL file of this case has city and postal code swapped
        # (<cbc:CityName>12345</cbc:CityName>); the CII file has them right.
        assert (ubl["buyer"].city, ubl["buyer"].postal_code) == ("12345", "Testhausen")
        assert (cii["buyer"].city, cii["buyer"].postal_code) == ("Testhausen", "12345")
        ubl.pop("buyer"), cii.pop("buyer")
    assert ubl == cii


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("einvoice") / "template.db"
    init_db(f"sqlite:///{path}")
    return path


def _fresh(template_db: Path, tmp_path: Path):
    target = tmp_path / "book.db"
    shutil.copy(template_db, target)
    return make_engine(f"sqlite:///{target}")


@pytest.mark.parametrize("case", cases())
def test_every_case_imports_and_the_other_syntax_changes_nothing(
    case: str, template_db: Path, tmp_path: Path
):
    engine = _fresh(template_db, tmp_path)
    first = import_einvoices(engine, [XRECHNUNG / f"{case}_ubl.xml"])
    doc = read_document(XRECHNUNG / f"{case}_ubl.xml")
    with engine.connect() as conn:
        invoice = conn.execute(select(INV).where(INV.c.external_id == doc.number)).first()
    if doc.amount_due > 0:
        assert first.created == 1 and invoice is not None
        assert invoice.amount == doc.amount_due and invoice.currency == doc.currency
        assert invoice.due_date == due_date_of(doc) and invoice.issue_date == doc.issue_date
    else:
        assert first.nothing_due == 1 and invoice is None
    second = import_einvoices(engine, [XRECHNUNG / f"{case}_uncefact.xml"])
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    engine.dispose()


@pytest.mark.parametrize("syntax", ["ubl", "uncefact"])
def test_a_business_invoice_is_read_term_by_term(syntax: str, template_db: Path, tmp_path):
    engine = _fresh(template_db, tmp_path)
    import_einvoices(engine, [XRECHNUNG / f"01.14a-INVOICE_{syntax}.xml"])
    with engine.connect() as conn:
        invoice = conn.execute(select(INV)).one()
        customer = conn.execute(select(CUST)).one()
        doc = conn.execute(select(DOC)).one()
    assert invoice.external_id == "1234567"  # BT-1
    assert invoice.issue_date == date(2018, 4, 13)  # BT-2
    assert invoice.due_date == date(2018, 4, 13)  # BT-9
    assert invoice.amount == Decimal("12829.69")  # BT-115
    assert invoice.due_date_agreed is False  # a printed date is no agreement (A1)
    assert customer.external_id == "138"  # BT-46
    assert customer.type == "B2B" and customer.vat_id == "DE12345ABC"  # BT-48
    assert (customer.name, customer.postal_code, customer.country) == (
        "[Buyer name]", "98765", "DE",
    )
    assert customer.email == "buyer@info.de"  # BT-49, scheme EM
    assert (doc.kind, doc.type_code, doc.syntax) == (
        "invoice", "380", "UBL" if syntax == "ubl" else "CII",
    )


def test_skonto_terms_are_kept_line_by_line_and_do_not_move_the_due_date(
    template_db: Path, tmp_path: Path
):
    engine = _fresh(template_db, tmp_path)
    import_einvoices(engine, [XRECHNUNG / "01.10a-INVOICE_uncefact.xml"])
    with engine.connect() as conn:
        invoice = conn.execute(select(INV)).one()
    lines = invoice.payment_terms.splitlines()
    assert [line.strip() for line in lines[:3]] == [
        "#SKONTO#TAGE=7#PROZENT=2.00#",
        "#SKONTO#TAGE=14#PROZENT=1.00#",
        "#SKONTO#TAGE=30#PROZENT=0.00#",
    ]
    assert invoice.due_date == invoice.issue_date  # no BT-9, no period stated


@pytest.mark.parametrize(
    ("terms", "days"),
    [
        ("Zahlbar innerhalb von 14 Tagen ohne Abzug.", 14),
        ("30 Tage netto", 30),
        ("Payment within 21 days of the invoice date", 21),
        ("Zahlbar sofort ohne Abzug.", 0),
    ],
)
def test_a_period_in_the_payment_terms_sets_the_due_date(terms, days, tmp_path: Path):
    source = XRECHNUNG / "01.01a-INVOICE_ubl.xml"
    note = r"<cbc:Note>Zahlbar sofort ohne Abzug.</cbc:Note>"
    path = variant(source, tmp_path, "terms.xml", **{note: f"<cbc:Note>{terms}</cbc:Note>"})
    doc = read_document(path)
    assert doc.due_date is None
    assert (due_date_of(doc) - doc.issue_date).days == days


def test_an_invoice_with_nothing_to_collect_opens_nothing(template_db: Path, tmp_path: Path):
    engine = _fresh(template_db, tmp_path)
    result = import_einvoices(engine, [XRECHNUNG / "02.03a-INVOICE_ubl.xml"])
    assert result.nothing_due == 1 and "nothing to collect (amount due 0.00 EUR)" in str(result)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(INV)).scalar() == 0
        assert conn.execute(select(DOC.c.invoice_id)).scalar() is None


def _credit_note_cii(tmp_path: Path, number: str, amount: str, invoice: str = "1234567") -> Path:
    """The official 01.14a CII invoice turned into a credit note (type 381, BT-25)."""
    return variant(
        XRECHNUNG / "01.14a-INVOICE_uncefact.xml", tmp_path, f"{number}.xml",
        **{
            r"<rsm:ExchangedDocument>\s*<ram:ID>1234567</ram:ID>":
                f"<rsm:ExchangedDocument><ram:ID>{number}</ram:ID>",
            r"<ram:TypeCode>380</ram:TypeCode>": "<ram:TypeCode>381</ram:TypeCode>",
            r"<ram:DuePayableAmount>12829.69</ram:DuePayableAmount>":
                f"<ram:DuePayableAmount>{amount}</ram:DuePayableAmount>",
            r"(<ram:SpecifiedTradeSettlementHeaderMonetarySummation>.*?"
            r"</ram:SpecifiedTradeSettlementHeaderMonetarySummation>)":
                r"\1<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>"
                + invoice + "</ram:IssuerAssignedID></ram:InvoiceReferencedDocument>",
        },
    )


def _credit_note_ubl(tmp_path: Path, number: str, amount: str) -> Path:
    """The official 01.14a UBL invoice as a UBL CreditNote document."""
    path = variant(
        XRECHNUNG / "01.14a-INVOICE_ubl.xml", tmp_path, f"{number}.xml",
        **{
            r"<ubl:Invoice ": "<ubl:CreditNote ",
            r"</ubl:Invoice>": "</ubl:CreditNote>",
            r"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2":
                "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
            r"<cbc:ID>1234567</cbc:ID>": f"<cbc:ID>{number}</cbc:ID>",
            r"<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>":
                "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>",
            r"(<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>)":
                r"\1<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>1234567"
                r"</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>",
            r"<cbc:PayableAmount currencyID=\"EUR\">12829.69</cbc:PayableAmount>":
                f'<cbc:PayableAmount currencyID="EUR">{amount}</cbc:PayableAmount>',
        },
    )
    assert read_document(path).kind is DocumentKind.CREDIT_NOTE
    return path


def test_a_credit_note_reduces_the_invoice_it_names_before_dunning(
    template_db: Path, tmp_path: Path
):
    engine = _fresh(template_db, tmp_path)
    invoice_file = XRECHNUNG / "01.14a-INVOICE_uncefact.xml"
    result = import_einvoices(engine, [_credit_note_cii(tmp_path, "GS-1", "829.69"), invoice_file])
    assert result.created == 1 and result.credited == 1  # invoice first, whatever the order
    assert "reduces 1234567: now 12000.00 EUR" in str(result)
    import_einvoices(engine, [_credit_note_ubl(tmp_path, "GS-2", "12000.00")])
    with engine.connect() as conn:
        invoice = conn.execute(select(INV)).one()
        notes = conn.execute(select(DOC.c.number).where(DOC.c.kind == "credit_note")).all()
    assert invoice.amount == Decimal("0.00") and invoice.closed_on == date(2018, 4, 13)
    assert sorted(n for (n,) in notes) == ["GS-1", "GS-2"]


def test_a_credit_note_for_an_invoice_in_dunning_is_applied_by_the_next_run(
    template_db: Path, tmp_path: Path
):
    from datetime import UTC, datetime

    from mahnwerk.engine.policies import PolicySet, deploy
    from mahnwerk.engine.runner import run

    engine = _fresh(template_db, tmp_path)
    import_einvoices(engine, [XRECHNUNG / "01.14a-INVOICE_ubl.xml"])
    policy = Path(__file__).parent.parent / "engine" / "data" / "runner_policy.mahn"
    deploy(engine, policy, datetime(2018, 4, 13, 6, tzinfo=UTC), applies_to=None)
    run(engine, date(2018, 5, 20), PolicySet.load(engine), datetime(2018, 5, 20, 6, tzinfo=UTC))
    result = import_einvoices(engine, [_credit_note_cii(tmp_path, "GS-9", "829.69")])
    assert "booked as a payment (the invoice is in dunning)" in str(result)
    run(engine, date(2018, 5, 21), PolicySet.load(engine), datetime(2018, 5, 21, 6, tzinfo=UTC))
    with engine.connect() as conn:
        paid = conn.execute(
            select(func.sum(m.Ledger.__table__.c.amount))
            .where(m.Ledger.__table__.c.kind == "payment")
        ).scalar()
        payment = conn.execute(select(m.Payment.__table__)).one()
    assert payment.applied and payment.reference == "Gutschrift GS-9 zu 1234567"
    assert paid == Decimal("-829.69")


def test_the_same_number_with_other_figures_is_refused_unless_updated(
    template_db: Path, tmp_path: Path
):
    engine = _fresh(template_db, tmp_path)
    import_einvoices(engine, [XRECHNUNG / "01.14a-INVOICE_ubl.xml"])
    changed = variant(XRECHNUNG / "01.14a-INVOICE_ubl.xml", tmp_path, "changed.xml",
                      **{r">12829.69</cbc:PayableAmount>": ">12000.00</cbc:PayableAmount>"})
    with pytest.raises(ImportFailed) as refused:
        import_einvoices(engine, [changed])
    assert "1234567: imported before with 12829.69 EUR" in str(refused.value)
    assert "--update" in str(refused.value)
    result = import_einvoices(engine, [changed], update_changed=True)
    assert result.updated == 1
    with engine.connect() as conn:
        assert conn.execute(select(INV.c.amount)).scalar() == Decimal("12000.00")


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        ({r"<cbc:PayableAmount[^>]*>12829.69</cbc:PayableAmount>": ""},
         "/Invoice/LegalMonetaryTotal/PayableAmount: the amount due for payment (BT-115) is "
         "missing"),
        ({r">12829.69</cbc:PayableAmount>": ">12.829,69</cbc:PayableAmount>"},
         "the amount due for payment (BT-115) is not an amount: '12.829,69'"),
        ({r"<cbc:IssueDate>2018-04-13<": "<cbc:IssueDate>13.04.2018<"},
         "/Invoice/IssueDate: the issue date (BT-2) is not a date: '13.04.2018'"),
        ({r"<cac:AccountingCustomerParty>.*</cac:AccountingCustomerParty>": ""},
         "/Invoice/AccountingCustomerParty: the buyer (BG-7) is missing"),
        ({r"^<\?xml[^>]*\?>": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'},
         "refused: the XML uses"),
    ],
)
def test_a_broken_file_is_refused_with_its_element_and_nothing_is_written(
    replacements, expected, template_db: Path, tmp_path: Path
):
    engine = _fresh(template_db, tmp_path)
    broken = variant(XRECHNUNG / "01.14a-INVOICE_ubl.xml", tmp_path, "broken.xml", **replacements)
    good = XRECHNUNG / "01.01a-INVOICE_ubl.xml"
    with pytest.raises(ImportFailed) as refused:
        import_einvoices(engine, [good, broken])
    assert f"{broken}: " in str(refused.value) and expected in str(refused.value)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(INV)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(CUST)).scalar() == 0


def test_a_file_that_is_no_einvoice_says_what_mahnwerk_reads(tmp_path: Path):
    other = tmp_path / "camt.xml"
    other.write_text('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>')
    with pytest.raises(ImportFailed, match="not an e-invoice: the root element is <Document>"):
        read_document(other)
    torn = tmp_path / "torn.xml"
    torn.write_text((XRECHNUNG / "01.01a-INVOICE_ubl.xml").read_text()[:900])
    with pytest.raises(ImportFailed, match=r"torn.xml:\d+: not well-formed XML"):
        read_document(torn)


def _zugferd_pdf(tmp_path: Path) -> Path:
    """A printed invoice (fpdf2) with the 01.14a CII embedded as Factur-X."""
    from facturx import generate_from_binary
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in ("Muster GmbH - Musterstrasse 1 - 12345 Musterstadt", "",
                 "Rechnung Nr. 1234567 vom 14.03.2018",
                 "Rechnungsbetrag: 12.829,69 EUR, zahlbar bis 13.04.2018"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    xml = (XRECHNUNG / "01.14a-INVOICE_uncefact.xml").read_bytes()
    out = tmp_path / "rechnung-1234567.pdf"
    out.write_bytes(generate_from_binary(bytes(pdf.output()), xml, check_xsd=False))
    return out


def test_a_zugferd_pdf_imports_by_its_embedded_invoice(template_db: Path, tmp_path: Path):
    from pypdf import PdfReader

    pdf = _zugferd_pdf(tmp_path)
    assert "Rechnung Nr. 1234567" in PdfReader(pdf).pages[0].extract_text()
    engine = _fresh(template_db, tmp_path)
    result = import_einvoices(engine, [pdf])
    assert result.created == 1 and "(Factur-X)" in str(result)
    with engine.connect() as conn:
        assert conn.execute(select(INV.c.amount)).scalar() == Decimal("12829.69")
        assert conn.execute(select(DOC.c.syntax)).scalar() == "Factur-X"
    # the same invoice as XML afterwards is recognised
    again = import_einvoices(engine, [XRECHNUNG / "01.14a-INVOICE_ubl.xml"])
    assert again.unchanged == 1


def test_a_plain_pdf_is_refused_with_what_to_do(tmp_path: Path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    plain = tmp_path / "scan.pdf"
    plain.write_bytes(bytes(pdf.output()))
    with pytest.raises(ImportFailed, match="carries no e-invoice"):
        read_document(plain)


def test_the_command_imports_a_folder(db_url: str, tmp_path: Path):
    folder = tmp_path / "eingang"
    folder.mkdir()
    for name in ("01.01a-INVOICE_ubl.xml", "01.14a-INVOICE_uncefact.xml",
                 "03.01a-INVOICE_ubl.xml"):
        shutil.copy(XRECHNUNG / name, folder / name)
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--db", db_url]).exit_code == 0
    first = runner.invoke(app, ["import", "einvoice", str(folder), "--db", db_url])
    assert first.exit_code == 0, first.output
    assert "2 invoice(s) created" in first.stdout and "1 with nothing to collect" in first.stdout
    again = runner.invoke(app, ["import", "einvoice", str(folder), "--db", db_url])
    assert again.exit_code == 0 and "0 invoice(s) created, 0 updated, 3 unchanged" in again.stdout
    (folder / "kaputt.xml").write_text("<Invoice>")
    refused = runner.invoke(app, ["import", "einvoice", str(folder), "--db", db_url])
    assert refused.exit_code == 1 and "kaputt.xml:1: not well-formed XML" in refused.stderr
    assert "Traceback" not in refused.output
