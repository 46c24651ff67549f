import dataclasses
import threading
import time

import pytest
from django.db import connection, connections, transaction

from countermand.settings.models import SettingChange, SystemSetting
from countermand.settings.registry import SETTINGS, SettingError, setting_definition
from countermand.settings.selectors import (
    ResolvedSetting,
    Settings,
    attribute_name,
    setting_get,
    settings_for,
    settings_snapshot,
)
from countermand.settings.services import setting_reset, setting_set
from tests.factories import WebsiteFactory


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), ("True", True), ("false", False), ("0", False), ("yes", True)]
)
def test_bool_setting_accepts_json_booleans_and_typed_words(raw, expected):
    assert setting_definition("AllowCancellationRequest").parse(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", 3, None, ["True"]])
def test_bool_setting_refuses_anything_else_with_a_clear_message(raw):
    with pytest.raises(SettingError, match="AllowCancellationRequest takes True or False"):
        setting_definition("AllowCancellationRequest").parse(raw)


def test_list_setting_accepts_lists_commas_lines_and_json_and_drops_blanks_and_repeats():
    definition = setting_definition("OrderCancelStatuses")
    assert definition.parse(["Submitted", " Open ", "Submitted", ""]) == ["Submitted", "Open"]
    assert definition.parse("Submitted, Open") == ["Submitted", "Open"]
    assert definition.parse("Submitted\nOpen") == ["Submitted", "Open"]
    assert definition.parse('["Submitted"]') == ["Submitted"]


@pytest.mark.parametrize("raw", [5, [1, 2], {"a": 1}, "[not json"])
def test_list_setting_refuses_non_text_values(raw):
    with pytest.raises(SettingError, match="OrderCancelStatuses takes a list"):
        setting_definition("OrderCancelStatuses").parse(raw)


def test_choice_setting_names_the_choices_when_refusing():
    definition = setting_definition("CancellationWithoutErpJob")
    assert definition.parse("Refuse") == "Refuse"
    with pytest.raises(SettingError, match="one of LocalOnly, Refuse"):
        definition.parse("Sometimes")


def test_int_setting_refuses_words_and_booleans():
    definition = setting_definition("CancellationWindowDays")
    assert definition.parse("14") == 14
    for raw in ("two weeks", True, "1.5"):
        with pytest.raises(SettingError, match="whole number"):
            definition.parse(raw)


def test_string_setting_refuses_empty_text_and_non_text():
    definition = setting_definition("OrderCancelJobName")
    assert definition.parse(" OrderCancel ") == "OrderCancel"
    with pytest.raises(SettingError, match="cannot be empty"):
        definition.parse("  ")
    with pytest.raises(SettingError, match="takes text"):
        definition.parse(12)


def test_unknown_setting_name_is_refused_with_a_suggestion():
    with pytest.raises(SettingError) as excinfo:
        setting_definition("ordercancelstatuses")
    assert "Did you mean OrderCancelStatuses?" in excinfo.value.message
    assert excinfo.value.code == "INVALID_SETTING"


def test_every_registered_setting_default_passes_its_own_validation():
    for definition in SETTINGS.values():
        assert definition.parse(definition.default) == definition.default


@pytest.mark.django_db
def test_resolution_is_website_then_application_then_default():
    site, other = WebsiteFactory(), WebsiteFactory()
    assert setting_get("CancellableOrderStatuses", website_id=site.pk) == []
    setting_set(name="CancellableOrderStatuses", value=["Open"])
    assert setting_get("CancellableOrderStatuses", website_id=site.pk) == ["Open"]
    setting_set(name="CancellableOrderStatuses", value=["Submitted"], website=site)
    assert setting_get("CancellableOrderStatuses", website_id=site.pk) == ["Submitted"]
    assert setting_get("CancellableOrderStatuses", website_id=other.pk) == ["Open"]
    setting_reset(name="CancellableOrderStatuses", website=site)
    assert setting_get("CancellableOrderStatuses", website_id=site.pk) == ["Open"]


@pytest.mark.django_db
def test_application_setting_cannot_be_set_for_a_website():
    with pytest.raises(SettingError, match="application setting"):
        setting_set(name="OrderCancelStatuses", value=["Submitted"], website=WebsiteFactory())
    assert not SystemSetting.objects.exists()


@pytest.mark.django_db
def test_wrong_value_stores_nothing_and_keeps_the_previous_value():
    setting_set(name="CancellationWithoutErpJob", value="Refuse")
    with pytest.raises(SettingError):
        setting_set(name="CancellationWithoutErpJob", value="Never")
    assert setting_get("CancellationWithoutErpJob") == "Refuse"


@pytest.mark.django_db
def test_every_change_is_audited_once_with_old_and_new_value():
    setting_set(name="OrderCancelStatuses", value="Submitted")
    setting_set(name="OrderCancelStatuses", value="Submitted")  # no change, no audit row
    setting_set(name="OrderCancelStatuses", value="Submitted,Open")
    changes = list(SettingChange.objects.order_by("id").values_list("old_value", "new_value"))
    assert changes == [(None, ["Submitted"]), (["Submitted"], ["Submitted", "Open"])]


@pytest.mark.django_db
def test_snapshot_reads_many_settings_for_many_websites_in_one_query(django_assert_num_queries):
    sites = [WebsiteFactory() for _ in range(5)]
    for site in sites:
        setting_set(name="AllowCancellationRequest", value=True, website=site)
    with django_assert_num_queries(1):
        snapshot = settings_snapshot(website_ids=[s.pk for s in sites])
    assert all(snapshot.get("AllowCancellationRequest", s.pk) for s in sites)
    assert snapshot.get("CancelledStatus") == "Cancelled"


# --- typed accessors


@pytest.mark.django_db
def test_settings_for_resolves_website_then_application_then_default_typed():
    website = WebsiteFactory()
    setting_set(name="CancellationWindowDays", value="14")
    setting_set(name="CancellationWindowDays", value=3, website=website)
    setting_set(name="AllowCancellationRequest", value=True, website=website)
    for_website = settings_for(website_id=website.pk)
    application = settings_for()
    assert (for_website.cancellation_window_days, application.cancellation_window_days) == (3, 14)
    assert (for_website.allow_cancellation_request, application.allow_cancellation_request) == (True, False)
    assert for_website.cancelled_status == "Cancelled"
    assert for_website.order_cancel_job_name == "OrderCancel"
    assert for_website.cancellation_reasons == SETTINGS["CancellationReasons"].default


def test_the_settings_class_has_one_attribute_per_registered_setting():
    attributes = {f.name for f in dataclasses.fields(Settings)}
    assert attributes == {attribute_name(name) for name in SETTINGS}
    assert attribute_name("ShowErpOrderNumber") == "show_erp_order_number"


@pytest.mark.django_db
def test_snapshot_resolve_says_where_a_value_comes_from_and_whether_the_scope_stores_one():
    website = WebsiteFactory()
    setting_set(name="CancellationReasons", value=["Other"])
    setting_set(name="ShowOrderStatus", value=False, website=website)
    snapshot = settings_snapshot(website_ids=[website.pk])
    assert snapshot.resolve("ShowOrderStatus", website.pk) == ResolvedSetting(False, "website", True)
    assert snapshot.resolve("CancellationReasons", website.pk) == ResolvedSetting(["Other"], "application", False)
    assert snapshot.resolve("CancellationReasons") == ResolvedSetting(["Other"], "application", True)
    assert snapshot.resolve("CancellationWindowDays", website.pk) == ResolvedSetting(0, "default", False)


# --- concurrency


def _wait_until_a_session_waits_for_a_lock() -> None:
    """PostgreSQL: until another session is blocked on a lock (the second insert). SQLite serialises
    writers at BEGIN IMMEDIATE, so there is no state to wait for there."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 10
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the second setting_set never waited for the first")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_sets_of_a_setting_both_succeed_and_the_later_wins():
    first_written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                setting_set(name="CancellationWindowDays", value=5)
                first_written.set()
                release.wait(10)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            first_written.set()
        finally:
            connections.close_all()

    def second():
        try:
            setting_set(name="CancellationWindowDays", value=9)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_written.wait(10)
    two = threading.Thread(target=second)
    two.start()
    _wait_until_a_session_waits_for_a_lock()
    release.set()
    one.join(10)
    two.join(10)
    assert not errors, errors
    assert SystemSetting.objects.get(name="CancellationWindowDays").value == 9
    changes = SettingChange.objects.filter(name="CancellationWindowDays").order_by("id")
    assert [(c.old_value, c.new_value) for c in changes] == [(None, 5), (5, 9)]


@pytest.mark.parametrize("raw", [-1, 3651, "99999999999999999999", 10**30])
def test_the_cancellation_window_takes_0_to_3650_days_naming_the_rule(raw):
    with pytest.raises(SettingError, match="CancellationWindowDays takes a whole number from 0 to 3650"):
        setting_definition("CancellationWindowDays").parse(raw)
    assert setting_definition("CancellationWindowDays").parse("3650") == 3650


def test_a_list_setting_refuses_a_huge_value_an_overlong_item_and_too_many_items():
    definition = setting_definition("CancellationReasons")
    with pytest.raises(SettingError, match="Each value of CancellationReasons takes at most 100 characters"):
        definition.parse(["x" * 100_000])
    with pytest.raises(SettingError, match="takes at most 100 values, not 101"):
        definition.parse([f"Reason {n}" for n in range(101)])
    with pytest.raises(SettingError, match="at most 50 characters"):
        setting_definition("OrderCancelStatuses").parse(["S" * 51])
    with pytest.raises(SettingError, match="control characters"):
        definition.parse(["Other\x00"])


def test_a_list_of_many_repeated_values_is_checked_quickly():
    started = time.monotonic()
    assert setting_definition("CancellationReasons").parse(["Other"] * 100_000) == ["Other"]
    assert time.monotonic() - started < 1


def test_a_text_setting_is_bounded():
    with pytest.raises(SettingError, match="CancelledStatus takes at most 50 characters"):
        setting_definition("CancelledStatus").parse("C" * 51)
