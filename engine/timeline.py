"""An invoice's timeline as people and scripts read it: one shape for every caller.

The rows come from `engine/store/timeline`, read through the DBAPI alone (no SQLAlchemy,
so `mahnwerk show INV` starts fast, issue 21): `sqlite3` for the command line's fast
path (`app/quick.py`), SQLAlchemy's raw connection for `store.invoices.timeline` (the
API, the TUI, the tests).  Both are shaped here, so `show --json` (docs/json.md) and
`show`'s text have one home.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from mahnwerk.engine.store.timeline import timeline_rows


def invoice_row(row: Any, as_of: date | None = None) -> dict[str, Any]:
    """One invoice as people and scripts read it (docs/json.md); `as_of` is the day
    limitation is judged on (C4): a claim time-barred by then says so, and since when."""
    since = row.time_barred_from
    barred = since is not None and as_of is not None and since <= as_of
    return {
        "invoice": row.external_id,
        "customer": row.customer_ext,
        "customer_name": row.customer_name,
        "amount": str(row.amount),
        "balance": str(
            Decimal(row.principal_open) + Decimal(row.fees_open) + Decimal(row.interest_open)
        )
        if row.state is not None
        else str(row.amount),
        "due_date": row.due_date.isoformat(),
        "segment": row.segment,
        "state": row.state or "new",
        "entered_on": row.entered_on.isoformat() if row.entered_on else None,
        "next_check_on": row.next_check_on.isoformat() if row.next_check_on else None,
        "paused": row.pause_reason,
        "held": bool(row.held) if row.held is not None else False,
        "disputed": bool(row.disputed) if row.disputed is not None else False,
        "time_barred": barred,
        "time_barred_since": since.isoformat() if barred else None,
    }


def read_timeline(
    conn: Any, invoice: str, as_of: date | None = None, mark: str = "?"
) -> dict[str, Any] | None:
    """Everything that happened to one invoice (the shape of `show --json`), or None when
    there is no invoice with that number; `as_of` (default: the latest run's date) judges
    limitation (C4).  `conn` is a DBAPI connection whose parameter mark is `mark`."""
    rows = timeline_rows(conn, invoice, as_of, mark)
    if rows is None:
        return None
    events, ledger, messages = rows.events, rows.ledger, rows.messages
    return {
        "invoice": invoice_row(rows.head, rows.day),
        "events": [
            {
                "date": e["occurred_on"].isoformat(),
                "kind": e["kind"],
                "from": e["state_from"],
                "to": e["state_to"],
                "message": e["message"],
                "rule": e["rule"],
                "actor": e["actor"],
            }
            for e in events
        ],  # fmt: skip
        "ledger": [
            {
                "date": line["booked_on"].isoformat(),
                "kind": line["kind"],
                "amount": str(line["amount"]),
                "period": [line["period_from"].isoformat(), line["period_to"].isoformat()]
                if line["period_from"]
                else None,
                "provisional": bool(line["provisional"]),
                "rule": line["rule"],
            }
            for line in ledger
        ],
        "messages": [
            {
                "channel": o["channel"],
                "template": o["template"],
                "status": o["status"],
                "not_before": o["not_before"].isoformat(),
                "sent_at": o["sent_at"].isoformat() if o["sent_at"] else None,
                "rule": o["rule"],
            }
            for o in messages
        ],
    }


def timeline_lines(data: dict[str, Any]) -> list[str]:
    """`mahnwerk show`'s text: the head, the state, limitation and one line per event."""
    h = data["invoice"]
    lines = [
        f"{h['invoice']}  {h['customer_name']} ({h['customer']})  amount {h['amount']}  "
        f"balance {h['balance']}  due {h['due_date']}",
        f"segment {h['segment']}, state {h['state']} since {h['entered_on']}"
        + (f", paused: {h['paused']}" if h["paused"] else ""),
    ]
    if h["time_barred"]:
        lines.append(
            f"time-barred since {h['time_barred_since']} (§§ 195, 199 BGB): "
            "no court order; the debtor may refuse to pay (§ 214 BGB)"
        )
    for e in data["events"]:
        move = f"{e['from']} -> {e['to']}  " if e["from"] and e["to"] else ""
        rule = f"  [{e['rule']}]" if e["rule"] else ""
        lines.append(f"  {e['date']}  {e['kind']:<20} {move}{e['message']}{rule}")
    return lines
