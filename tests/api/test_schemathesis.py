"""Schemathesis against /api/schema/ — every operation, and linked sequences of them, as a buyer, a read-only
administrator and the superuser.

Every built-in check runs (`--checks all`: no 5xx, documented status codes, content types, headers and
bodies; schema-valid data accepted, schema-invalid data rejected; unsupported methods answered 405; auth not
ignored; use after free; resources available after creation…), each case as generated (positive and
negative). Stateful scenarios follow the schema's OpenAPI links (declared in `countermand/api/schema.py`)
and the ones schemathesis infers. The schema is loaded when the module is collected (generating it reads no
database); each operation is then a test with the demo data loaded.

Documented exclusions (each with its reason) are in CONFIG below; there are no others.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from countermand.accounts.services import token_issue

EXAMPLES = settings(
    max_examples=1, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)
SCENARIOS = settings(
    max_examples=8,
    stateful_step_count=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def accepting_400(*operation_ids: str) -> dict:
    """A documented exclusion: schema-valid input that these operations answer with a documented 400, because
    the rule it breaks depends on stored data or on more than one field, which a schema cannot say."""
    return {
        "include-operation-id": list(operation_ids),
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}},
    }


CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            # `reason` must be one of the order's `cancellationReasons` — a website setting, so not an enum
            # the schema can list (generating the schema reads no database); a PATCH may only ask for
            # CancellationRequested (UNSUPPORTED_STATUS_CHANGE) and then needs a reason (REASON_REQUIRED).
            accepting_400("orders_cancel", "orders_partial_update", "admin_orders_cancel"),
            # `websiteId` must be one of the buyer's websites, and `fromDate` not after `toDate`.
            accepting_400("orders_list", "admin_orders_list"),
            # Import and update: the website and customer must exist; order numbers and status codes follow
            # the orders' rules (no `/` or control characters; a cancellation status only from the
            # cancellation flow — StatusReserved), which a JSON-schema pattern cannot say exactly; amounts
            # and quantities have at most 14 digits and 2 to 4 decimal places, which `number` cannot say.
            accepting_400("admin_orders_import", "admin_orders_update"),
            # A setting's `value` is checked against its registered type and bounds (`name` picks them);
            # `websiteId` must exist and the setting be website-scoped.
            accepting_400(
                "admin_settings_update", "admin_settings_list", "admin_settings_retrieve", "admin_settings_reset"
            ),
            # A name (a mapping's ERP status) already taken is 400 naming the field — the API's contract for
            # duplicates (tests/api/test_admin.py); whether a name is free depends on stored data.
            accepting_400(
                "admin_websites_create",
                "admin_websites_update",
                "admin_websites_partial_update",
                "admin_orderstatusmappings_create",
                "admin_orderstatusmappings_update",
                "admin_orderstatusmappings_partial_update",
            ),
            # A connection's options are checked by its type (`typeName` picks them), its URL by the URL
            # rule, its name must be free; a job definition's name too, its processors must be installed and
            # fit its connection, its cron be valid; a run's parameters are checked against the definition's.
            accepting_400(
                "admin_integrationconnections_create",
                "admin_integrationconnections_update",
                "admin_integrationconnections_partial_update",
                "admin_jobdefinitions_create",
                "admin_jobdefinitions_update",
                "admin_jobdefinitions_partial_update",
                "admin_jobdefinitions_run",
            ),
            # A webhook subscription's URL follows the connections' URL rule; its secret must decode (base64)
            # to 24 to 64 bytes, which a pattern says only roughly; `websiteId` must exist.
            accepting_400(
                "admin_webhooksubscriptions_create",
                "admin_webhooksubscriptions_update",
                "admin_webhooksubscriptions_partial_update",
            ),
            # A customer number has no control characters and cannot change; a buyer's customer and
            # websites must exist and their e-mail address stay the same — rules on stored data.
            accepting_400(
                "admin_customers_create",
                "admin_customers_update",
                "admin_customers_partial_update",
                "admin_buyers_create",
                "admin_buyers_update",
                "admin_buyers_partial_update",
            ),
        ]
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)


@pytest.fixture(autouse=True)
def keep_the_test_transaction_open():
    """The WSGI handler closes the database connection around each request; Django's test client keeps it
    open (and so the test's transaction) by disconnecting that handler, as this does."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def superuser_token() -> str:
    user = get_user_model().objects.filter(username="admin").first()  # the demo's superuser
    if user is None:
        user = get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-1")
    return token_issue(user=user)[0]


def bearer(world, role: str) -> dict[str, str]:
    token = superuser_token() if role == "superuser" else world.token(role)
    return {"Authorization": f"Bearer {token}"}


# Each role is tested on what it can reach beyond a 403 (the authorization matrix pins every 403):
# a buyer the buyer's operations, the read-only administrator every read, the superuser everything.
REACHABLE = {
    "buyer_c1000": schema.exclude(path_regex="^/api/v1/admin/"),
    "read_only_admin": schema.exclude(method=["POST", "PUT", "PATCH", "DELETE"]),
    "superuser": schema,
}


@REACHABLE["buyer_c1000"].parametrize()
@EXAMPLES
def test_api_as_a_buyer_conforms_to_its_schema(case, world):
    case.call_and_validate(headers=bearer(world, "buyer_c1000"))


@REACHABLE["read_only_admin"].parametrize()
@EXAMPLES
def test_api_as_a_read_only_administrator_conforms_to_its_schema(case, world):
    case.call_and_validate(headers=bearer(world, "read_only_admin"))


@REACHABLE["superuser"].parametrize()
@EXAMPLES
def test_api_as_the_superuser_conforms_to_its_schema(case, world):
    case.call_and_validate(headers=bearer(world, "superuser"))


@pytest.mark.parametrize("role", list(REACHABLE))
def test_linked_sequences_of_calls_conform_to_the_schema(world, role):
    headers = bearer(world, role)

    class Scenarios(REACHABLE[role].as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # The caller's headers, so that the auth checks know the token is the caller's (explicit), not
            # one schemathesis generated — as call_and_validate(headers=…) does for single calls.
            case.validate_response(response, headers=headers, transport_kwargs=kwargs or None, recorder=self.recorder)

    Scenarios.run(settings=SCENARIOS)
