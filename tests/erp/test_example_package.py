"""The integration developer's kit: the example plugin under examples/countermand-acme-erp, installed the way
a customer installs theirs (``pip install -e``, which scripts/test does for every examples/*/ package)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from countermand_acme_erp import ACME_ERP, AcmeOrderCancel
from countermand_acme_erp.testing import FakeAcmeErp
from django.db import connection

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.core.errors import ValidationFailed
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.plugin import ENTRY_POINT_GROUP
from countermand.integration.registry import registry
from countermand.integration.services import connection_validate, job_definition_save
from tests.factories import ConnectionFactory, JobDefinitionFactory, OrderFactory
from tests.integration.conftest import drain

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "countermand-acme-erp"


def test_the_registry_finds_the_example_plugin_through_its_entry_point():
    (entry_point,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "acme"]
    assert entry_point.value == "countermand_acme_erp:PLUGINS"
    assert registry().processors["AcmeOrderCancel"] is AcmeOrderCancel
    assert registry().connection_types["AcmeErp"] is ACME_ERP
    assert registry().load_errors == []


@pytest.mark.django_db
def test_a_job_definition_may_name_the_plugin_only_with_its_connection_type():
    acme = IntegrationConnection(name="Acme", type_name="AcmeErp", url="http://127.0.0.1:9", options={"company": "A"})
    connection_validate(acme)
    acme.save()
    JobDefinitionFactory(name="OrderCancel", connection=acme, integration_processor="AcmeOrderCancel")
    other = JobDefinition(
        name="Other", connection=ConnectionFactory(type_name="WebService"), integration_processor="AcmeOrderCancel"
    )
    with pytest.raises(ValidationFailed, match="needs a connection of type AcmeErp, not WebService"):
        job_definition_save(definition=other)


@pytest.mark.django_db
def test_an_ordercancel_job_runs_the_plugin_against_a_real_http_server(shop):
    with FakeAcmeErp(api_key="k", company="ACME-US") as acme:
        conn = IntegrationConnection(
            name="Acme", type_name="AcmeErp", url=acme.url, timeout_seconds=5, options={"company": "ACME-US"}
        )
        conn.set_password("k")
        connection_validate(conn)
        conn.save()
        JobDefinition.objects.filter(name="OrderCancel").update(
            connection=conn, integration_processor="AcmeOrderCancel"
        )
        order = OrderFactory(website=shop.website, customer=shop.customer, erp_order_number="E42")
        acme.orders["E42"] = "OPEN"
        request = order_cancel_request(order=order, actor=shop.actor, channel="storefront", reason_code="Other")

        drain()

    request.refresh_from_db()
    assert (request.state, request.erp_reference) == (CancellationRequest.State.CONFIRMED, "CX-0001")
    assert IntegrationJob.objects.get(pk=request.job_id).status == IntegrationJob.Status.SUCCESS
    assert acme.orders["E42"] == "CANCELLED"
    assert acme.requests[0].headers["idempotency-key"] == request.idempotency_key


@pytest.mark.django_db
def test_the_example_packages_own_tests_pass(tmp_path):
    # Run as its author would, from the package folder, on a database of its own.
    settings = connection.settings_dict
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if connection.vendor == "postgresql":
        auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings.get("PASSWORD") else "")
        name = settings["NAME"].removeprefix("test_") + "_acme"
        env["DATABASE_URL"] = f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    else:
        env.pop("COUNTERMAND_TEST_SQLITE", None)
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'acme-example.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout
