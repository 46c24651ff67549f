"""Administration > Jobs > Job Definitions: Details and Parameters finger tabs, processors from the registry
(an unknown processor cannot be saved), and Run with the parameter prompts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from countermand.integration.models import IntegrationJob, JobDefinition, JobDefinitionParameter
from countermand.integration.registry import processor_choices
from tests.factories import ConnectionFactory, JobDefinitionFactory

pytestmark = pytest.mark.django_db

ADD = "admin:integration_jobdefinition_add"


def definition_data(connection, **overrides):
    """The guide's Details tab (and an empty Parameters tab)."""
    data = {
        "name": "OrderCancel",
        "description": "",
        "job_type": "Execution",
        "connection": str(connection.pk) if connection else "",
        "preprocessor": "None",
        "integration_processor": "WebServiceOrderCancel",
        "post_processor": "None",
        "is_active": "on",
        "notify_email": "",
        "notify_condition": "",
        "max_retries": "5",
        "retry_backoff_seconds": "10",
        "timeout_seconds": "120",
        "recurring_interval_seconds": "",
        "recurring_cron": "",
        "parameters-TOTAL_FORMS": "0",
        "parameters-INITIAL_FORMS": "0",
        "parameters-MIN_NUM_FORMS": "0",
        "parameters-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def with_parameter(data, **parameter):
    index = int(data["parameters-TOTAL_FORMS"])
    row = {
        "name": "OrderNumber",
        "value_type": "String",
        "default_value": "",
        "prompt": "Order Number",
        "sequence": "1",
    }
    row.update(parameter)
    data = dict(data)
    for key, value in row.items():
        data[f"parameters-{index}-{key}"] = value
    data["parameters-TOTAL_FORMS"] = str(index + 1)
    return data


def test_add_page_has_details_and_parameters_tabs_and_processor_select_boxes(admin_client):
    html = admin_client.get(reverse(ADD)).content.decode()
    assert ">Details<" in html
    assert ">Parameters<" in html
    assert 'data-tab-panel="parameters"' in html
    assert "Add another Job Definition Parameter" in html or 'id="parameters-empty"' in html
    for kind, field in (("preprocessor", "preprocessor"), ("integration", "integration_processor")):
        select = html[html.index(f'name="{field}"') :]
        select = select[: select.index("</select>")]
        for name in processor_choices(kind):
            assert f'value="{name}"' in select
    assert 'value="None"' in html


def test_the_setup_checklists_link_prefills_the_guides_values(admin_client):
    html = admin_client.get(reverse(ADD), {"name": "OrderCancel", "job_type": "Execution"}).content.decode()
    assert 'value="OrderCancel"' in html
    assert '<option value="Execution" selected>' in html


def test_saving_the_details_stays_on_the_form_for_the_parameters_tab(admin_client):
    response = admin_client.post(reverse(ADD), definition_data(ConnectionFactory()))
    definition = JobDefinition.objects.get(name="OrderCancel")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:integration_jobdefinition_change", args=[definition.pk])


def test_parameters_are_saved_from_the_parameters_tab(admin_client):
    definition = JobDefinitionFactory(order_number_parameter=False)
    data = with_parameter(definition_data(definition.connection))
    response = admin_client.post(reverse("admin:integration_jobdefinition_change", args=[definition.pk]), data)
    assert response.status_code == 302
    parameter = JobDefinitionParameter.objects.get(job_definition=definition)
    assert (parameter.name, parameter.value_type, parameter.prompt, parameter.default_value) == (
        "OrderNumber",
        "String",
        "Order Number",
        "",
    )


def test_an_unknown_processor_cannot_be_chosen(admin_client):
    response = admin_client.post(reverse(ADD), definition_data(ConnectionFactory(), integration_processor="Bogus"))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not JobDefinition.objects.exists()


def test_a_processor_that_does_not_fit_the_connection_is_refused_by_job_definition_validate(admin_client):
    response = admin_client.post(reverse(ADD), definition_data(None))
    assert response.status_code == 200
    assert "WebServiceOrderCancel" in response.content.decode()
    assert "needs a connection of type" in response.content.decode()
    assert not JobDefinition.objects.exists()


def test_a_definition_naming_an_uninstalled_processor_shows_it_and_cannot_be_saved_as_is(admin_client):
    definition = JobDefinitionFactory()
    JobDefinition.objects.filter(pk=definition.pk).update(integration_processor="Uninstalled")
    url = reverse("admin:integration_jobdefinition_change", args=[definition.pk])
    assert "Uninstalled (not installed)" in admin_client.get(url).content.decode()
    response = admin_client.post(url, definition_data(definition.connection, integration_processor="Uninstalled"))
    assert response.status_code == 200
    assert "is not installed" in response.content.decode()


def test_duplicate_parameter_names_are_refused(admin_client):
    data = with_parameter(with_parameter(definition_data(ConnectionFactory())))
    response = admin_client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert not JobDefinition.objects.exists()


# ---------------------------------------------------------------- Run


@pytest.fixture
def report_definition():
    definition = JobDefinitionFactory(
        name="Report", integration_processor="NoOp", connection=None, order_number_parameter=False
    )
    JobDefinitionParameter.objects.create(
        job_definition=definition, name="Days", value_type="Number", prompt="How many days", is_required=True
    )
    JobDefinitionParameter.objects.create(
        job_definition=definition, name="Since", value_type="Date", prompt="From", sequence=2
    )
    return definition


def run_url(definition) -> str:
    return reverse("admin:integration_jobdefinition_run", args=[definition.pk])


def test_run_prompts_for_each_parameter(admin_client, report_definition):
    html = admin_client.get(run_url(report_definition)).content.decode()
    assert "How many days" in html
    assert "From" in html
    assert 'type="date"' in html


def test_run_refuses_a_value_of_the_wrong_type_and_queues_nothing(admin_client, report_definition):
    response = admin_client.post(run_url(report_definition), {"p_Days": "seven", "p_Since": ""})
    assert response.status_code == 200
    assert "Parameter Days takes a number value" in response.content.decode()
    assert not IntegrationJob.objects.exists()


def test_run_needs_the_required_parameters(admin_client, report_definition):
    response = admin_client.post(run_url(report_definition), {"p_Days": "", "p_Since": ""})
    assert response.status_code == 200
    assert not IntegrationJob.objects.exists()


def test_run_queues_the_job_through_job_run_and_opens_it(admin_client, report_definition, superuser):
    response = admin_client.post(run_url(report_definition), {"p_Days": "7", "p_Since": "2026-01-31"})
    job = IntegrationJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:integration_integrationjob_change", args=[job.pk])
    assert {p.name: p.value for p in job.parameters.all()} == {"Days": "7", "Since": "2026-01-31"}
    assert job.requested_by == superuser
    assert job.status == IntegrationJob.Status.QUEUED


def test_run_of_an_inactive_definition_says_why(admin_client, report_definition):
    JobDefinition.objects.filter(pk=report_definition.pk).update(is_active=False)
    response = admin_client.post(run_url(report_definition), {"p_Days": "7"})
    assert response.status_code == 200
    assert "is not active" in response.content.decode()


def test_who_may_edit_and_run_job_definitions(reader_client, order_client, integration_client, report_definition):
    change = reverse("admin:integration_jobdefinition_change", args=[report_definition.pk])
    assert reader_client.get(change).status_code == 200
    for client in (reader_client, order_client):
        assert client.post(change, {}).status_code == 403
        assert client.get(run_url(report_definition)).status_code == 403
        assert client.get(reverse(ADD)).status_code == 403
    assert integration_client.post(run_url(report_definition), {"p_Days": "1"}).status_code == 302
    data = with_parameter(definition_data(ConnectionFactory(), name="Other"))
    assert integration_client.post(reverse(ADD), data).status_code == 302


# ---------------------------------------------------------------- saved through job_definition_save


def existing_parameters(definition, data, **changes):
    """The Parameters tab as the browser posts it back: one row per stored parameter (`changes` by name)."""
    for parameter in definition.parameters.all():
        row = {
            "id": str(parameter.pk),
            "job_definition": str(definition.pk),
            "name": parameter.name,
            "value_type": parameter.value_type,
            "default_value": parameter.default_value,
            "prompt": parameter.prompt,
            "sequence": str(parameter.sequence),
        }
        row.update(changes.get(parameter.name, {}))
        data = with_parameter(data, **row)
    data["parameters-INITIAL_FORMS"] = str(definition.parameters.count())
    return data


def test_editing_a_parameter_updates_it_in_place_so_queued_jobs_keep_their_typed_values(
    admin_client, report_definition, superuser
):
    from countermand.integration.runner import typed_parameters
    from countermand.integration.services import job_run
    from countermand.settings.models import ConfigurationChange

    job = job_run(definition_id=report_definition.pk, parameters={"Days": "3"}, actor_id=None)
    days = report_definition.parameters.get(name="Days")
    data = existing_parameters(
        report_definition,
        definition_data(None, name="Report", integration_processor="NoOp"),
        Days={"prompt": "Days back"},
        Since={"DELETE": "on"},
    )
    response = admin_client.post(reverse("admin:integration_jobdefinition_change", args=[report_definition.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(report_definition.parameters.values_list("pk", "prompt")) == [(days.pk, "Days back")]
    assert typed_parameters(job)["Days"] == 3
    change = ConfigurationChange.objects.get(kind="JobDefinition", object_id=report_definition.pk)
    assert change.action == "Updated"
    assert change.changed_by == superuser
    assert change.changes["parameters.Days"][1]["prompt"] == "Days back"
    assert change.changes["parameters.Since"][1] is None


def test_a_definition_added_in_the_console_is_audited_once_with_its_parameters(admin_client, superuser):
    from countermand.settings.models import ConfigurationChange

    response = admin_client.post(reverse(ADD), with_parameter(definition_data(ConnectionFactory())))
    assert response.status_code == 302
    change = ConfigurationChange.objects.get()
    assert (change.kind, change.action, change.object_name, change.changed_by) == (
        "JobDefinition",
        "Created",
        "OrderCancel",
        superuser,
    )
    assert change.changes["parameters.OrderNumber"][0] is None


def test_run_of_the_order_cancel_definition_is_refused_and_points_to_cancel_order(admin_client):
    definition = JobDefinitionFactory()  # OrderCancel, the definition OrderCancelJobName names
    page = admin_client.get(run_url(definition))
    assert page.status_code == 409
    html = page.content.decode()
    assert "Cancel Order" in html
    assert 'id="job-run-form"' not in html
    assert reverse("admin:orders_order_changelist") in html
    posted = admin_client.post(run_url(definition), {"p_OrderNumber": "W1"})
    assert posted.status_code == 409
    assert not IntegrationJob.objects.exists()


# --- pairing: suggestions from the installed processors' declarations


def test_a_new_definition_suggests_order_cancel_the_only_connection_and_the_processor_fitting_it(admin_client):
    ConnectionFactory(name="ERP Connection", type_name="Sandbox", url="http://127.0.0.1:9/sandbox-erp")
    html = admin_client.get(reverse(ADD)).content.decode()
    assert 'name="name" value="OrderCancel"' in html
    assert 'list="job-name-suggestions"' in html
    assert '<option value="Execution" selected>' in html
    assert re.search(r'<option value="\d+" selected>ERP Connection \(Sandbox\)</option>', html)
    assert '<option value="WebServiceOrderCancel" selected>' in html
    # The Parameters tab comes filled in with what WebServiceOrderCancel declares.
    assert 'name="parameters-0-name" value="OrderNumber"' in html
    assert 'name="parameters-0-prompt" value="Order Number"' in html
    assert "Fits WebService and Sandbox connections." in html


def test_a_tryton_connection_is_paired_with_the_tryton_processor(admin_client):
    connection = ConnectionFactory(name="Tryton", type_name="Tryton", options={"database": "erp"})
    html = admin_client.get(reverse(ADD), {"connection": connection.pk}).content.decode()
    assert '<option value="TrytonOrderCancel" selected>' in html
    fitting = html[html.index("data-fitting-processors=") :]
    assert "TrytonOrderCancel" in fitting[: fitting.index(">")]


def test_the_name_is_not_suggested_once_order_cancel_exists(admin_client):
    JobDefinitionFactory()
    html = admin_client.get(reverse(ADD)).content.decode()
    assert 'name="name" value="OrderCancel"' not in html


def test_saving_the_suggested_definition_from_the_checklist_returns_to_it(admin_client):
    connection = ConnectionFactory(type_name="Sandbox", url="http://127.0.0.1:9/sandbox-erp")
    setup = reverse("admin:console_setup")
    response = admin_client.post(f"{reverse(ADD)}?next={setup}", with_parameter(definition_data(connection)))
    assert (response.status_code, response["Location"]) == (302, setup)
    assert JobDefinition.objects.get(name="OrderCancel").parameters.get().name == "OrderNumber"
