"""`GET /metrics`: figures from the database, in the Prometheus text format.

Read from the database at each scrape rather than counted in memory, so every `serve`
process reports the same truth and a restart loses nothing (prometheus_client's
custom-collector interface renders them).
"""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import Engine

from mahnwerk.engine.store.api import metric_figures


class _Figures:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self):  # noqa: ANN201 - prometheus_client's interface
        f = metric_figures(self.engine)
        yield CounterMetricFamily("mahnwerk_runs", "Engine runs started", value=f.runs)
        yield CounterMetricFamily(
            "mahnwerk_transitions", "State transitions logged", value=f.transitions
        )
        family = GaugeMetricFamily(
            "mahnwerk_messages",
            "Outbox messages by channel and status",
            labels=["channel", "status"],
        )
        for channel, status, count in f.messages:
            family.add_metric([channel, status], count)
        yield family
        yield GaugeMetricFamily(
            "mahnwerk_approvals_waiting", "Approvals pending", value=f.approvals_waiting
        )
        family = GaugeMetricFamily(
            "mahnwerk_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
        )
        for status, count in f.webhook_deliveries:
            family.add_metric([status], count)
        yield family
        seconds = float(json.loads(f.last_run_stats or "{}").get("seconds") or 0)
        yield GaugeMetricFamily(
            "mahnwerk_last_run_seconds", "Duration of the last run", value=seconds
        )
        family = CounterMetricFamily(
            "mahnwerk_scheduled_jobs", "Scheduled job executions", labels=["job"]
        )
        for name, count in f.jobs:
            family.add_metric([name], count)
        yield family


def render(engine: Engine) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(engine))
    return generate_latest(registry), "text/plain; version=0.0.4; charset=utf-8"
