"""A configuration error (plugin.ConfigurationError): the WebService type's 401/403 against a real HTTP ERP —
not retried, no breaker, the connection marked until it is edited, the console and `check` say so."""

from __future__ import annotations

import pytest
from django.urls import reverse

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.setup_check import CONNECTION_CONFIGURATION_KEY, MISSING, setup_check
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.services import connection_save
from tests.integration.conftest import cancel, drain

pytestmark = pytest.mark.django_db
State = CancellationRequest.State
Status = IntegrationJob.Status
Breaker = IntegrationConnection.BreakerState
LOGON_REFUSED = "the ERP refused the log-on: check the connection's user and password"


@pytest.mark.parametrize("status", [401, 403])
def test_a_webservice_erp_refusing_the_log_on_fails_the_job_at_once_without_the_breaker(erp_shop, fake_erp, status):
    JobDefinition.objects.filter(name="OrderCancel").update(max_retries=5)
    fake_erp.fail_status = status
    first, second = cancel(erp_shop), cancel(erp_shop)

    finishes = drain()

    assert [f.status for f in finishes] == [Status.FAILURE, Status.FAILURE]
    assert fake_erp.failed_calls == 1  # the second job did not call the ERP: one refused log-on, not two
    for request in (first, second):
        request.refresh_from_db()
        assert request.state == State.FAILED
        assert request.erp_message.startswith(LOGON_REFUSED)
        job = IntegrationJob.objects.get(pk=request.job_id)
        assert (job.status, job.attempt) == (Status.FAILURE, 1)
    connection = JobDefinition.objects.get(name="OrderCancel").connection
    assert (connection.breaker_state, connection.breaker_failures) == (Breaker.CLOSED, 0)
    assert connection.configuration_error == f"{LOGON_REFUSED} (HTTP {status} from {fake_erp.url})"
    assert [i.state for i in setup_check() if i.key.startswith(CONNECTION_CONFIGURATION_KEY)] == [MISSING]
    held = IntegrationJob.objects.get(pk=second.job_id)
    said = f"Not sent to {connection.name}: {LOGON_REFUSED}"
    assert held.logs.filter(level="Error", message__startswith=said).exists()


def test_editing_the_connection_clears_its_configuration_error_and_its_jobs_reach_the_erp_again(erp_shop, fake_erp):
    fake_erp.fail_status = 401
    refused = cancel(erp_shop)
    drain()
    refused.refresh_from_db()
    assert refused.state == State.FAILED

    fake_erp.fail_status = 0
    connection = JobDefinition.objects.get(name="OrderCancel").connection
    connection_save(connection=connection, password="the-right-one")
    connection.refresh_from_db()
    assert (connection.configuration_error, connection.configuration_error_at) == ("", None)
    assert not [i for i in setup_check() if i.key.startswith(CONNECTION_CONFIGURATION_KEY)]
    request = cancel(erp_shop)
    drain()
    request.refresh_from_db()
    assert request.state == State.CONFIRMED


def test_the_console_banner_names_the_connection_whose_log_on_the_erp_refused(erp_shop, fake_erp, admin_client):
    index = reverse("admin:index")
    assert 'id="connection-configuration-banner"' not in admin_client.get(index).content.decode()
    fake_erp.fail_status = 401
    cancel(erp_shop)
    drain()
    connection = JobDefinition.objects.get(name="OrderCancel").connection
    for url in (index, reverse("admin:cancellations_cancellationrequest_changelist")):
        html = admin_client.get(url).content.decode()
        assert 'id="connection-configuration-banner"' in html
        assert "the ERP refused the log-on: check the connection&#x27;s user and password" in html
        assert reverse("admin:integration_integrationconnection_change", args=[connection.pk]) in html
