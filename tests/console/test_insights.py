"""Sales > Cancellation insights: charts drawn on the server, the numbers as tables, each table as CSV."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from countermand.cancellations.models import CancellationRequest
from tests.cancellations.test_insights import cancellation
from tests.console.conftest import client_for
from tests.factories import ConnectionFactory, StaffFactory, WebsiteFactory

State = CancellationRequest.State
URL = "/admin/sales/insights/"


def today() -> datetime.date:
    return timezone.localdate()


@pytest.mark.django_db
def test_the_insights_page_is_in_the_sales_section_for_whoever_may_view_cancellations(reader_client):
    assert reverse("admin:console_insights") == URL
    section = reader_client.get(reverse("admin:console_section", kwargs={"key": "sales"}))
    assert URL in section.content.decode()
    assert reader_client.get(URL).status_code == 200


@pytest.mark.django_db
def test_staff_without_the_cancellation_view_permission_may_not_see_the_insights():
    client = client_for(StaffFactory(username="nobody", password=None))
    assert client.get(URL).status_code == 403


@pytest.mark.django_db
def test_the_page_draws_each_chart_as_titled_svg_with_its_numbers_as_a_table(admin_client):
    erp = ConnectionFactory(name="Sandbox ERP")
    cancellation(day=today(), erp=erp, answered_after=3, reason="Ordered by mistake")
    cancellation(day=today(), erp=erp, state=State.DENIED, answered_after=9, reason="Found it cheaper")
    cancellation(day=today(), state=State.LOCAL_ONLY)

    html = admin_client.get(URL).content.decode()

    assert html.count('<svg class="chart') == 5
    for title in ("Cancellations per day by outcome", "Top reasons", "Denial rate", "Not sent to the ERP"):
        assert re.search(rf'<title id="chart-title-\d+">{title}</title>', html)
    assert 'id="figure-total">3<' in html
    assert 'id="figure-denial-rate">50.0 %<' in html
    assert 'id="figure-not-sent">33.3 %<' in html
    assert '<th scope="row">Sandbox ERP</th><td>2</td><td>3.000</td><td>9.000</td>' in html
    assert '<th scope="row">Found it cheaper</th><td>1</td><td>1</td>' in html


@pytest.mark.django_db
def test_no_style_attribute_in_the_charts_which_the_content_security_policy_would_refuse(admin_client):
    cancellation(day=today())
    html = admin_client.get(URL).content.decode()
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert svgs
    assert not any("style=" in svg for svg in svgs)


@pytest.mark.django_db
def test_each_table_downloads_as_csv_for_the_same_filters(admin_client):
    store = WebsiteFactory(name="Store")
    cancellation(day=today(), website=store, reason="Ordered by mistake")
    cancellation(day=today(), website=store, reason="Ordered by mistake", state=State.DENIED)
    cancellation(day=today(), reason="Elsewhere")

    response = admin_client.get(URL, {"website": store.pk, "download": "reasons"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="cancellation-insights-reasons-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["Reason", "Cancellations", "Denied by the ERP"], ["Ordered by mistake", "2", "1"]]

    per_day = list(csv.reader(io.StringIO(admin_client.get(URL, {"download": "per_day"}).content.decode())))
    assert per_day[0] == ["Day", "Confirmed", "Denied", "Not sent to the ERP", "Failed", "Waiting for the ERP", "Total"]
    assert per_day[-1] == [today().isoformat(), "2", "1", "0", "0", "0", "3"]
    assert len(per_day) == 1 + 30  # the last 30 days, every day present


@pytest.mark.django_db
def test_the_csv_links_on_the_page_carry_the_chosen_filters(admin_client):
    store = WebsiteFactory(name="Store")
    start = today() - datetime.timedelta(days=6)
    html = admin_client.get(URL, {"website": store.pk, "date_from": start.isoformat()}).content.decode()
    assert (
        f"date_from={start.isoformat()}&amp;date_to={today().isoformat()}&amp;website={store.pk}&amp;download=latency"
        in html
    )
    assert "Store: cancellations requested from" in html


@pytest.mark.django_db
def test_a_range_that_ends_before_it_starts_says_so_and_shows_the_last_30_days(admin_client):
    html = admin_client.get(URL, {"date_from": "2026-05-10", "date_to": "2026-05-01"}).content.decode()
    assert "The start date is after the end date." in html
    assert f'name="date_to" id="id_date_to" value="{today().isoformat()}"' in html


@pytest.mark.django_db
def test_a_range_longer_than_a_year_is_refused(admin_client):
    html = admin_client.get(URL, {"date_from": "2024-01-01", "date_to": "2026-01-01"}).content.decode()
    assert "Choose at most 366 days." in html


@pytest.mark.django_db
def test_an_empty_range_says_none_rather_than_drawing_empty_tables(admin_client):
    html = admin_client.get(URL).content.decode()
    assert 'id="figure-total">0<' in html
    assert 'id="figure-denial-rate">—<' in html
    assert "None in this range." in html
    assert "No data in this range." in html


@pytest.mark.django_db
def test_text_in_the_charts_is_escaped(admin_client):
    cancellation(day=today(), reason='<script>alert("x")</script>')
    html = admin_client.get(URL).content.decode()
    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_an_unknown_website_or_a_bad_date_says_so_and_shows_the_default_range(admin_client):
    html = admin_client.get(URL, {"website": "99999", "date_from": "soon"}).content.decode()
    assert 'id="insights-errors"' in html
    assert "Select a valid choice." in html
    assert "Enter a valid date." in html
    assert "All websites: cancellations requested from" in html
