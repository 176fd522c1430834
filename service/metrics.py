"""`GET /metrics`: figures from the database, in the Prometheus text format.

Read from the database at each scrape rather than counted in memory, so every `serve`
process reports the same truth and a restart loses nothing (prometheus_client's
custom-collector interface renders them).
"""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import Engine, func, select

from mahnwerk.engine.models import APPROVAL, EVENT, OUTBOX, RUN
from mahnwerk.service.tables import JOB, WEBHOOK_DELIVERY


class _Figures:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self):  # noqa: ANN201 - prometheus_client's interface
        with self.engine.connect() as conn:
            runs = conn.execute(select(func.count()).select_from(RUN)).scalar_one()
            transitions = conn.execute(
                select(func.count()).select_from(EVENT).where(EVENT.c.kind == "transition")
            ).scalar_one()
            messages = conn.execute(
                select(OUTBOX.c.channel, OUTBOX.c.status, func.count()).group_by(
                    OUTBOX.c.channel, OUTBOX.c.status
                )
            ).all()
            waiting = conn.execute(
                select(func.count()).select_from(APPROVAL).where(APPROVAL.c.status == "pending")
            ).scalar_one()
            hooks = conn.execute(
                select(WEBHOOK_DELIVERY.c.status, func.count()).group_by(WEBHOOK_DELIVERY.c.status)
            ).all()
            last = conn.execute(select(RUN.c.stats).order_by(RUN.c.id.desc()).limit(1)).scalar()
            jobs = conn.execute(select(JOB.c.name, JOB.c.runs)).all()
        yield CounterMetricFamily("mahnwerk_runs", "Engine runs started", value=runs)
        yield CounterMetricFamily(
            "mahnwerk_transitions", "State transitions logged", value=transitions
        )
        family = GaugeMetricFamily(
            "mahnwerk_messages",
            "Outbox messages by channel and status",
            labels=["channel", "status"],
        )
        for channel, status, count in messages:
            family.add_metric([channel, status], count)
        yield family
        yield GaugeMetricFamily("mahnwerk_approvals_waiting", "Approvals pending", value=waiting)
        family = GaugeMetricFamily(
            "mahnwerk_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
        )
        for status, count in hooks:
            family.add_metric([status], count)
        yield family
        seconds = float(json.loads(last or "{}").get("seconds") or 0)
        yield GaugeMetricFamily(
            "mahnwerk_last_run_seconds", "Duration of the last run", value=seconds
        )
        family = CounterMetricFamily(
            "mahnwerk_scheduled_jobs", "Scheduled job executions", labels=["job"]
        )
        for name, count in jobs:
            family.add_metric([name], count)
        yield family


def render(engine: Engine) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(engine))
    return generate_latest(registry), "text/plain; version=0.0.4; charset=utf-8"
