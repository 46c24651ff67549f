"""The cancellation domain's Prometheus metrics, shown on `/metrics` beside the engine's."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CANCELLATION_OUTCOMES = Counter(
    "countermand_cancellation_outcomes_total",
    "Cancellations resolved by the worker, by outcome (confirmed, denied, failed).",
    ["outcome"],
)


class CancellationsCollector(Collector):
    """Cancellation requests by state, read from the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from countermand.cancellations.models import CancellationRequest

        cancellations = GaugeMetricFamily(
            "countermand_cancellations", "Cancellation requests by state.", labels=["state"]
        )
        by_state = dict(CancellationRequest.objects.values_list("state").annotate(n=Count("id")).order_by())
        for state in CancellationRequest.State.values:
            cancellations.add_metric([state], by_state.get(state, 0))
        yield cancellations
