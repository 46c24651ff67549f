"""Operations endpoints: /metrics, /healthz, /readyz."""

from __future__ import annotations

import os
import subprocess
import sys

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


def test_metrics_are_open_when_no_protection_is_configured(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOW = "", []
    assert client.get("/metrics").status_code == 200


def test_metrics_with_a_token_configured_need_that_bearer_token(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOW = "s3cret-scrape-token", []
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "countermand_" not in missing.content.decode()
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic s3cret-scrape-token"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert ok.status_code == 200
    assert "countermand_queue_depth" in ok.content.decode()


@pytest.mark.parametrize(
    ("allow", "address", "status"),
    [
        (["127.0.0.1"], "127.0.0.1", 200),
        (["10.0.0.0/8", "::1"], "10.1.2.3", 200),
        (["10.0.0.0/8", "::1"], "::1", 200),
        (["10.0.0.0/8"], "192.168.1.5", 403),
        (["10.0.0.0/8"], "", 403),
    ],
)
def test_metrics_with_an_allow_list_answer_only_those_addresses(client, settings, allow, address, status):
    settings.METRICS_TOKEN, settings.METRICS_ALLOW = "", allow
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == status


def test_metrics_with_a_token_and_an_allow_list_need_both(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOW = "tok", ["127.0.0.1"]
    bearer = {"Authorization": "Bearer tok"}
    assert client.get("/metrics", headers=bearer, REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401
    assert client.get("/metrics", headers=bearer, REMOTE_ADDR="10.9.9.9").status_code == 403


def test_metrics_protection_is_off_by_default_and_read_from_the_environment():
    code = "from django.conf import settings as s; print(repr(s.METRICS_TOKEN), s.METRICS_ALLOW)"
    run = [sys.executable, "-c", f"import django; django.setup(); {code}"]
    env_base = {"DJANGO_SETTINGS_MODULE": "countermand.project.settings", "PATH": "/usr/bin:/bin"}
    env_base["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    off = subprocess.run(run, env=env_base, capture_output=True, text=True, check=True).stdout.strip()
    assert off == "'' []"
    on = subprocess.run(
        run,
        env={**env_base, "COUNTERMAND_METRICS_TOKEN": " t1 ", "COUNTERMAND_METRICS_ALLOW": "10.0.0.0/8, 127.0.0.1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert on == "'t1' ['10.0.0.0/8', '127.0.0.1']"
