"""The Django system checks of processor plugins and of job definitions naming them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.checks import Tags, run_checks

from countermand.integration.models import JobDefinition
from countermand.integration.registry import registry


def ids(messages) -> list[tuple[str, str]]:
    return [(m.id, m.msg) for m in messages if m.id in ("countermand.E001", "countermand.E002", "countermand.E003")]


@pytest.fixture
def load_error() -> Iterator[str]:
    error = "entry point broken (broken_erp:PLUGINS) failed to load: No module named 'broken_erp'"
    registry().load_errors.append(error)
    yield error
    registry().load_errors.remove(error)


def test_a_plugin_that_failed_to_load_is_a_system_check_error(load_error):
    assert ids(run_checks()) == [("countermand.E001", load_error)]


def test_the_installed_plugins_pass_the_system_checks():
    assert ids(run_checks()) == []


def test_a_listen_database_url_that_is_not_postgresql_is_a_system_check_error(settings):
    settings.COUNTERMAND_LISTEN_DATABASE_URL = "sqlite:///countermand.db"
    assert ids(run_checks()) == [
        ("countermand.E003", "COUNTERMAND_LISTEN_DATABASE_URL must be a postgres://user:password@host:5432/name")
    ]


@pytest.mark.django_db
def test_an_active_job_definition_naming_an_uninstalled_processor_is_a_database_check_error(shop):
    JobDefinition.objects.filter(name="OrderCancel").update(integration_processor="GoneProcessor")
    JobDefinition.objects.create(name="Idle", integration_processor="NoOp", connection=None)
    JobDefinition.objects.filter(name="Idle").update(integration_processor="AlsoGone", is_active=False)

    messages = ids(run_checks(tags=[Tags.database], databases=["default"]))

    assert len(messages) == 1
    (check_id, message) = messages[0]
    assert check_id == "countermand.E002"
    assert message.startswith("Job definition OrderCancel: Integration processor 'GoneProcessor' is not installed")
    assert ids(run_checks(tags=[Tags.database])) == []  # database checks only when asked for
