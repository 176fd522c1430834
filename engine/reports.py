"""Reports on the engine's database: is the money coming in, and does the dunning work?

* `aging`: what is open on a day, by how long it has been overdue;
* `dso`: days sales outstanding per month (receivables at the month's end /
  credit sales in the month x days in the month);
* `effectiveness`: the collection effectiveness index per month,
  CEI = (beginning receivables + credit sales - ending total receivables)
  / (beginning receivables + credit sales - ending current receivables) x 100;
* `stages`: per ladder state, how many invoices entered it, how much was paid
  while they stood in it, how many were paid in full from it, and the median
  days from entering it to that payment;
* `channels`: per channel and template, messages queued and the share of
  their invoices paid within N days after the message;
* `skonto`: Skonto taken, discounts offered and honoured, unjustified deductions, and
  what the discounts cost against the days to cash they gained (`engine/skonto_report.py`).

Everything is read from the `ledger` (receivables are the sum of its lines up
to a day: principal, fees, interest, minus payments and write-offs), the
`event` log (transitions and payments, in the order they were written) and the
`outbox`.  A report is a plain table (`Report`) that the command line prints
with rich, as CSV or JSON, or draws as a PNG with matplotlib.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from mahnwerk.dsl.ir import INITIAL_STATE, TERMINAL_NAMES
from mahnwerk.engine.comms import channels
from mahnwerk.engine.store import reports as store
from mahnwerk.errors import MahnwerkError

if TYPE_CHECKING:
    from mahnwerk.engine.charts import Chart

ZERO = Decimal("0.00")
#: Ledger kinds that are billed to the customer: "credit sales" for DSO and CEI.
BILLED = ("principal", "fee", "lump_sum", "interest", "collection_cost")
AGING_BUCKETS = ((0, "not yet due"), (30, "1-30"), (60, "31-60"), (90, "61-90"), (180, "91-180"))


class ReportError(MahnwerkError, ValueError):
    """A report that cannot be made (empty database, bad period)."""


@dataclass
class Report:
    """A table with a title; `chart` names the columns a PNG plots: (labels, value).

    Labels joined from several columns (`channel template`) when `labels` is a tuple.
    """

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: tuple[str | tuple[str, ...], str] | None = None
    notes: list[str] = field(default_factory=list)
    as_of: date | None = None
    partial: frozenset[str] = frozenset()  # labels of periods the report's day cuts short
    #: draw only the rows whose column has this value (e.g. the months' sum, not each month)
    chart_only: tuple[str, str] | None = None

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, (_plain(v) for v in r), strict=True)) for r in self.rows]

    def to_json(self) -> str:
        return json.dumps(
            {"report": self.name, "title": self.title, "rows": self.records(), "notes": self.notes},
            indent=2,
            ensure_ascii=False,
        )

    def to_csv(self, lang: str = "de") -> str:
        return csv_text(self.columns, self.rows, lang)

    def to_chart(self, lang: str = "de") -> Chart:
        """The slide chart: sums and "total"/"all" rows left out, units and words of `lang`."""
        from mahnwerk.engine.charts import Chart

        if self.chart is None:
            raise ReportError(f"report {self.name} has no chart")
        labels, value = self.chart
        li = [self.columns.index(c) for c in ((labels,) if isinstance(labels, str) else labels)]
        vi = self.columns.index(value)
        only = None
        if self.chart_only is not None:
            only = (self.columns.index(self.chart_only[0]), self.chart_only[1])
        rows = [
            r
            for r in self.rows
            if r[vi] is not None and (r[only[0]] == only[1] if only else r[li[0]] not in SUM_ROWS)
        ]
        if not rows and self.chart_only is None:
            raise ReportError(f"report {self.name}: no values to draw")
        words, scale = CHART_TEXT[self.name]
        title, unit = words[lang]
        names = [" ".join(_word(str(r[i]), lang) for i in li) for r in rows]
        day = f"{self.as_of:%d.%m.%Y}" if self.as_of else ""
        within = "".join(ch for ch in value if ch.isdigit())
        subtitle = (f"Stand {day}" if lang == "de" else f"as of {day}") + SUBTITLES[self.name][
            lang
        ].replace("{within}", within)
        return Chart(
            title=title,
            subtitle=subtitle,
            unit=unit,
            lang=lang,
            categories=names,
            values=[float(r[vi]) / scale for r in rows],
            partial=frozenset(i for i, r in enumerate(rows) if str(r[li[0]]) in self.partial),
            notes=([PARTIAL_NOTE[lang]] if self.partial else [])
            + ([] if rows else [NOTHING_YET[lang]]),
        )

    def to_xlsx(self, path: str | Path) -> Path:
        """An Excel workbook: numbers as numbers (money with two decimals), dates as dates."""
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = self.name
        sheet.append(self.columns)
        for r in self.rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in r])
        for column in sheet.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
        path = Path(path)
        book.save(path)
        return path

    def to_png(self, path: str | Path, lang: str = "de") -> Path:
        """The chart as a 1600 × 900 PNG (and an SVG beside it)."""
        from mahnwerk.engine.charts import save

        return save(self.to_chart(lang), path)[0]


#: Rows that sum the others: in the tables, never among the bars.
SUM_ROWS = ("total", "all")
#: Per report: the chart's title and value unit in each language, and the divisor of values.
CHART_TEXT: dict[str, tuple[dict[str, tuple[str, str]], int]] = {
    "aging": ({"de": ("Offene Forderungen nach Tagen überfällig", "T€"),
               "en": ("Open receivables by days past due", "k€")}, 1000),
    "dso": ({"de": ("Forderungsreichweite (DSO) je Monat", "Tage"),
             "en": ("Days sales outstanding per month", "days")}, 1),
    "effectiveness": ({"de": ("Einzugsquote (CEI) je Monat", "%"),
                       "en": ("Collection effectiveness index per month", "%")}, 1),
    "stages": ({"de": ("Eingänge je Mahnstufe", "T€"),
                "en": ("Cash received per dunning stage", "k€")}, 1000),
    "channels": ({"de": ("Bezahlt nach einer Nachricht, je Kanal und Vorlage", "%"),
                  "en": ("Paid after a message, per channel and template", "%")}, 1),
    "skonto": ({"de": ("Skonto und Nachlässe", "Rechnungen"),
                "en": ("Skonto and discounts", "invoices")}, 1),
    "feedback": ({"de": ("Warum Kunden spät zahlen, nach ihren Worten", "Antworten"),
                  "en": ("Why customers say they pay late", "answers")}, 1),
}  # fmt: skip
SUBTITLES: dict[str, dict[str, str]] = {
    "aging": {"de": "; Saldo aller Rechnungen laut Hauptbuch, auch übergebene",
              "en": "; ledger balance of every invoice, handed-over ones included"},
    "dso": {"de": "; Forderungen am Monatsende / Umsatz im Monat × Tage",
            "en": "; receivables at month end / credit sales in the month × days"},
    "effectiveness": {"de": "; eingezogen / einziehbar im Monat",
                      "en": "; collected / collectable in the month"},
    "stages": {"de": "; Zahlungen, während die Rechnung in der Stufe stand",
               "en": "; payments while the invoice stood in the stage"},
    "channels": {"de": "; Anteil der Rechnungen, bezahlt binnen {within} Tagen",
                 "en": "; share of invoices paid within {within} days"},
    "skonto": {"de": "; gewährt, angeboten, genutzt, zu Unrecht abgezogen",
               "en": "; granted, offered, honoured, deducted too late"},
    "feedback": {"de": "; Antworten im Kundenportal, je Grund und Segment, alle Monate",
                 "en": "; answers on the customer portal, per reason and segment, all months"},
}  # fmt: skip
PARTIAL_NOTE = {"de": "schraffiert: angebrochener Monat", "en": "hatched: a partial month"}
#: A counting report with nothing counted yet is drawn empty, with this note, not refused.
NOTHING_YET = {"de": "noch keine Einträge in diesem Zeitraum", "en": "nothing recorded yet"}
_WORDS_DE = {name: c.label_de for name, c in channels.REGISTRY.items()} | {
    "not yet due": "nicht fällig",
    "over 180": "über 180",
    "all": "alle",
    "total": "Summe",
    "Skonto taken": "Skonto gewährt",
    "discounts offered": "Nachlass angeboten",
    "discounts honoured": "Nachlass genutzt",
    "unjustified deductions": "Skonto zu Unrecht abgezogen",
    "… still open": "… noch offen",
    "… paid afterwards": "… nachgezahlt",
    "… written off": "… ausgebucht",
    "paid without discount": "ohne Abzug bezahlt",
    "forgot": "vergessen",
    "cash_flow": "Engpass",
    "unclear": "unklar",
    "not_received": "nicht erhalten",
    "disagree": "nicht einverstanden",
    "other": "anderes",
}


def _word(text: str, lang: str) -> str:
    return _WORDS_DE.get(text, text) if lang == "de" else text


def csv_text(columns: list[str], rows: list[list[Any]], lang: str = "de") -> str:
    """CSV that Excel opens as numbers: German `;` and decimal comma, English `,` and point.

    Written to a file, German CSV gets a UTF-8 BOM (`encoding="utf-8-sig"`), without which
    Excel reads umlauts as Windows-1252.
    """
    german = lang == "de"

    def cell(v: Any) -> Any:
        if v is None:
            return ""
        if isinstance(v, Decimal | float) and german:
            return str(v).replace(".", ",")
        return _plain(v)

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if german else ",", lineterminator="\r\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([cell(v) for v in r])
    return buf.getvalue()


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal | date):
        return str(v)
    return v


def _pct(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _median(days: list[int]) -> Decimal | None:
    if not days:
        return None
    return Decimal(str(statistics.median(days))).quantize(Decimal("0.1"), ROUND_HALF_UP)


def last_run_day(engine: Engine) -> date:
    """The as-of day of the newest run: the default day of every report."""
    day = store.last_run_day(engine)
    if day is None:
        raise ReportError("no run yet: run `mahnwerk run --as-of DATE` first, or pass --as-of")
    return day


# ---------------------------------------------------------------------------
# Receivables from the ledger
# ---------------------------------------------------------------------------


def _balances(conn: Connection, day: date) -> dict[int, Decimal]:
    """Each invoice's open balance at the end of `day` (positive balances only)."""
    out = {}
    for invoice_id, total in store.ledger_sums(conn, day):
        value = Decimal(total or 0).quantize(Decimal("0.01"))
        if value > 0:
            out[invoice_id] = value
    return out


