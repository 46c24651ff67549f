"""Cancellation insights: what the console's insights page counts, aggregated in the database."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from countermand.cancellations.insights import InsightsQuery, cancellation_insights
from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationJob
from tests.factories import ConnectionFactory, JobDefinitionFactory, OrderFactory, WebsiteFactory

State = CancellationRequest.State
DAY = datetime.date(2026, 11, 10)


def at(day: datetime.date, hour: int = 12, seconds: float = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC) + datetime.timedelta(
        seconds=seconds
    )


def cancellation(
    *,
    day: datetime.date = DAY,
    state: str = State.CONFIRMED,
    reason: str = "Ordered by mistake",
    website=None,
    erp=None,
    answered_after: float | None = None,
) -> CancellationRequest:
    """A request made at noon of `day`; with `erp` (a connection) its job ran there and the ERP answered
    `answered_after` seconds later."""
    order = OrderFactory(**({"website": website} if website else {}))
    job = None
    if erp is not None:
        definition = JobDefinitionFactory(connection=erp)
        job = IntegrationJob.objects.create(definition=definition, connection=erp, schedule_at=timezone.now())
    request = CancellationRequest.objects.create(
        order=order, channel="storefront", reason_code=reason, previous_status="Submitted", state=state, job=job
    )
    created = at(day)
    resolved = created + datetime.timedelta(seconds=answered_after) if answered_after is not None else None
    CancellationRequest.objects.filter(pk=request.pk).update(created_at=created, resolved_at=resolved)
    return request


def query(days: int = 7, website=None) -> InsightsQuery:
    return InsightsQuery(
        date_from=DAY - datetime.timedelta(days=days - 1), date_to=DAY, website_id=website.pk if website else None
    )


@pytest.mark.django_db
def test_cancellations_are_counted_per_day_and_outcome_with_every_day_of_the_range_present():
    cancellation(state=State.CONFIRMED)
    cancellation(state=State.CONFIRMED)
    cancellation(state=State.DENIED)
    cancellation(day=DAY - datetime.timedelta(days=2), state=State.LOCAL_ONLY)
    cancellation(day=DAY - datetime.timedelta(days=2), state=State.SENT)
    cancellation(day=DAY - datetime.timedelta(days=30), state=State.CONFIRMED)  # outside the range

    insights = cancellation_insights(query(days=7))

    assert [d.day for d in insights.per_day] == [DAY - datetime.timedelta(days=i) for i in range(6, -1, -1)]
    by_day = {d.day: d.counts for d in insights.per_day}
    assert by_day[DAY] == {"confirmed": 2, "denied": 1, "local_only": 0, "failed": 0, "open": 0}
    assert by_day[DAY - datetime.timedelta(days=2)] == {
        "confirmed": 0,
        "denied": 0,
        "local_only": 1,
        "failed": 0,
        "open": 1,
    }
    assert insights.total == 5


@pytest.mark.django_db
def test_the_denial_rate_counts_only_answered_requests_and_the_not_sent_share_all_of_them():
    for _ in range(3):
        cancellation(state=State.CONFIRMED)
    cancellation(state=State.DENIED)
    cancellation(state=State.LOCAL_ONLY)
    cancellation(state=State.FAILED)
    cancellation(state=State.REQUESTED)
    cancellation(state=State.LOCAL_ONLY)

    insights = cancellation_insights(query())

    assert insights.denial_rate == 1 / 4  # denied of confirmed + denied
    assert insights.not_sent_share == 2 / 8


@pytest.mark.django_db
def test_an_empty_range_has_no_rates_rather_than_zero():
    insights = cancellation_insights(query())
    assert insights.total == 0
    assert insights.denial_rate is None
    assert insights.not_sent_share is None
    assert insights.reasons == []
    assert insights.latency == []


@pytest.mark.django_db
def test_top_reasons_are_ordered_by_count_with_the_denied_among_them():
    for _ in range(3):
        cancellation(reason="Found it cheaper")
    cancellation(reason="Ordered by mistake", state=State.DENIED)
    cancellation(reason="Ordered by mistake")

    reasons = cancellation_insights(query()).reasons

    assert [(r.reason, r.count, r.denied) for r in reasons] == [
        ("Found it cheaper", 3, 0),
        ("Ordered by mistake", 2, 1),
    ]


@pytest.mark.django_db
def test_reasons_beyond_the_top_ten_are_summed_as_other():
    for i in range(12):
        cancellation(reason=f"Reason {i:02d}")
    insights = cancellation_insights(query())
    assert len(insights.reasons) == 10
    assert insights.other_reasons == 2


@pytest.mark.django_db
def test_the_website_filter_counts_only_that_websites_orders():
    store, counter = WebsiteFactory(name="Store"), WebsiteFactory(name="Counter")
    cancellation(website=store)
    cancellation(website=store, state=State.DENIED)
    cancellation(website=counter)

    assert cancellation_insights(query(website=store)).totals["denied"] == 1
    assert cancellation_insights(query(website=store)).total == 2
    assert cancellation_insights(query(website=counter)).total == 1
    assert cancellation_insights(query()).total == 3


@pytest.mark.django_db
def test_answer_time_p50_and_p95_per_connection_are_nearest_rank_percentiles_of_answered_requests():
    fast, slow = ConnectionFactory(name="Fast ERP"), ConnectionFactory(name="Slow ERP")
    for seconds in range(1, 21):  # 1 … 20 s
        cancellation(erp=fast, answered_after=seconds)
    cancellation(erp=fast, state=State.DENIED, answered_after=100)
    cancellation(erp=fast, state=State.SENT)  # not answered yet: not counted
    cancellation(erp=slow, answered_after=600)
    cancellation(erp=slow, state=State.DENIED, answered_after=1200)

    latency = {c.connection_name: c for c in cancellation_insights(query()).latency}

    assert latency["Fast ERP"].answered == 21
    assert latency["Fast ERP"].p50_seconds == 11  # ⌈0.5·21⌉ = 11th of 1…20, 100
    assert latency["Fast ERP"].p95_seconds == 20  # ⌈0.95·21⌉ = 20th
    assert (latency["Slow ERP"].answered, latency["Slow ERP"].p50_seconds, latency["Slow ERP"].p95_seconds) == (
        2,
        600,
        1200,
    )


@pytest.mark.django_db
def test_the_insights_take_a_constant_number_of_queries_however_many_cancellations_and_connections():
    erp = ConnectionFactory(name="ERP")
    cancellation(erp=erp, answered_after=2)
    with CaptureQueriesContext(connection) as few:
        cancellation_insights(query())
    for i in range(20):
        other = ConnectionFactory(name=f"ERP {i % 4}")
        cancellation(erp=other, answered_after=i, reason=f"R{i}", state=State.DENIED if i % 3 else State.CONFIRMED)
    with CaptureQueriesContext(connection) as many:
        insights = cancellation_insights(query())
    assert len(insights.latency) == 5
    assert len(many) == len(few) == 4  # per day and outcome, reasons, the ranked waits, the connections' names
