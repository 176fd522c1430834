"""Settings and a camt.053 statement for the GiroCode tests (not a conftest: imported by name)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

NOW = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)  # a Monday, 10:30 in Berlin
IBAN = "DE89 3704 0044 0532 0130 00"


def config_text(
    path: Path, iban: str | None = IBAN, smtp: Any = None, letters: Path | None = None
) -> Path:
    """A complete mahnwerk.toml; `iban=None` for a creditor paid only online."""
    account = f'iban = "{iban}"\nbank = "Commerzbank"\n' if iban else ""
    text = f"""
[creditor]
name = "Muster Versand GmbH"
street = "Hauptstraße 1"
postal_code = "10115"
city = "Berlin"
{account}phone = "030 1234567"
email = "buchhaltung@muster-versand.example"
payment_link = "https://pay.example.com/{{reference}}"
legal_form = "GmbH"
seat = "Berlin"
register_court = "Amtsgericht Berlin-Charlottenburg"
register_number = "HRB 123456 B"
managing_directors = ["Erika Muster"]

[delivery]
letters_folder = "{(letters or path.parent / "letters").as_posix()}"
"""
    if smtp is not None:
        text += f"""
[smtp]
host = "{smtp.host}"
port = {smtp.port}
starttls = {"true" if smtp.tls else "false"}
sender = "Muster Versand GmbH <forderungen@muster-versand.example>"
"""
        if smtp.tls:
            text += f'username = "forderungen"\nca_file = "{smtp.ca_file}"\n'
    path.write_text(text, encoding="utf-8")
    return path


def _balance(code: str, amount: Decimal) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{amount}</Amt>"
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-05-05</Dt></Dt></Bal>"
    )


def camt053(path: Path, payments: Sequence[Any], payer: str) -> Path:
    """A complete camt.053.001.08 statement with one credit per scanned payment (`amount`,
    `text`), as the creditor's bank reports the transfers the codes filled in."""
    total = sum((p.amount for p in payments), Decimal("0.00"))
    entries = []
    for n, p in enumerate(payments, 1):
        entries.append(f"""
   <Ntry>
    <Amt Ccy="EUR">{p.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-05-05</Dt></BookgDt><ValDt><Dt>2026-05-05</Dt></ValDt>
    <AcctSvcrRef>GIRO{n:08d}</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
     <RltdPties><Dbtr><Pty><Nm>{escape(payer)}</Nm></Pty></Dbtr></RltdPties>
     <RmtInf><Ustrd>{escape(p.text)}</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>""")
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>GIRO-TEST</MsgId><CreDtTm>2026-05-05T18:00:00+02:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>GIRO-STMT-1</Id><ElctrncSeqNb>1</ElctrncSeqNb>
   <CreDtTm>2026-05-05T18:00:00+02:00</CreDtTm>
   <Acct><Id><IBAN>{IBAN.replace(" ", "")}</IBAN></Id><Ccy>EUR</Ccy></Acct>
   {_balance("OPBD", Decimal("0.00"))}
   {_balance("CLBD", total)}{"".join(entries)}
  </Stmt>
 </BkToCstmrStmt>
</Document>
""",
        encoding="utf-8",
    )
    return path