def _billed(conn: Connection, first: date, last: date) -> Decimal:
    total = store.ledger_total(conn, BILLED, first, last)
    return Decimal(total or 0).quantize(Decimal("0.01"))


def _due_dates(conn: Connection) -> dict[int, date]:
    return store.due_dates(conn)


def _months(conn: Connection, as_of: date) -> list[tuple[date, date]]:
    """Calendar months from the first ledger line to `as_of` (the last one cut at `as_of`)."""
    first, last = store.ledger_span(conn)
    if first is None:
        raise ReportError("the ledger is empty: nothing to report (run the engine first)")
    if as_of < first:
        raise ReportError(f"{as_of} is before the first booking ({first}): pick a later day")
    if as_of > last + timedelta(days=366):  # a far year cost a ledger pass per month to it
        raise ReportError(f"{as_of} is a year past the last booking ({last}): pick an earlier day")
    out, start = [], first.replace(day=1)
    while start <= as_of:
        nxt = (start + timedelta(days=32)).replace(day=1)
        out.append((start, min(nxt - timedelta(days=1), as_of)))
        start = nxt
    return out


# ---------------------------------------------------------------------------
# The reports
# ---------------------------------------------------------------------------


def aging(engine: Engine, as_of: date) -> Report:
    """Open receivables at the end of `as_of`, by days past due."""
    with engine.connect() as conn:
        balances = _balances(conn, as_of)
        due = _due_dates(conn)
    count: dict[str, int] = defaultdict(int)
    amount: dict[str, Decimal] = defaultdict(lambda: ZERO)
    labels = [label for _, label in AGING_BUCKETS] + ["over 180"]
    for invoice_id, balance in balances.items():
        overdue = (as_of - due[invoice_id]).days
        label = next((lb for limit, lb in AGING_BUCKETS if overdue <= limit), "over 180")
        count[label] += 1
        amount[label] += balance
    total = sum(amount.values(), ZERO)
    rows: list[list[Any]] = [[lb, count[lb], amount[lb], _pct(amount[lb], total)] for lb in labels]
    rows.append(["total", sum(count.values()), total, _pct(total, total)])
    return Report(
        "aging",
        f"Open receivables by days past due, {as_of}",
        ["days past due", "invoices", "amount EUR", "share %"],
        rows,
        chart=("days past due", "amount EUR"),
        as_of=as_of,
    )


