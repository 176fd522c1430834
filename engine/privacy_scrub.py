"""What an erasure changes: the customer's fields cleared or anonymised, free text
that repeats erased values scrubbed, rows of other features dropped, unsent
messages cancelled, and the JSON form of rows for the access export.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from mahnwerk.engine.privacy_rules import (
    _CLEARED,
    _EVENT_KINDS,
    _LEGAL_FORMS,
    _ONE_DAY,
    BOOKING_FIELDS,
    DROP_ON_ERASURE,
    ERASED,
    NOT_BOOKING_FIELDS,
    RESET_FIELDS,
    Mode,
    retention_end,
)
from mahnwerk.engine.privacy_scope import _last_booking, _Scope
from mahnwerk.engine.store import privacy as store


@dataclass(frozen=True)
class ErasureResult:
    """What `erase_customer` did; holds no erased value, only field names and counts."""

    customer: str
    mode: Mode
    as_of: date
    last_booking: date | None
    retention_until: date | None
    erased_fields: tuple[str, ...]
    kept_fields: tuple[str, ...]
    rows_scrubbed: dict[str, int] = field(default_factory=dict)
    messages_cancelled: int = 0
    events_with_erased_data: tuple[int, ...] = ()
    event_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.event_id is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "mode": self.mode,
            "as_of": self.as_of.isoformat(),
            "last_booking": _iso(self.last_booking),
            "retention_until": _iso(self.retention_until),
            "erased_fields": list(self.erased_fields),
            "kept_fields": list(self.kept_fields),
            "rows_scrubbed": dict(self.rows_scrubbed),
            "messages_cancelled": self.messages_cancelled,
            "events_with_erased_data": list(self.events_with_erased_data),
            "event_id": self.event_id,
        }

    def __str__(self) -> str:
        if not self.changed:
            return f"customer {self.customer}: already {self.mode}, nothing left to erase"
        erased = ", ".join(self.erased_fields) or "no fields"
        if self.mode == "anonymised":
            lines = [f"customer {self.customer} anonymised: {erased} erased"]
            if self.retention_until is not None:
                lines[0] += f" (retention ended {self.retention_until})"
        else:
            until = self.retention_until
            kept = ", ".join(self.kept_fields) or "booking records"
            lines = [
                f"customer {self.customer}: {erased} erased; {kept} kept for the booking "
                f"records until {until} (§ 147 AO, § 257 HGB) and restricted; "
                f"erase again from {until + _ONE_DAY if until else '-'} to anonymise"
            ]
        scrubbed = sum(self.rows_scrubbed.values())
        if scrubbed:
            where = ", ".join(f"{t} {n}" for t, n in sorted(self.rows_scrubbed.items()))
            lines.append(f"  free text scrubbed in {scrubbed} row(s): {where}")
        if self.messages_cancelled:
            lines.append(f"  {self.messages_cancelled} unsent message(s) cancelled")
        if self.events_with_erased_data:
            ids = ", ".join(f"#{i}" for i in self.events_with_erased_data)
            lines.append(
                f"  note: event log entries {ids} still contain erased values; the log is "
                "append-only and was not changed — review them"
            )
        lines.append(f"  recorded as event #{self.event_id}")
        return "\n".join(lines)


def _customer_changes(cust: Mapping[str, Any], mode: Mode) -> dict[str, Any]:
    """New values for the fields that are to be erased and still hold something."""
    target: dict[str, Any] = {f: _CLEARED.get(f) for f in NOT_BOOKING_FIELDS}
    if mode == "anonymised":
        target |= {f: None for f in BOOKING_FIELDS} | RESET_FIELDS
        target["name"] = anonymised_name(cust["id"], cust["external_id"])
    return {
        f: v for f, v in target.items() if cust[f] != v and not (f == "name" and _is_anon(cust))
    }


def anonymised_name(customer_id: int, external_id: str) -> str:
    """A stable placeholder derived from keys that are kept anyway, never from the name."""
    digest = hashlib.sha256(f"mahnwerk:{customer_id}:{external_id}".encode()).hexdigest()
    return f"anonymised {digest[:12]}"


def _is_anon(cust: Mapping[str, Any]) -> bool:
    return cust["name"] == anonymised_name(cust["id"], cust["external_id"])


def _present(cust: Mapping[str, Any], fields: Iterable[str]) -> tuple[str, ...]:
    return tuple(f for f in fields if cust[f] not in (None, ""))


def _personal_values(cust: Mapping[str, Any], mode: Mode) -> tuple[str, ...]:
    """The strings to look for in free text: contact data, and in `anonymised` name and address.

    The name is also searched word by word ("Schmidt, Anna" -> "Schmidt", "Anna"), without
    legal forms such as "GmbH"; tags and opt-outs are vocabulary, not identifiers.
    """
    fields = ["email", "phone"]
    if mode == "anonymised" and not _is_anon(cust):
        fields += ["name", "street", "city", "postal_code"]
    found: set[str] = set()
    for f in fields:
        value = cust[f]
        if isinstance(value, str) and len(value.strip()) >= 3:
            found.add(value.strip())
            if f in ("name", "street"):
                found.update(
                    w
                    for w in re.findall(r"[^\W\d_][\w.'-]*", value)
                    if len(w) >= 3 and w.casefold().rstrip(".") not in _LEGAL_FORMS
                )
    return _longest_first(found)


def _pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    if not values:
        return None
    alternatives = "|".join(re.escape(v) for v in values)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _scrub_text(text: Any, pattern: re.Pattern[str]) -> Any:
    """`text` with every personal value replaced; JSON stays JSON (values inside are scrubbed)."""
    if not isinstance(text, str) or not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return pattern.sub(ERASED, text)
    if not isinstance(data, dict | list):
        return pattern.sub(ERASED, text)
    cleaned = _scrub_json(data, pattern)
    return text if cleaned == data else json.dumps(cleaned, ensure_ascii=False)


def _scrub_json(data: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(data, str):
        return pattern.sub(ERASED, data)
    if isinstance(data, list):
        return [_scrub_json(v, pattern) for v in data]
    if isinstance(data, dict):
        return {k: _scrub_json(v, pattern) for k, v in data.items()}
    return data


def _drop_rows(conn: Connection, scope: _Scope) -> dict[str, int]:
    """Delete the customer's rows in `DROP_ON_ERASURE` tables (where they exist)."""
    return store.drop_rows(conn, scope, DROP_ON_ERASURE)


