"""A camt.053 statement for the GiroCode tests (settings: `helpers.write_config`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from .helpers import IBAN


def _balance(code: str, amount: Decimal) -> str:
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amount}</Amt>'
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
