"""Schemathesis against /api/schema/ — every operation, as a buyer and as an administrator.

Checks: no 5xx, every status code is documented, every response has the documented content type and
matches its schema. The schema is loaded when the module is collected (generating it reads no database);
each operation is then a test with the demo data loaded.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_transaction_open():
    """The WSGI handler closes the database connection around each request; Django's test client keeps it
    open (and so the test's transaction) by disconnecting that handler, as this does."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@EXAMPLES
def test_api_as_a_buyer_conforms_to_its_schema(case, world):
    case.call_and_validate(headers={"Authorization": f"Bearer {world.token('buyer_c1000')}"}, checks=CHECKS)


@schema.parametrize()
@EXAMPLES
def test_api_as_an_administrator_conforms_to_its_schema(case, world):
    case.call_and_validate(headers={"Authorization": f"Bearer {world.token('integration_admin')}"}, checks=CHECKS)