def _ibans(conn: Connection, scope: _Scope) -> tuple[str, ...]:
    """The customer's IBANs as other tables hold them (`iban`, `*_iban` columns)."""
    return tuple(store.ibans(conn, scope))


def _longest_first(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values), key=len, reverse=True))


def _scrub_rows(
    conn: Connection, scope: _Scope, values: tuple[str, ...], mode: Mode
) -> dict[str, int]:
    """Replace personal values in free text of the customer's mutable rows; count per table."""
    pattern = _pattern(values)
    counts: dict[str, int] = {}
    if mode == "anonymised":
        # Bank references are booking vouchers during retention; afterwards they go.
        cleared = store.clear_payment_references(conn, scope)
        if cleared:
            counts["payment"] = cleared
    if pattern is None:
        return counts
    for table, key, texts in store.free_text(conn, scope):
        new = {c: _scrub_text(v, pattern) for c, v in texts.items()}
        new = {c: v for c, v in new.items() if v != texts[c]}
        if not new:
            continue
        store.set_text(conn, table, key, new)
        counts[table.name] = counts.get(table.name, 0) + 1
    return counts


def _cancel_unsent(conn: Connection, scope: _Scope) -> int:
    """Nothing more goes out to an erased customer: queued and failed messages are cancelled."""
    return store.cancel_unsent(conn, scope)


def _events_containing(conn: Connection, scope: _Scope, values: tuple[str, ...]) -> tuple[int, ...]:
    """Ids of the customer's log entries that repeat a personal value (the log stays as is)."""
    pattern = _pattern(values)
    if pattern is None:
        return ()
    return tuple(
        r.id
        for r in store.event_texts(conn, scope)
        if pattern.search(r.message or "") or pattern.search(_json_text(r.payload))
    )


def _json_text(payload: str | None) -> str:
    """Payload text with JSON escapes undone, so "M\\u00fcller" is found as "Müller"."""
    try:
        return json.dumps(json.loads(payload or "{}"), ensure_ascii=False)
    except ValueError:
        return payload or ""


def _privacy(conn: Connection, customer_id: int, scope: _Scope) -> dict[str, Any]:
    last = _last_booking(conn, scope)
    until = retention_end(last) if last is not None else None
    latest = store.latest_erasure(conn, customer_id, list(_EVENT_KINDS.values()))
    return {
        "status": latest.kind.removeprefix("customer_") if latest else "active",
        "since": _iso(latest.occurred_on) if latest else None,
        "by": latest.actor if latest else None,
        "last_booking": _iso(last),
        "retention_until": _iso(until),
        "erasure_from": _iso(until + _ONE_DAY) if until else None,
    }


def _audit_message(result: ErasureResult) -> str:
    """The log line: which fields, on what ground — never the erased values."""
    fields = ", ".join(result.erased_fields) or "no fields"
    if result.mode == "anonymised":
        ground = (
            f"retention ended {result.retention_until}"
            if result.retention_until
            else "no booking records to keep"
        )
        return f"customer anonymised (GDPR Art. 17; {ground}): {fields} erased"
    return (
        f"personal data erased (GDPR Art. 17): {fields}; booking data kept and restricted "
        f"(Art. 18) until {result.retention_until} (§ 147 AO, § 257 HGB)"
    )


def _row(mapping: Mapping[str, Any], numbers: Mapping[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        out[key] = _json_value(key, value)
    if "invoice_id" in out and numbers:
        out["invoice"] = numbers.get(out["invoice_id"])
    return out


def _json_value(key: str, value: Any) -> Any:
    if isinstance(value, bytes):  # a file the customer sent (a portal upload), as base64
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if key in ("payload", "plan", "interest_deferred", "stats") and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
