import pytest

from countermand.integration.models import IntegrationConnection, IntegrationJob
from countermand.integration.selectors import jobs_waiting_on_inactive_connections
from countermand.integration.services import job_enqueue
from tests.factories import ConnectionFactory, JobDefinitionFactory

Status = IntegrationJob.Status
pytestmark = pytest.mark.django_db


def test_queued_jobs_of_inactive_connections_are_counted_by_connection():
    paused = JobDefinitionFactory(name="Paused", connection=ConnectionFactory(name="Paused ERP"))
    active = JobDefinitionFactory(name="Active", connection=ConnectionFactory(name="Active ERP"))
    for _ in range(2):
        job_enqueue(definition=paused, parameters={"OrderNumber": "1"})
    done = job_enqueue(definition=paused, parameters={"OrderNumber": "2"})
    IntegrationJob.objects.filter(pk=done.pk).update(status=Status.SUCCESS)
    job_enqueue(definition=active, parameters={"OrderNumber": "3"})
    assert jobs_waiting_on_inactive_connections() == {}
    IntegrationConnection.objects.filter(name__in=["Paused ERP"]).update(is_active=False)
    assert jobs_waiting_on_inactive_connections() == {"Paused ERP": 2}