def _partial(months: list[tuple[date, date]]) -> frozenset[str]:
    """The months that do not run from their first to their last day in the report."""
    out = set()
    for first, last in months:
        end = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if first.day != 1 or last != end:
            out.add(first.strftime("%Y-%m"))
    return frozenset(out)


def dso(engine: Engine, as_of: date) -> Report:
    """Days sales outstanding per calendar month up to `as_of`."""
    with engine.connect() as conn:
        rows: list[list[Any]] = []
        partial = _partial(_months(conn, as_of))
        for first, last in _months(conn, as_of):
            receivables = sum(_balances(conn, last).values(), ZERO)
            sales = _billed(conn, first, last)
            days = (last - first).days + 1
            value = (
                (receivables / sales * days).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if sales
                else None
            )
            rows.append([first.strftime("%Y-%m"), first, last, receivables, sales, days, value])
    return Report(
        "dso",
        f"Days sales outstanding per month, up to {as_of}",
        ["month", "from", "to", "receivables EUR", "credit sales EUR", "days", "DSO"],
        rows,
        chart=("month", "DSO"),
        notes=["DSO = receivables at the period's end / credit sales in the period x its days"],
        as_of=as_of,
        partial=partial,
    )


def effectiveness(engine: Engine, as_of: date) -> Report:
    """The collection effectiveness index per month and over the whole span."""
    with engine.connect() as conn:
        due = _due_dates(conn)
        months = _months(conn, as_of)
        rows: list[list[Any]] = []

        def cei(first: date, last: date, label: str) -> list[Any]:
            begin = sum(_balances(conn, first - timedelta(days=1)).values(), ZERO)
            sales = _billed(conn, first, last)
            end = _balances(conn, last)
            end_total = sum(end.values(), ZERO)
            end_current = sum((b for i, b in end.items() if due[i] >= last), ZERO)
            collectable = begin + sales - end_current
            value = _pct(begin + sales - end_total, collectable) if collectable > 0 else None
            return [label, begin, sales, end_total, end_current, value]

        for first, last in months:
            rows.append(cei(first, last, first.strftime("%Y-%m")))
        rows.append(cei(months[0][0], as_of, "all"))
    return Report(
        "effectiveness",
        f"Collection effectiveness index, up to {as_of}",
        [
            "period",
            "beginning receivables EUR",
            "credit sales EUR",
            "ending receivables EUR",
            "ending current EUR",
            "CEI %",
        ],
        rows,
        chart=("period", "CEI %"),
        as_of=as_of,
        partial=_partial(months),
        notes=[
            "CEI = (beginning + credit sales - ending total) / "
            "(beginning + credit sales - ending current) x 100; current = not yet due"
        ],
    )


