"""Coloured labels for states, so an administrator sees at a glance what needs attention."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationConnection, IntegrationJob

CancellationState = CancellationRequest.State
JobStatus = IntegrationJob.Status

NOT_SENT_TEXT = "NOT sent to the ERP"

_CANCELLATION_CSS: dict[str, str] = {
    CancellationState.REQUESTED: "badge-info",
    CancellationState.SENT: "badge-info",
    CancellationState.CONFIRMED: "badge-ok",
    CancellationState.DENIED: "badge-warn",
    CancellationState.FAILED: "badge-bad",
    CancellationState.LOCAL_ONLY: "badge-bad",
}
_JOB_CSS: dict[str, str] = {
    JobStatus.QUEUED: "badge-info",
    JobStatus.IN_PROCESS: "badge-info",
    JobStatus.SUCCESS: "badge-ok",
    JobStatus.SUCCESS_WITH_WARNINGS: "badge-warn",
    JobStatus.FAILURE: "badge-bad",
    JobStatus.CANCELLED: "badge-muted",
}
_BREAKER_CSS: dict[str, str] = {
    IntegrationConnection.BreakerState.CLOSED: "badge-ok",
    IntegrationConnection.BreakerState.HALF_OPEN: "badge-warn",
    IntegrationConnection.BreakerState.OPEN: "badge-bad",
}


def not_sent_marker() -> SafeString:
    return format_html('<span class="not-sent" title="{}">⚠ {}</span>', "Cancelled here only", NOT_SENT_TEXT)


def cancellation_state_badge(state: str) -> SafeString:
    badge = format_html('<span class="badge {}">{}</span>', _CANCELLATION_CSS.get(state, "badge-muted"), state)
    if state == CancellationState.LOCAL_ONLY:
        return format_html("{} {}", badge, not_sent_marker())
    return badge


def job_status_badge(status: str) -> SafeString:
    return format_html('<span class="badge {}">{}</span>', _JOB_CSS.get(status, "badge-muted"), status)


def breaker_badge(state: str) -> SafeString:
    return format_html('<span class="badge {}">{}</span>', _BREAKER_CSS.get(state, "badge-muted"), state)
