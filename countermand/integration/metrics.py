"""Prometheus metrics.

Two sources, one `/metrics` page:
- gauges read from the database at scrape time (`DatabaseCollector`): jobs by status, queue depth and
  the age of the oldest due job, expired leases, circuit breakers, jobs waiting on an inactive
  connection — plus the gauges domain apps add with `database_collector_register` (cancellations by
  state…). Any web process can answer them, however many workers run.
- histograms and counters recorded where the work happens (the worker): job duration, ERP call latency,
  attempts — and the counters domain apps define (cancellation outcomes…). `countermand serve` runs
  its web server and worker with `PROMETHEUS_MULTIPROC_DIR` set, so the web server's `/metrics`
  includes the worker's figures; a standalone worker exposes its own on `--metrics-port`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

JOB_DURATION = Histogram(
    "countermand_job_duration_seconds",
    "Duration of job attempts, from claim to outcome.",
    ["definition", "outcome"],
    buckets=DURATION_BUCKETS,
)
ERP_LATENCY = Histogram(
    "countermand_erp_request_seconds",
    "Latency of HTTP calls to ERPs, until the response headers arrive.",
    ["connection", "result"],
    buckets=DURATION_BUCKETS,
)
JOB_ATTEMPTS = Counter(
    "countermand_job_attempts_total",
    "Job attempts by how they ended (success, rejected, transient, failed, timeout, cancelled, lost).",
    ["definition", "outcome"],
)
_domain_collectors: list[Collector] = []


def database_collector_register(collector: Collector) -> None:
    """Add a collector whose gauges are read from the database at scrape time (call it in
    `AppConfig.ready()`); `/metrics` shows it beside the engine's own."""
    if collector not in _domain_collectors:
        _domain_collectors.append(collector)


class DatabaseCollector(Collector):
    """Gauges computed from the job and connection tables when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from countermand.integration.models import IntegrationConnection, IntegrationJob
        from countermand.integration.selectors import jobs_waiting_on_inactive_connections

        now = timezone.now()
        Status = IntegrationJob.Status
        jobs = GaugeMetricFamily("countermand_jobs", "Jobs in the job table by status.", labels=["status"])
        counts = dict(IntegrationJob.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in Status.values:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs

        due = IntegrationJob.objects.filter(status=Status.QUEUED, schedule_at__lte=now).aggregate(
            n=Count("id"), oldest=Min("schedule_at")
        )
        yield GaugeMetricFamily(
            "countermand_queue_depth", "Queued jobs that are due (schedule time reached).", value=due["n"]
        )
        oldest = due["oldest"]
        yield GaugeMetricFamily(
            "countermand_queue_oldest_age_seconds",
            "How long the oldest due queued job has waited (0 when none waits).",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        expired = IntegrationJob.objects.filter(status=Status.IN_PROCESS, lease_expires_at__lt=now).count()
        yield GaugeMetricFamily(
            "countermand_jobs_lease_expired",
            "Jobs InProcess whose lease expired (their worker died); the reaper re-queues them.",
            value=expired,
        )

        breaker = GaugeMetricFamily(
            "countermand_connection_breaker_open",
            "1 while a connection's circuit breaker is Open or HalfOpen (its ERP is paused).",
            labels=["connection"],
        )
        for name, state in IntegrationConnection.objects.values_list("name", "breaker_state"):
            breaker.add_metric([name], 0 if state == IntegrationConnection.BreakerState.CLOSED else 1)
        yield breaker

        waiting = GaugeMetricFamily(
            "countermand_jobs_waiting_inactive_connection",
            "Queued jobs of an inactive connection: no worker runs them until the connection is active.",
            labels=["connection"],
        )
        for name, count in jobs_waiting_on_inactive_connections().items():
            waiting.add_metric([name], count)
        yield waiting


def metrics_exposition() -> bytes:
    """The text the `/metrics` page shows: database gauges plus this process's (or, in multiprocess
    mode, every process's) histograms and counters."""
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector())
    for collector in _domain_collectors:
        database.register(collector)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
        return generate_latest(database) + generate_latest(processes)
    return generate_latest(database) + generate_latest(REGISTRY)
