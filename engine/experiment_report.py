"""`experiment report`: what each arm did, per segment, and whether the challenger won.

What is measured, per invoice of an enrolled customer whose **first reminder** went out
on or after the experiment's start (before it, the champion had set the course):

* cure rate: paid in full within 30 (60) days of the first reminder, among the invoices
  whose first reminder is at least 30 (60) days old on the report's day;
* days from due to cash (paid invoices), money collected (payments applied);
* cost: the outbox rows queued (not cancelled) per channel × a unit cost (`--cost
  letter=0.95`); several rows bundled into one letter by dispatch count each;
* fees and interest charged; disputes opened (the inbox events); handovers to the
  collection agency (the handover task).  Complaints are not recorded by mahnwerk, so
  they are not counted; the report says so.

The difference of the 30-day cure rates and the verdict come from
`engine/experiment_stats.py` (cluster bootstrap over customers; stated in the notes).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from statistics import median
from typing import Any

from sqlalchemy import Engine

from mahnwerk.dsl.ir import EventKind, Terminal
from mahnwerk.engine import experiment_stats as stats
from mahnwerk.engine.charts import number
from mahnwerk.engine.comms import channels
from mahnwerk.engine.experiments import CHALLENGER, CHAMPION, ExperimentError, find
from mahnwerk.engine.reports import Report
from mahnwerk.engine.store import experiments as store

#: Unit cost per queued message, EUR: each channel's own estimate (`unit_cost` in its
#: module under engine/comms/channels/); `--cost CHANNEL=EUR` overrides it.
UNIT_COSTS = {name: Decimal(c.unit_cost) for name, c in channels.REGISTRY.items()}
CHARGES = ("fee", "lump_sum", "interest")
ZERO = Decimal("0.00")


@dataclass
class Outcome:
    """One measured invoice."""

    customer: str
    arm: str
    segment: str
    due: date
    first_reminder: date
    paid_on: date | None
    collected: Decimal = ZERO
    charged: Decimal = ZERO
    cost: Decimal = ZERO
    disputed: bool = False
    handed_over: bool = False

    def cured(self, within: int, as_of: date) -> bool | None:
        """Paid within `within` days of the first reminder; None: too recent to say."""
        if (as_of - self.first_reminder).days < within:
            return None
        return self.paid_on is not None and (self.paid_on - self.first_reminder).days <= within


@dataclass
class ExperimentReport:
    name: str
    status: str
    started_on: date
    as_of: date
    champion: str
    challenger: str
    share: Decimal
    customers: dict[str, int]
    outcomes: list[Outcome]
    difference: stats.Difference
    difference_60: stats.Difference
    notes: list[str] = field(default_factory=list)

    def table(self) -> Report:
        """Per arm and segment (and both arms in all), as a plain report."""
        columns = ["arm", "segment", "invoices", "cured 30d %", "cured 60d %",
                   "days due to cash", "collected EUR", "cost EUR", "fees+interest EUR",
                   "disputes", "handovers"]  # fmt: skip
        groups: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            groups[(o.arm, o.segment)].append(o)
            groups[(o.arm, "all")].append(o)
        rows = [[arm, seg, *self._figures(groups[(arm, seg)])]
                for arm, seg in sorted(groups, key=lambda k: (k[0] != CHAMPION, k[1] == "all",
                                                              k[1]))]  # fmt: skip
        return Report("experiment", f"Experiment {self.name}", columns, rows,
                      chart=None, notes=self.notes, as_of=self.as_of)  # fmt: skip

    def _figures(self, group: list[Outcome]) -> list[Any]:
        def rate(within: int) -> Decimal | None:
            seen = [c for o in group if (c := o.cured(within, self.as_of)) is not None]
            return (Decimal(100 * sum(seen)) / len(seen)).quantize(Decimal("0.1")) if seen else None

        days = [(o.paid_on - o.due).days for o in group if o.paid_on is not None]
        return [len(group), rate(30), rate(60),
                Decimal(median(days)).quantize(Decimal("0.1")) if days else None,
                sum((o.collected for o in group), ZERO), sum((o.cost for o in group), ZERO),
                sum((o.charged for o in group), ZERO), sum(o.disputed for o in group),
                sum(o.handed_over for o in group)]  # fmt: skip

    def verdict_lines(self) -> list[str]:
        d = self.difference
        lines = []
        if d.diff is not None and d.low is not None:
            lines.append(
                f"difference in the 30-day cure rate (challenger - champion): "
                f"{100 * d.diff:+.1f} points, 95 % interval {100 * d.low:+.1f} to "
                f"{100 * d.high:+.1f} (cluster bootstrap over customers, "
                f"{stats.RESAMPLES} resamples; {d.champion_n} and {d.challenger_n} invoices "
                "observed)"
            )
        d60 = self.difference_60
        if d60.diff is not None and d60.low is not None:
            lines.append(f"60-day cure rate: {100 * d60.diff:+.1f} points, 95 % interval "
                         f"{100 * d60.low:+.1f} to {100 * d60.high:+.1f}")  # fmt: skip
        more = d.still_needed()
        if more is not None:
            lines.append(
                f"to show a difference of this size (alpha 5 %, power 80 %): "
                f"{d.needed_champion} champion and {d.needed_challenger} challenger invoices "
                f"observed; still needed {more[0]} and {more[1]}"
            )
        elif d.low is not None:
            lines.append("the arms cure exactly alike: no sample size would show a difference")
        lines.append(f"recommendation: {d.verdict.upper()} — {d.why}")
        return lines


def report(
    engine: Engine,
    name: str,
    as_of: date,
    unit_costs: dict[str, Decimal] | None = None,
    seed: int = 0,
) -> ExperimentReport:
    """The experiment's figures on `as_of` (default of the CLI: the last run)."""
    unit = {**UNIT_COSTS, **(unit_costs or {})}
    with engine.connect() as conn:
        exp = find(conn, name)
        label = store.version_labels(conn, [exp.champion_version_id, exp.challenger_version_id])
        customers = store.enrolled_by_arm(conn, exp.id)
        rows = store.reminded_invoices(conn, exp.id, exp.started_on, as_of)
        found = store.invoice_figures(
            conn, [r.id for r in rows], CHARGES, f"received_{EventKind.DISPUTE_OPENED.value}"
        )
    collected, last_paid, charged = found.collected, found.last_paid, found.charged
    disputed, handed = found.disputed, found.handed
    costs: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for invoice_id, channel, n in found.messages:
        costs[invoice_id] += unit.get(channel, ZERO) * n
    outcomes: list[Outcome] = []
    for r in rows:
        # paid in full: the day of its last payment (the run that saw it may be later)
        paid = last_paid.get(r.id, r.entered_on) if r.state == Terminal.PAID.value else None
        paid = paid if paid is not None and paid <= as_of else None
        outcomes.append(Outcome(
            r.external_id, r.arm, r.segment, r.due_date, r.first_reminder_on, paid,
            collected.get(r.id, ZERO), charged.get(r.id, ZERO), costs.get(r.id, ZERO),
            r.id in disputed, r.id in handed or r.state == Terminal.HANDED_OVER.value,
        ))  # fmt: skip
    diffs = [stats.compare(_tallies(outcomes, within, as_of), seed=seed) for within in (30, 60)]
    unit_text = ", ".join(f"{k} {v} EUR" for k, v in sorted(unit.items()))
    notes = [
        f"invoices whose first reminder went out from {exp.started_on:%d.%m.%Y} to "
        f"{as_of:%d.%m.%Y}; cured = paid in full within 30 (60) days of it, among those "
        "old enough to tell",
        f"cost per queued message: {unit_text}; complaints are not recorded by mahnwerk",
    ]
    if not outcomes:
        notes.append("no invoice of an enrolled customer has had its first reminder yet")
    return ExperimentReport(
        exp.name, exp.status, exp.started_on, as_of, label[exp.champion_version_id],
        label[exp.challenger_version_id], Decimal(exp.share), customers, outcomes, *diffs,
        notes=notes,
    )  # fmt: skip


