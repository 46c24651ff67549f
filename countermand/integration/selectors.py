"""Reads of the integration engine's state for reports (`countermand check`, metrics)."""

from __future__ import annotations

from django.db.models import Count

from countermand.integration.models import IntegrationJob


def jobs_waiting_on_inactive_connections() -> dict[str, int]:
    """Queued jobs whose connection is not active, counted by connection name (sorted by name).

    No worker claims them until the connection is active again, so they wait without a word: reports
    name them. One query.
    """
    rows = (
        IntegrationJob.objects.filter(status=IntegrationJob.Status.QUEUED, connection__is_active=False)
        .values_list("connection__name")
        .annotate(n=Count("id"))
        .order_by("connection__name")
    )
    return dict(rows)
