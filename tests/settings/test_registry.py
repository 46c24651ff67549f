import pytest

from countermand.settings.models import SettingChange, SystemSetting
from countermand.settings.registry import SETTINGS, SettingError, setting_definition
from countermand.settings.selectors import setting_get, settings_snapshot
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
