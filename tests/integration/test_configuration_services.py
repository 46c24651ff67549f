"""Configuration writes: connection_save, job_definition_save (parameters upserted by name) and their audit."""

from __future__ import annotations

import pytest

from countermand.core.errors import ValidationFailed
from countermand.integration.models import IntegrationConnection, JobDefinition, JobDefinitionParameter
from countermand.integration.services import connection_save, job_definition_save
from countermand.settings.models import ConfigurationChange
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_job_definition_save_upserts_parameters_by_name_and_deletes_only_the_ones_left_out():
    definition = job_definition_save(
        definition=JobDefinition(name="Report", integration_processor="NoOp"),
        parameters=[{"name": "Days", "value_type": "Number"}, {"name": "Since", "value_type": "Date"}],
    )
    days = definition.parameters.get(name="Days")
    job_definition_save(
        definition=definition,
        parameters=[{"name": "Days", "value_type": "Number", "is_required": True}, {"name": "Verbose"}],
    )
    rows = {p.name: p for p in JobDefinitionParameter.objects.filter(job_definition=definition)}
    assert sorted(rows) == ["Days", "Verbose"]
    assert rows["Days"].pk == days.pk
    assert rows["Days"].is_required
    job_definition_save(definition=definition)  # no parameters given: they stay
    assert definition.parameters.count() == 2


def test_job_definition_save_refuses_duplicate_parameter_names_and_writes_nothing():
    with pytest.raises(ValidationFailed, match="distinct: A"):
        job_definition_save(
            definition=JobDefinition(name="Report", integration_processor="NoOp"),
            parameters=[{"name": "A"}, {"name": "A"}],
        )
    assert not JobDefinition.objects.exists()


def test_job_definition_save_checks_processors_and_recurrence_but_model_save_does_not():
    with pytest.raises(ValidationFailed, match="cron"):
        job_definition_save(definition=JobDefinition(name="Bad", integration_processor="NoOp", recurring_cron="x"))
    # Model.save() validates nothing (trusted code such as the demo loader writes rows directly).
    JobDefinition.objects.create(name="Raw", integration_processor="NoSuchProcessor")


def test_connection_save_encrypts_the_password_and_audits_who_without_it():
    admin = StaffFactory()
    connection = connection_save(
        connection=IntegrationConnection(name="ERP", type_name="WebService", url="http://127.0.0.1:9"),
        password="pw-1",
        actor_id=admin.pk,
    )
    assert connection.get_password() == "pw-1"
    assert "pw-1" not in connection.password_encrypted
    connection_save(connection=connection, actor_id=admin.pk)  # nothing changed: no audit row
    change = ConfigurationChange.objects.get()
    assert (change.kind, change.action, change.changed_by) == ("Connection", "Created", admin)
    assert change.changes["password"] == [None, "(hidden)"]
    assert "password_encrypted" not in change.changes


def test_connection_save_checks_the_type():
    with pytest.raises(ValidationFailed) as excinfo:
        connection_save(connection=IntegrationConnection(name="X", type_name="Carrier pigeon"))
    assert excinfo.value.code == "UNKNOWN_CONNECTION_TYPE"
    assert not IntegrationConnection.objects.exists()


@pytest.mark.parametrize(
    "url", ["not a url", "erp.example.com/api", "ftp://erp.example.com", "http://", "http://erp:port/", "http://e\nx"]
)
def test_connection_save_refuses_a_url_that_is_not_an_http_url_naming_the_field(url):
    with pytest.raises(ValidationFailed, match="is not a connection URL") as excinfo:
        connection_save(connection=IntegrationConnection(name="X", type_name="WebService", url=url))
    assert (excinfo.value.code, excinfo.value.details) == ("INVALID_CONNECTION_URL", {"field": "url"})
    assert not IntegrationConnection.objects.exists()


@pytest.mark.parametrize("url", ["", "http://127.0.0.1:9/erp", "https://erp.example.com:8443/api/v2?x=1"])
def test_connection_save_accepts_an_empty_or_http_url(url):
    assert connection_save(connection=IntegrationConnection(name="X", type_name="WebService", url=url)).pk
