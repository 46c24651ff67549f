"""Cancellation insights: the read side of the console's *Cancellation insights* page.

Everything is aggregated in the database, so the page costs a handful of queries whatever the number of
orders: cancellations per day and outcome (one GROUP BY, from which the totals, the denial rate and the
share not sent to the ERP are derived), the top reasons (one GROUP BY), and the time from a request to
the ERP's answer per connection (one GROUP BY for the counts, then two single-row reads per connection).

Percentiles are exact and portable: SQLite has no `percentile_cont`, so the p-th percentile of n durations
is read as the row at offset ceil(p*n)-1 of the durations in order (the nearest-rank definition) — one indexed
range scan and a sort of that connection's answered requests, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from countermand.cancellations.models import CancellationRequest

State = CancellationRequest.State

# The outcomes a chart shows, in the order of their stack and legend. Requested and Sent are still open.
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("confirmed", "Confirmed"),
    ("denied", "Denied"),
    ("local_only", "Not sent to the ERP"),
    ("failed", "Failed"),
    ("open", "Waiting for the ERP"),
)
_OUTCOME_OF_STATE = {
    State.CONFIRMED: "confirmed",
    State.DENIED: "denied",
    State.LOCAL_ONLY: "local_only",
    State.FAILED: "failed",
    State.REQUESTED: "open",
    State.SENT: "open",
}
TOP_REASONS = 10


@dataclass(frozen=True)
class InsightsQuery:
    """Which cancellations: requested on `date_from`…`date_to` (inclusive, local dates), on one website or all."""

    date_from: datetime.date
    date_to: datetime.date
    website_id: int | None = None

    @property
    def days(self) -> list[datetime.date]:
        return [self.date_from + datetime.timedelta(days=i) for i in range((self.date_to - self.date_from).days + 1)]


@dataclass(frozen=True)
class DayCount:
    day: datetime.date
    counts: dict[str, int]  # outcome key → cancellations requested that day

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    count: int
    denied: int


@dataclass(frozen=True)
class ConnectionLatency:
    """Time from the buyer's request to the ERP's answer (confirmed or denied), on one connection."""

    connection_id: int | None
    connection_name: str
    answered: int
    p50_seconds: float
    p95_seconds: float


@dataclass(frozen=True)
class CancellationInsights:
    query: InsightsQuery
    per_day: list[DayCount]
    totals: dict[str, int]
    reasons: list[ReasonCount]
    other_reasons: int
    latency: list[ConnectionLatency] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def answered(self) -> int:
        return self.totals["confirmed"] + self.totals["denied"]

    @property
    def denial_rate(self) -> float | None:
        """Denied among the requests the ERP answered; None when it answered none."""
        return self.totals["denied"] / self.answered if self.answered else None

    @property
    def not_sent_share(self) -> float | None:
        """Requests cancelled here only (no OrderCancel job), among all requests; None when there are none."""
        return self.totals["local_only"] / self.total if self.total else None


def insights_default_query(*, website_id: int | None = None, days: int = 30) -> InsightsQuery:
    """The last `days` days up to today (local date)."""
    today = timezone.localdate()
    return InsightsQuery(date_from=today - datetime.timedelta(days=days - 1), date_to=today, website_id=website_id)


def insights_requests(query: InsightsQuery) -> QuerySet[CancellationRequest]:
    """The cancellation requests the query covers: created in its date range (the created_at index), on its website."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(query.date_from, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(query.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    requests = CancellationRequest.objects.filter(created_at__gte=start, created_at__lt=end)
    if query.website_id is not None:
        requests = requests.filter(order__website_id=query.website_id)
    return requests.order_by()


def cancellation_insights(query: InsightsQuery) -> CancellationInsights:
    """Every number of the insights page for `query`, aggregated in the database (see the module docstring)."""
    requests = insights_requests(query)
    by_day = {day: {key: 0 for key, _ in OUTCOMES} for day in query.days}
    rows = requests.annotate(day=TruncDate("created_at")).values_list("day", "state").annotate(n=Count("id"))
    totals = {key: 0 for key, _ in OUTCOMES}
    for day, state, n in rows:
        outcome = _OUTCOME_OF_STATE.get(state)
        if outcome is None:
            continue
        totals[outcome] += n
        if day in by_day:
            by_day[day][outcome] += n
    reasons, other = _reasons(requests)
    return CancellationInsights(
        query=query,
        per_day=[DayCount(day, counts) for day, counts in by_day.items()],
        totals=totals,
        reasons=reasons,
        other_reasons=other,
        latency=_latency(requests),
    )


def _reasons(requests: QuerySet[CancellationRequest]) -> tuple[list[ReasonCount], int]:
    """The most frequent reasons (with how many the ERP denied), and the count of all the other requests."""
    rows = list(
        requests.values_list("reason_code")
        .annotate(n=Count("id"), denied=Count("id", filter=Q(state=State.DENIED)))
        .order_by("-n", "reason_code")
    )
    top = [ReasonCount(reason or "(none)", n, denied) for reason, n, denied in rows[:TOP_REASONS]]
    return top, sum(n for _, n, _ in rows[TOP_REASONS:])


def _latency(requests: QuerySet[CancellationRequest]) -> list[ConnectionLatency]:
    answered = requests.filter(state__in=[State.CONFIRMED, State.DENIED], resolved_at__isnull=False, job__isnull=False)
    counts = list(
        answered.values_list("job__connection_id", "job__connection__name")
        .annotate(n=Count("id"))
        .order_by("job__connection__name")
    )
    result = []
    for connection_id, name, n in counts:
        on_connection = answered.filter(job__connection_id=connection_id)
        result.append(
            ConnectionLatency(
                connection_id=connection_id,
                connection_name=name or "(connection deleted)",
                answered=n,
                p50_seconds=_percentile(on_connection, n, 0.50),
                p95_seconds=_percentile(on_connection, n, 0.95),
            )
        )
    return result


def _percentile(answered: QuerySet[CancellationRequest], n: int, p: float) -> float:
    """The nearest-rank p-th percentile of the `wait` of `n` rows: the value at offset ceil(p*n)-1 in order."""
    offset = max(0, math.ceil(p * n) - 1)
    waits = answered.annotate(wait=ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField()))
    wait = waits.order_by("wait").values_list("wait", flat=True)[offset : offset + 1]
    return next((w.total_seconds() for w in wait), 0.0)