def _tallies(outcomes: list[Outcome], within: int, as_of: date) -> list[stats.Tally]:
    tallies = []
    for o in outcomes:
        cured = o.cured(within, as_of)
        if cured is not None:
            tallies.append(stats.Tally(o.customer, o.arm, int(cured), 1))
    return tallies


def chart(rep: ExperimentReport, lang: str = "de"):  # type: ignore[no-untyped-def]
    """Cure rate within 30 days per segment: champion as bars, challenger as markers."""
    from mahnwerk.engine.charts import Chart

    table = rep.table()
    by = {(r[0], r[1]): r[3] for r in table.rows}
    segments = sorted({seg for _arm, seg in by if seg != "all"}) + ["all"]
    if not by:
        raise ExperimentError(f"experiment {rep.name}: nothing measured yet to draw", "")
    words = CHART_WORDS[lang]
    return Chart(
        title=words["title"].format(name=rep.name),
        subtitle=words["subtitle"].format(start=rep.started_on, day=rep.as_of),
        unit="%", lang=lang,
        categories=[words["all"] if s == "all" else s for s in segments],
        values=[float(by.get((CHAMPION, s)) or 0) for s in segments],
        line=[float(by.get((CHALLENGER, s)) or 0) for s in segments],
        bar_label=f"{words['champion']}: {rep.champion}",
        line_label=f"{words['challenger']}: {rep.challenger}",
        notes=[_verdict_note(rep, lang)],
    )  # fmt: skip


def _verdict_note(rep: ExperimentReport, lang: str) -> str:
    words, d = CHART_WORDS[lang], rep.difference
    text = f"{words['recommendation']}: {words[d.verdict]}"
    if d.diff is not None and d.low is not None and d.high is not None:
        text += words["difference"].format(
            diff=number(100 * d.diff, lang),
            low=number(100 * d.low, lang),
            high=number(100 * d.high, lang),
        )
    return text


CHART_WORDS = {
    "de": {"title": "Experiment {name}: bezahlt binnen 30 Tagen",
           "subtitle": "Anteil der Rechnungen, bezahlt binnen 30 Tagen nach der ersten "
                       "Erinnerung; erste Erinnerungen vom {start:%d.%m.%Y} bis {day:%d.%m.%Y}",
           "all": "alle", "champion": "Champion", "challenger": "Herausforderer",
           "recommendation": "Empfehlung", "promote": "Herausforderer übernehmen",
           "keep running": "weiterlaufen lassen", "stop": "beenden, Champion behalten",
           "difference": " (Unterschied {diff} Prozentpunkte, 95-%-Intervall {low} bis {high})"},
    "en": {"title": "Experiment {name}: paid within 30 days",
           "subtitle": "share of invoices paid within 30 days of the first reminder; "
                       "first reminders from {start:%d.%m.%Y} to {day:%d.%m.%Y}",
           "all": "all", "champion": "champion", "challenger": "challenger",
           "recommendation": "recommendation", "promote": "promote the challenger",
           "keep running": "keep running", "stop": "stop, keep the champion",
           "difference": " (difference {diff} points, 95 % interval {low} to {high})"},
}  # fmt: skip
