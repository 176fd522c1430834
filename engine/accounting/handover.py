"""`mahnwerk export handover`: the collection agency's case file, one record per claim.

When a claim reaches a state with `handover to "…"`, the run logs a `task_handover` with
the agency's name and the most it may add (RVG cap, lump sum credited: B2, A7).  This
module turns each such claim into what the agency needs to take it over — and what
§ 13a RDG obliges it to tell the debtor: the creditor, the debtor with address and
contacts, the invoice, the principal, every interest line with its rate and period, the
fees and the lump sum, payments, the letters sent with their dates, disputes and
promises.  The figures are the ledger's own lines, so the file and the books agree.

Written per export: `<agency>-<date>.json` (every claim, nested), `.csv` (one row per
claim, German Excel: `;`, decimal comma, UTF-8 with BOM) and, per claim, one PDF dossier:
a cover page with the case and the copies of the letters that were sent, taken from the
letters archive the dispatcher writes (`[delivery] letters_folder`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from mahnwerk import clock
from mahnwerk.engine.comms.config import Settings
from mahnwerk.engine.store import accounting as stored

#: Event kinds (the audit log's) that tell the agency what the debtor said.
_HISTORY = {
    "received_dispute_opened": "dispute",
    "received_dispute_resolved": "dispute resolved",
    "received_promise_made": "promise",
    "received_promise_broken": "promise broken",
    "received_plan_agreed": "payment plan",
    "received_conversation": "conversation",
}
CSV_COLUMNS = (
    "agency", "handed_over_on", "invoice", "issue_date", "due_date", "currency",
    "amount", "principal_open", "fees", "lump_sum", "interest", "payments", "balance",
    "default_since", "debtor_number", "debtor_name", "debtor_type", "street",
    "postal_code", "city", "country", "email", "phone", "letters_sent", "disputed",
    "collection_costs",
)  # fmt: skip


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(slots=True)
class HandoverResult:
    claims: int = 0
    files: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.claims:
            return "no claim was handed over in that time"
        return f"{self.claims} claim(s): " + ", ".join(str(p) for p in self.files)


def cases(
    engine: Engine, settings: Settings, agency: str | None = None, since: date | None = None
) -> list[dict[str, Any]]:
    """Every claim handed over (to `agency`, on or after `since`), as the agency's record."""
    out = []
    with engine.connect() as conn:
        for task in stored.handovers(conn, since):
            name, _, brief = (task.message or "").partition(": ")
            if agency is not None and name.casefold() != agency.casefold():
                continue
            out.append(_case(conn, settings, task.invoice_id, name, task.occurred_on, brief))
    return out


def _case(
    conn,
    settings: Settings,
    invoice_id: int,
    agency: str,
    on: date,  # type: ignore[no-untyped-def]
    brief: str,
) -> dict[str, Any]:
    inv, cust, state, ledger, letters, history = stored.claim_rows(conn, invoice_id, _HISTORY)
    sums: dict[str, Decimal] = {}
    for line in ledger:
        sums[line.kind] = sums.get(line.kind, Decimal("0.00")) + line.amount
    balance = sum(sums.values(), Decimal("0.00"))
    return {
        "agency": agency,
        "handed_over_on": on.isoformat(),
        "collection_costs": brief,
        **_parties(settings.creditor, cust),
        "claim": _claim(inv, state),
        "totals": {k: _money(v) for k, v in sorted(sums.items())},
        "balance": _money(balance),
        **_books(ledger),
        "letters": [
            {
                "sent_on": _day(x.sent_at.date() if x.sent_at else None),
                "channel": x.channel,
                "template": x.template,
                "language": x.language,
            }
            for x in letters
        ],
        "history": [
            {"what": _HISTORY[h.kind], "on": _day(h.occurred_on), "by": h.actor, "note": h.message}
            for h in history
        ],
    }