def _paths(conn: Connection, as_of: date) -> dict[int, list[tuple[str, date, Any]]]:
    """Per invoice, its transitions and payments up to `as_of`, in the order written."""
    out: dict[int, list[tuple[str, date, Any]]] = defaultdict(list)
    for r in store.path_events(conn, as_of):
        if r.kind == "principal":  # taken up: every invoice has a path, even without steps
            out.setdefault(r.invoice_id, [])
        elif r.kind == "transition":
            out[r.invoice_id].append(("transition", r.occurred_on, r.state_to))
        else:
            amount = -Decimal(json.loads(r.payload or "{}").get("amount", "0"))
            out[r.invoice_id].append(("payment", r.occurred_on, amount))
    return out


def paid_days(engine: Engine, as_of: date) -> dict[int, date]:
    """The day each invoice was paid in full: its last payment before entering `paid`."""
    with engine.connect() as conn:
        paths = _paths(conn, as_of)
    out = {}
    for invoice_id, path in paths.items():
        last_payment = None
        for kind, day, what in path:
            if kind == "payment":
                last_payment = day
            elif what == "paid":
                out[invoice_id] = last_payment or day
                break
    return out


def stages(engine: Engine, as_of: date) -> Report:
    """What each ladder state recovers, and how fast invoices pay from it."""
    with engine.connect() as conn:
        paths = _paths(conn, as_of)
    entered: dict[str, int] = defaultdict(int)
    recovered: dict[str, Decimal] = defaultdict(lambda: ZERO)
    paid_from: dict[str, list[int]] = defaultdict(list)
    first_seen: dict[str, int] = {}
    for path in paths.values():
        state, since = INITIAL_STATE, None
        entered[state] += 1
        last_payment: date | None = None
        for step, (kind, day, what) in enumerate(path):
            if kind == "payment":
                if state not in TERMINAL_NAMES:
                    recovered[state] += what
                last_payment = day
                continue
            if what == "paid" and state not in TERMINAL_NAMES:
                paid_on = last_payment or day
                start = since or paid_on
                paid_from[state].append(max(0, (paid_on - start).days))
            state, since = what, day
            if state not in TERMINAL_NAMES:
                entered[state] += 1
                first_seen.setdefault(state, step)
    order = sorted(entered, key=lambda s: (s != INITIAL_STATE, -entered[s], s))
    rows = []
    for s in order:
        days = paid_from.get(s, [])
        rows.append(
            [
                s,
                entered[s],
                recovered[s],
                len(days),
                _pct(len(days), entered[s]),
                _median(days),
            ]
        )
    return Report(
        "stages",
        f"Recovery per ladder state, up to {as_of}",
        [
            "state",
            "invoices entered",
            "paid while in it EUR",
            "paid in full from it",
            "paid in full %",
            "median days to payment",
        ],
        rows,
        chart=("state", "paid while in it EUR"),
        as_of=as_of,
        notes=[
            f"`{INITIAL_STATE}`: taken up, before the first ladder step; days are counted "
            "from entering the state to the payment that settled the invoice"
        ],
    )


