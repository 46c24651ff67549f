"""The console's server-side SVG charts: round axes, readable durations, accessible markup."""

from __future__ import annotations

import pytest

from countermand.console import charts


@pytest.mark.parametrize(
    ("highest", "axis"), [(0, 2), (1, 2), (3, 4), (5, 6), (9, 10), (11, 20), (130, 200), (4001, 6000)]
)
def test_a_count_axis_ends_on_a_round_number_whose_half_is_a_whole_count(highest, axis):
    assert charts._nice_ceiling(highest) == axis
    assert axis % 2 == 0


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.85, "850 ms"), (2.44, "2.4 s"), (185, "3 min 5 s"), (120, "2 min"), (9000, "2.5 h")]
)
def test_durations_read_as_a_person_says_them(seconds, text):
    assert charts.duration_text(seconds) == text


def test_a_chart_is_an_image_named_by_its_title_and_described_with_a_tooltip_per_column():
    svg = charts.stacked_columns(
        title="Per day",
        desc="Two days.",
        labels=["01 Dec", "02 Dec"],
        series=[("confirmed", "Confirmed"), ("denied", "Denied")],
        values=[{"confirmed": 3, "denied": 1}, {"confirmed": 0, "denied": 0}],
    )
    assert svg.startswith('<svg class="chart " viewBox="0 0 720 260" role="img" aria-labelledby="chart-title-')
    assert ">Per day</title>" in svg
    assert ">Two days.</desc>" in svg
    assert "<title>01 Dec: 3 confirmed, 1 denied</title>" in svg
    assert "<title>02 Dec: none</title>" in svg
    assert svg.count('class="chart-fill-confirmed"') == 1