def _parties(c: Any, cust: Any) -> dict[str, Any]:
    """The creditor and the debtor as the agency needs them."""
    return {
        "creditor": {
            "name": c.name, "street": c.street, "postal_code": c.postal_code, "city": c.city,
            "country": c.country, "iban": c.iban, "bic": c.bic, "email": c.email,
            "phone": c.phone, "register": c.register, "vat_id": c.vat_id,
        },
        "debtor": {
            "number": cust.external_id, "name": cust.name, "type": cust.type,
            "street": cust.street, "postal_code": cust.postal_code, "city": cust.city,
            "country": cust.country, "email": cust.email, "phone": cust.phone,
            "language": cust.language,
        },
    }  # fmt: skip


def _claim(inv: Any, state: Any) -> dict[str, Any]:
    """The invoice and what is open on it (the invoice's amount before any dunning state)."""
    return {
        "invoice": inv.external_id, "issue_date": _day(inv.issue_date),
        "due_date": _day(inv.due_date), "currency": inv.currency,
        "amount": _money(inv.amount),
        "principal_open": _money(state.principal_open if state else inv.amount),
        "fees_open": _money(state.fees_open if state else None),
        "interest_open": _money(state.interest_open if state else None),
        "default_since": _day(state.default_since if state else None),
        "disputed": bool(state.disputed) if state else False,
    }  # fmt: skip


def _books(ledger: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The ledger's interest periods, charges and payments, line by line."""
    return {
        "interest": [
            {"from": _day(x.period_from), "to": _day(x.period_to),
             "rate": None if x.rate is None else f"{x.rate:.2f}", "amount": _money(x.amount),
             "booked_on": _day(x.booked_on), "provisional": bool(x.provisional), "rule": x.rule}
            for x in ledger if x.kind == "interest"
        ],
        "charges": [
            {"kind": x.kind, "booked_on": _day(x.booked_on), "amount": _money(x.amount),
             "rule": x.rule}
            for x in ledger if x.kind in ("fee", "lump_sum", "collection_cost")
        ],
        "payments": [
            {"booked_on": _day(x.booked_on), "amount": _money(-x.amount)}
            for x in ledger if x.kind == "payment"
        ],
    }  # fmt: skip


def _csv(records: list[dict[str, Any]]) -> bytes:
    def comma(value: str | None) -> str:
        return "" if value is None else value.replace(".", ",")

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        t, d, claim = r["totals"], r["debtor"], r["claim"]
        writer.writerow(
            [
                r["agency"],
                r["handed_over_on"],
                claim["invoice"],
                claim["issue_date"],
                claim["due_date"],
                claim["currency"],
                comma(claim["amount"]),
                comma(claim["principal_open"]),
                comma(t.get("fee")),
                comma(t.get("lump_sum")),
                comma(t.get("interest")),
                comma(t.get("payment")),
                comma(r["balance"]),
                claim["default_since"] or "",
                d["number"],
                d["name"],
                d["type"],
                d["street"] or "",
                d["postal_code"] or "",
                d["city"] or "",
                d["country"],
                d["email"] or "",
                d["phone"] or "",
                len(r["letters"]),
                "ja" if claim["disputed"] else "nein",
                r["collection_costs"],
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "agency"


def write_handover(
    engine: Engine,
    settings: Settings,
    out: Path,
    agency: str | None = None,
    since: date | None = None,
    now: datetime | None = None,
) -> HandoverResult:
    """The case files of the claims handed over, into the folder `out`."""
    from mahnwerk.engine.accounting.dossier import dossier

    records = cases(engine, settings, agency, since)
    result = HandoverResult(len(records))
    if not records:
        return result
    out.mkdir(parents=True, exist_ok=True)
    stamp = (now or clock.now()).strftime("%Y%m%d")
    stem = f"{_slug(agency or 'inkasso')}-{stamp}"
    files = {
        out / f"{stem}.json": json.dumps(records, ensure_ascii=False, indent=2).encode(),
        out / f"{stem}.csv": _csv(records),
    }
    archive = Path(settings.delivery.letters_folder)
    for record in records:
        files[out / f"{stem}-{_slug(record['claim']['invoice'])}.pdf"] = dossier(record, archive)
    for path, data in files.items():
        path.write_bytes(data)
        result.files.append(path)
    return result
