"""Cancellation insights: the read side of the console's *Cancellation insights* page.

Everything is aggregated in the database, in four queries whatever the number of orders: cancellations
per day and outcome (one GROUP BY, from which the totals, the denial rate and the share not sent to the ERP
are derived), the top reasons (one GROUP BY), the time from a request to the ERP's answer per connection
(one query, below) and the names of those connections. One index, on the requests' created_at and the
columns these read, covers them (migration cancellations/0003).

Percentiles are exact and portable: SQLite has no `percentile_cont`, so the p-th percentile of n waits is
the nearest-rank one, the wait at rank ceil(n*p/100) in order, found with ROW_NUMBER and COUNT over each
connection's requests (window functions: SQLite >= 3.25 and PostgreSQL alike) in one sort.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from django.db import connection as db_connection
from django.db.models import Count, DateField, F, FloatField, Func, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationConnection

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
PERCENTILES = (50, 95)


class _SecondsBetween(Func):
    """`end - start` in seconds, computed by the database itself: Django's datetime subtraction calls a
    Python function per row on SQLite, which made the percentiles of 100,000 requests take seconds."""

    output_field = FloatField()

    def __init__(self, start: str, end: str) -> None:
        super().__init__(F(start), F(end))

    def as_sql(self, compiler, connection, **extra):  # type: ignore[no-untyped-def, override]
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "sqlite":
            return f"((julianday({end}) - julianday({start})) * 86400.0)", (*end_params, *start_params)
        return f"EXTRACT(EPOCH FROM ({end} - {start}))", (*end_params, *start_params)


class _SqliteDate(Func):
    """SQLite's native `date()` of a datetime stored in UTC (TruncDate calls a Python function per row)."""

    function = "date"
    output_field = DateField()


def _day_of(field: str) -> Func:
    """The local date of a datetime column, natively where the database can."""
    if db_connection.vendor == "sqlite" and timezone.get_current_timezone_name() == "UTC":
        return _SqliteDate(F(field))
    return TruncDate(field)


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
    """The cancellation requests the query covers: created in its date range, on its website (the request's
    copy of its order's website: no join to the orders)."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(query.date_from, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(query.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    requests = CancellationRequest.objects.filter(created_at__gte=start, created_at__lt=end)
    if query.website_id is not None:
        requests = requests.filter(website_id=query.website_id)
    return requests.order_by()


def cancellation_insights(query: InsightsQuery) -> CancellationInsights:
    """Every number of the insights page for `query`, aggregated in the database (see the module docstring)."""
    requests = insights_requests(query)
    by_day = {day: {key: 0 for key, _ in OUTCOMES} for day in query.days}
    rows = requests.annotate(day=_day_of("created_at")).values_list("day", "state").annotate(n=Count("id"))
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
    """p50 and p95 of the answer time per connection in one query: the answered requests ranked by their wait
    within their connection (ROW_NUMBER and COUNT over the connection's partition, one sort), of which only
    the rows at the nearest ranks ceil(n*P/100) come back: n*P/100 <= rank < n*P/100 + 1."""
    connection = F("job__connection_id")
    ranked = requests.filter(
        state__in=[State.CONFIRMED, State.DENIED], resolved_at__isnull=False, job__isnull=False
    ).annotate(
        erp=connection,
        wait=_SecondsBetween("created_at", "resolved_at"),
        position=Window(
            RowNumber(), partition_by=[connection], order_by=[_SecondsBetween("created_at", "resolved_at").asc()]
        ),
        answered=Window(Count("id"), partition_by=[connection]),
    )
    at_ranks = Q()
    for percent in PERCENTILES:
        at_ranks |= Q(position__gte=F("answered") * percent / 100.0) & Q(
            position__lt=F("answered") * percent / 100.0 + 1
        )
    rows = list(ranked.filter(at_ranks).values_list("erp", "wait", "position", "answered"))
    names = dict(IntegrationConnection.objects.filter(pk__in={r[0] for r in rows}).values_list("pk", "name"))
    found: dict[int | None, dict[int, float]] = {}
    counts: dict[int | None, int] = {}
    for erp, wait, position, answered in rows:
        counts[erp] = answered
        for percent in PERCENTILES:
            if position == max(1, math.ceil(answered * percent / 100)):
                # Milliseconds: SQLite's julianday() arithmetic is exact to some tens of microseconds only.
                found.setdefault(erp, {})[percent] = round(float(wait), 3)
    return sorted(
        (
            ConnectionLatency(
                connection_id=erp,
                connection_name=names.get(erp, "(connection deleted)") if erp is not None else "(no connection)",
                answered=counts[erp],
                p50_seconds=found[erp].get(50, 0.0),
                p95_seconds=found[erp].get(95, 0.0),
            )
            for erp in found
        ),
        key=lambda c: c.connection_name,
    )