def channels(engine: Engine, as_of: date, within: int = 14) -> Report:
    """Per channel and template: messages, and the share of invoices paid within N days."""
    paid = paid_days(engine, as_of)
    msgs = store.invoice_messages(engine)
    groups: dict[tuple[str, str], list[tuple[int, date]]] = defaultdict(list)
    for channel, template, invoice_id, not_before in msgs:
        day = not_before.date()
        if day > as_of:
            continue
        groups[(channel, template)].append((invoice_id, day))
        groups[(channel, "all")].append((invoice_id, day))
    rows = []
    for (channel, template), sent in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        quick, days = 0, []
        observable = 0  # messages at least `within` days old, or already followed by payment
        for invoice_id, day in sent:
            p = paid.get(invoice_id)
            if p is not None and p >= day:
                days.append((p - day).days)
            if p is not None and day <= p <= day + timedelta(days=within):
                quick += 1
                observable += 1
            elif day + timedelta(days=within) <= as_of:
                observable += 1
        rows.append(
            [
                channel,
                template,
                len(sent),
                observable,
                quick,
                _pct(quick, observable),
                _median(days),
            ]
        )
    return Report(
        "channels",
        f"Messages per channel and template, paid within {within} days, up to {as_of}",
        [
            "channel",
            "template",
            "messages",
            "observable",
            f"paid within {within}d",
            f"paid within {within}d %",
            "median days to payment",
        ],
        rows,
        chart=(("channel", "template"), f"paid within {within}d %"),
        as_of=as_of,
        notes=[
            f"observable: messages at least {within} days old on {as_of} (or already "
            "followed by payment); the share is of those"
        ],
    )


def skonto(engine: Engine, as_of: date) -> Report:
    """Skonto taken, discounts offered and honoured, unjustified deductions (issue 19)."""
    from mahnwerk.engine.skonto_report import skonto as report

    return report(engine, as_of)


REPORTS = {
    "aging": aging,
    "dso": dso,
    "effectiveness": effectiveness,
    "stages": stages,
    "channels": channels,
    "skonto": skonto,
}

# The customers' own reasons (the portal's "tell us why"), in their own module.
from mahnwerk.engine.feedback import feedback  # noqa: E402

REPORTS["feedback"] = feedback
