"""Operations endpoints: /metrics, /healthz, /readyz."""

from __future__ import annotations

import pytest

from countermand.integration.models import IntegrationConnection, IntegrationJob
from countermand.integration.services import job_run
from tests.factories import ConnectionFactory, JobDefinitionFactory

pytestmark = pytest.mark.django_db


def test_metrics_show_jobs_by_status_queue_depth_and_age_and_cancellations(client):
    from countermand.integration.models import JobDefinition

    definition = JobDefinition.objects.create(name="Noop", integration_processor="NoOp")
    job_run(definition_id=definition.pk, parameters={}, actor_id=None)
    IntegrationJob.objects.update(schedule_at=IntegrationJob.objects.get().schedule_at.replace(year=2020))
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'countermand_jobs{status="Queued"} 1.0' in text
    assert "countermand_queue_depth 1.0" in text
    age = next(line for line in text.splitlines() if line.startswith("countermand_queue_oldest_age_seconds "))
    assert float(age.split()[1]) > 86400
    assert 'countermand_cancellations{state="Confirmed"} 0.0' in text
    for histogram in ("countermand_job_duration_seconds", "countermand_erp_request_seconds"):
        assert f"# TYPE {histogram} histogram" in text


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_the_database_and_migrations(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_metrics_show_queued_jobs_waiting_on_an_inactive_connection(client):
    definition = JobDefinitionFactory(name="Paused", connection=ConnectionFactory(name="Paused ERP"))
    job_run(definition_id=definition.pk, parameters={"OrderNumber": "1"}, actor_id=None)
    assert "countermand_jobs_waiting_inactive_connection{" not in client.get("/metrics").content.decode()
    IntegrationConnection.objects.update(is_active=False)
    text = client.get("/metrics").content.decode()
    assert 'countermand_jobs_waiting_inactive_connection{connection="Paused ERP"} 1.0' in text
