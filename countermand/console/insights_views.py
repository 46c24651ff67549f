"""Sales > Cancellation insights: how cancellations go, for customer-service managers.

A thin entry point: the filter form parses the query string, `cancellation_insights` aggregates in the
database, `countermand.console.charts` draws the SVG, and each table can be downloaded as CSV.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import urlencode

from countermand.cancellations.insights import (
    OUTCOMES,
    CancellationInsights,
    InsightsQuery,
    cancellation_insights,
    insights_default_query,
)
from countermand.console import charts
from countermand.console.pages import page_context
from countermand.websites.models import Website

VIEW_CANCELLATIONS = "cancellations.view_cancellationrequest"
DEFAULT_DAYS = 30
MAX_DAYS = 366


class InsightsFilterForm(forms.Form):
    """Website and date range of the insights page (GET); empty dates mean the last 30 days."""

    website = forms.ModelChoiceField(
        queryset=Website.objects.order_by("name"), required=False, empty_label="All websites"
    )
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or date_to - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise forms.ValidationError("The start date is after the end date.")
        if (date_to - date_from).days >= MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        data["date_from"], data["date_to"] = date_from, date_to
        return data

    def insights_query(self) -> InsightsQuery:
        data = self.cleaned_data
        website = data.get("website")
        return InsightsQuery(
            date_from=data["date_from"], date_to=data["date_to"], website_id=website.pk if website else None
        )


# ---------------------------------------------------------------- the tables behind the charts


def _per_day_table(insights: CancellationInsights) -> tuple[list[str], list[list[Any]]]:
    header = ["Day", *(name for _, name in OUTCOMES), "Total"]
    rows = [[d.day.isoformat(), *(d.counts[key] for key, _ in OUTCOMES), d.total] for d in insights.per_day]
    return header, rows


def _summary_table(insights: CancellationInsights) -> tuple[list[str], list[list[Any]]]:
    t = insights.totals
    rows: list[list[Any]] = [
        ["Cancellations requested", insights.total],
        *([name, t[key]] for key, name in OUTCOMES),
        ["Denial rate (denied of answered by the ERP)", charts.percent_text(insights.denial_rate)],
        ["Not sent to the ERP (of all requested)", charts.percent_text(insights.not_sent_share)],
    ]
    return ["Measure", "Value"], rows


def _reasons_table(insights: CancellationInsights) -> tuple[list[str], list[list[Any]]]:
    rows: list[list[Any]] = [[r.reason, r.count, r.denied] for r in insights.reasons]
    if insights.other_reasons:
        rows.append(["(all other reasons)", insights.other_reasons, ""])
    return ["Reason", "Cancellations", "Denied by the ERP"], rows


def _latency_table(insights: CancellationInsights) -> tuple[list[str], list[list[Any]]]:
    rows: list[list[Any]] = [
        [c.connection_name, c.answered, f"{c.p50_seconds:.3f}", f"{c.p95_seconds:.3f}"] for c in insights.latency
    ]
    return ["Connection", "Answered by the ERP", "p50 (seconds)", "p95 (seconds)"], rows


TABLES = {
    "summary": ("Summary", _summary_table),
    "per_day": ("Cancellations per day by outcome", _per_day_table),
    "reasons": ("Top reasons", _reasons_table),
    "latency": ("Time from request to the ERP's answer, per connection", _latency_table),
}


def _csv_response(
    name: str, header: Sequence[str], rows: Iterable[Sequence[Any]], query: InsightsQuery
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"cancellation-insights-{name}-{query.date_from.isoformat()}-{query.date_to.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


# ---------------------------------------------------------------- the charts


def _charts(insights: CancellationInsights, website_name: str) -> dict[str, Any]:
    scope = f"{website_name}, {insights.query.date_from:%d %b %Y} – {insights.query.date_to:%d %b %Y}"
    per_day = charts.stacked_columns(
        title="Cancellations per day by outcome",
        desc=f"{insights.total} cancellations requested ({scope}), per day, stacked by outcome.",
        labels=[f"{d.day:%d %b}" for d in insights.per_day],
        series=OUTCOMES,
        values=[d.counts for d in insights.per_day],
        css="chart-per-day",
    )
    reasons = charts.horizontal_bars(
        title="Top reasons",
        desc="The most frequent cancellation reasons and how many requests gave each.",
        bars=[charts.Bar(r.reason, r.count, f"{r.count:,}") for r in insights.reasons],
        css="chart-reasons",
    )
    denial = charts.share_bar(
        title="Denial rate",
        share=insights.denial_rate,
        text=f"{charts.percent_text(insights.denial_rate)} denied of {insights.answered:,} answered by the ERP",
        css="chart-denial",
    )
    not_sent = charts.share_bar(
        title="Not sent to the ERP",
        share=insights.not_sent_share,
        text=f"{charts.percent_text(insights.not_sent_share)} of {insights.total:,} cancelled here only",
        css="chart-not-sent",
    )
    longest = max((c.p95_seconds for c in insights.latency), default=0)
    latency = charts.horizontal_bars(
        title="Time from request to the ERP's answer",
        desc="Median (p50) and 95th percentile (p95) per connection, for requests the ERP confirmed or denied.",
        bars=[
            bar
            for c in insights.latency
            for bar in (
                charts.Bar(f"{c.connection_name} p50", c.p50_seconds, charts.duration_text(c.p50_seconds), "p50"),
                charts.Bar(f"{c.connection_name} p95", c.p95_seconds, charts.duration_text(c.p95_seconds), "p95"),
            )
        ],
        css="chart-latency",
        maximum=longest,
    )
    return {"per_day": per_day, "reasons": reasons, "denial": denial, "not_sent": not_sent, "latency": latency}


def insights_view(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """Cancellations per day by outcome, top reasons, denial rate, share not sent to the ERP and the ERP's
    answer time per connection, for one website or all and a date range; `?download=<table>` is its CSV."""
    if not request.user.has_perm(VIEW_CANCELLATIONS):
        raise PermissionDenied
    form = InsightsFilterForm(request.GET or None)
    # An invalid range shows its error above the default range's figures.
    query = form.insights_query() if form.is_bound and form.is_valid() else insights_default_query(days=DEFAULT_DAYS)
    insights = cancellation_insights(query)
    download = request.GET.get("download", "")
    if download in TABLES:
        header, rows = TABLES[download][1](insights)
        return _csv_response(download, header, rows, query)
    website = Website.objects.filter(pk=query.website_id).first() if query.website_id is not None else None
    filters = {"date_from": query.date_from.isoformat(), "date_to": query.date_to.isoformat()}
    if query.website_id is not None:
        filters["website"] = str(query.website_id)
    tables = []
    for key, (title, build) in TABLES.items():
        header, rows = build(insights)
        tables.append(
            {
                "key": key,
                "title": title,
                "header": header,
                "rows": rows,
                "csv_url": "?" + urlencode({**filters, "download": key}),
            }
        )
    context = page_context(
        request, site=site, section="sales", name="Cancellation insights", title="Cancellation insights"
    )
    context.update(
        {
            "form": form,
            "insights": insights,
            "website": website,
            "charts": _charts(insights, website.name if website else "All websites"),
            "tables": {t["key"]: t for t in tables},
            "outcomes": OUTCOMES,
            "denial_rate": charts.percent_text(insights.denial_rate),
            "not_sent_share": charts.percent_text(insights.not_sent_share),
        }
    )
    return TemplateResponse(request, "console/insights.html", context)
