"""Who may do what: every storefront page and API endpoint, for every kind of caller, each cell asserted.

Callers: anonymous, a buyer of C1000 (owns the orders used), a buyer of C2000, and the three admin roles
(groups from migration api/0002). API calls send bearer tokens; storefront pages use a signed-in session.
Each row runs on fresh demo data; a row's cells run in the order of ROLES.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator

from countermand.cancellations.services import order_cancel_request
from countermand.customers.models import BuyerAccount, Customer
from countermand.integration.models import IntegrationConnection, JobDefinition
from countermand.integration.services import job_cancel
from countermand.orders.actors import actor_for_user
from countermand.orders.models import Order, OrderStatusMapping
from tests.api.world import ROLES, World

ANON, B1, B2, RO, OA, IA = ROLES
ADMINS = (RO, OA, IA)


@dataclass
class Row:
    method: str
    path: str  # may name objects: {mapping} {website} {connection} {spare_connection} {definition} …
    expected: dict[str, int]
    body: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None = None
    storefront: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def cells(default: int, **overrides: int) -> dict[str, int]:
    return {role: overrides.get(role, default) for role in ROLES}


def buyer_only(ok: int) -> dict[str, int]:
    """Buyer endpoints on C1000's order: the other customer's buyer gets 404, staff 403."""
    return {ANON: 401, B1: ok, B2: 404, RO: 403, OA: 403, IA: 403}


def admin_read() -> dict[str, int]:
    return {ANON: 401, B1: 403, B2: 403, RO: 200, OA: 200, IA: 200}


def admin_write(role: str, ok: int) -> dict[str, int]:
    return {ANON: 401, B1: 403, B2: 403, RO: 403, OA: 403, IA: 403, role: ok}


def page(buyer_ok: int, other_buyer: int) -> dict[str, int]:
    """Storefront pages: anonymous is sent to sign in, staff without a buyer account get 403."""
    return {ANON: 302, B1: buyer_ok, B2: other_buyer, RO: 403, OA: 403, IA: 403}


MAPPING = {"erpOrderStatus": "Backordered", "displayName": "Back-ordered", "allowCancellation": False}
CONNECTION = {"name": "New ERP", "typeName": "WebService", "url": "https://erp.example.com/api"}
DEFINITION = {"name": "Nightly", "jobType": "Report", "integrationProcessor": "NoOp"}
WEBHOOK = {
    "url": "http://127.0.0.1:9/hooks",
    "eventTypes": ["cancellation.confirmed"],
    "secret": "whsec_" + "A" * 43 + "=",
}
IMPORT = {
    "webOrderNumber": "WEB-9100",
    "customerNumber": "C1000",
    "orderDate": "2026-01-02",
    "status": "Submitted",
}

ROWS = [
    # --- storefront
    Row("GET", "/account/login/", {ANON: 200, B1: 302, B2: 302, RO: 302, OA: 302, IA: 302}, storefront=True),
    Row("POST", "/account/logout/", cells(302), storefront=True),
    Row("GET", "/orders/", page(200, 200), storefront=True),
    Row("GET", "/orders/WEB-1001/", page(200, 404), storefront=True),
    Row("GET", "/orders/WEB-1001/cancel/", page(200, 404), storefront=True),
    Row("POST", "/orders/WEB-1001/cancel/", page(302, 404), body={"reason": "Other"}, storefront=True),
    Row("GET", "/orders/WEB-1001/progress/", page(200, 404), storefront=True),
    # --- API: schema and docs are public
    Row("GET", "/api/schema/", cells(200)),
    Row("GET", "/api/docs/", cells(200)),
    # --- API: auth
    Row("POST", "/api/v1/auth/token", cells(201), body={"username": "buyer@example.com", "password": "demo-buyer"}),
    Row("DELETE", "/api/v1/auth/token", cells(204, anonymous=401)),
    # --- API: buyers
    Row("GET", "/api/v1/orders", {ANON: 401, B1: 200, B2: 200, RO: 403, OA: 403, IA: 403}),
    Row("GET", "/api/v1/orders/WEB-1001", buyer_only(200)),
    Row(
        "PATCH",
        "/api/v1/orders/WEB-1001",
        buyer_only(200),
        body={"status": "CancellationRequested", "cancellationReason": "Other"},
    ),
    Row("POST", "/api/v1/orders/WEB-1002/cancel", buyer_only(200), body={"reason": "Other"}),
    Row("GET", "/api/v1/orderstatusmappings", cells(200, anonymous=401)),
    # --- admin: settings
    Row("GET", "/api/v1/admin/settings", admin_read()),
    Row("GET", "/api/v1/admin/settings/OrderCancelStatuses", admin_read()),
    Row("PUT", "/api/v1/admin/settings/OrderCancelStatuses", admin_write(IA, 200), body={"value": ["Submitted"]}),
    Row("DELETE", "/api/v1/admin/settings/OrderCancelStatuses", admin_write(IA, 200)),
    # --- admin: order status mappings
    Row("GET", "/api/v1/admin/orderstatusmappings", admin_read()),
    Row("GET", "/api/v1/admin/orderstatusmappings/{mapping}", admin_read()),
    Row("POST", "/api/v1/admin/orderstatusmappings", admin_write(IA, 201), body=MAPPING),
    Row(
        "PUT",
        "/api/v1/admin/orderstatusmappings/{mapping}",
        admin_write(IA, 200),
        body={"erpOrderStatus": "Open", "displayName": "Open (in ERP)", "allowCancellation": True},
    ),
    Row("PATCH", "/api/v1/admin/orderstatusmappings/{mapping}", admin_write(IA, 200), body={"allowRma": True}),
    Row("DELETE", "/api/v1/admin/orderstatusmappings/{mapping}", admin_write(IA, 204)),
    # --- admin: websites
    Row("GET", "/api/v1/admin/websites", admin_read()),
    Row("GET", "/api/v1/admin/websites/{website}", admin_read()),
    Row("POST", "/api/v1/admin/websites", admin_write(IA, 201), body={"name": "Export", "domain": "export.test"}),
    Row("PUT", "/api/v1/admin/websites/{website}", admin_write(IA, 200), body={"name": "Demo Store", "domain": "x"}),
    Row("PATCH", "/api/v1/admin/websites/{website}", admin_write(IA, 200), body={"domain": "shop.example.com"}),
    # --- admin: connections
    Row("GET", "/api/v1/admin/integrationconnections", admin_read()),
    Row("GET", "/api/v1/admin/integrationconnections/{connection}", admin_read()),
    Row("POST", "/api/v1/admin/integrationconnections", admin_write(IA, 201), body=CONNECTION),
    Row(
        "PUT",
        "/api/v1/admin/integrationconnections/{spare_connection}",
        admin_write(IA, 200),
        body={**CONNECTION, "name": "Spare ERP", "timeoutSeconds": 20},
    ),
    Row("PATCH", "/api/v1/admin/integrationconnections/{connection}", admin_write(IA, 200), body={"timeoutSeconds": 9}),
    Row("DELETE", "/api/v1/admin/integrationconnections/{spare_connection}", admin_write(IA, 204)),
    # --- admin: job definitions
    Row("GET", "/api/v1/admin/jobdefinitions", admin_read()),
    Row("GET", "/api/v1/admin/jobdefinitions/{definition}", admin_read()),
    Row("POST", "/api/v1/admin/jobdefinitions", admin_write(IA, 201), body=DEFINITION),
    Row(
        "PUT",
        "/api/v1/admin/jobdefinitions/{spare_definition}",
        admin_write(IA, 200),
        body={**DEFINITION, "name": "Spare", "description": "changed"},
    ),
    Row("PATCH", "/api/v1/admin/jobdefinitions/{definition}", admin_write(IA, 200), body={"maxRetries": 2}),
    Row("DELETE", "/api/v1/admin/jobdefinitions/{spare_definition}", admin_write(IA, 204)),
    Row("POST", "/api/v1/admin/jobdefinitions/{spare_definition}/run", admin_write(IA, 201), body={}),
    # A manual run of OrderCancel would cancel at the ERP with no request, no event, no role check: the
    # integration admin (who may run jobs) is refused with 409 MANUAL_RUN_REFUSED, like everyone else.
    Row(
        "POST",
        "/api/v1/admin/jobdefinitions/{definition}/run",
        admin_write(IA, 409),
        body={"parameters": {"OrderNumber": "WEB-2001"}},
    ),
    # --- admin: job runs
    Row("GET", "/api/v1/admin/integrationjobs", admin_read()),
    Row("GET", "/api/v1/admin/integrationjobs/{failed_job}", admin_read()),
    Row("GET", "/api/v1/admin/integrationjobs/{failed_job}/logs", admin_read()),
    Row("POST", "/api/v1/admin/integrationjobs/{failed_job}/retry", admin_write(IA, 201)),
    Row("POST", "/api/v1/admin/integrationjobs/{queued_job}/cancel", admin_write(IA, 200)),
    # --- admin: orders
    Row("GET", "/api/v1/admin/orders", admin_read()),
    Row("GET", "/api/v1/admin/orders/WEB-2001", admin_read()),
    Row("POST", "/api/v1/admin/orders", admin_write(IA, 201), body=lambda ids: {**IMPORT, "websiteId": ids["website"]}),
    Row("PUT", "/api/v1/admin/orders/WEB-2001", admin_write(IA, 200), body={"status": "Shipped"}),
    # The cancellation statuses are the cancellation flow's: no role sets them with an update (400).
    Row("PUT", "/api/v1/admin/orders/WEB-2002", admin_write(IA, 400), body={"status": "Cancelled"}),
    Row("PUT", "/api/v1/admin/orders/ERP-6001", admin_write(IA, 400), body={"status": "CancellationRequested"}),
    Row("POST", "/api/v1/admin/orders/WEB-2001/cancel", admin_write(OA, 200), body={"reason": "Phoned in"}),
    # --- admin: cancellations and setup
    Row("GET", "/api/v1/admin/cancellations", admin_read()),
    Row("GET", "/api/v1/admin/cancellations/{failed_cancellation}", admin_read()),
    Row("POST", "/api/v1/admin/cancellations/{failed_cancellation}/resend", admin_write(OA, 200)),
    Row("GET", "/api/v1/admin/setup/check", admin_read()),
    # --- admin: webhooks
    Row("GET", "/api/v1/admin/webhooksubscriptions", admin_read()),
    Row("GET", "/api/v1/admin/webhooksubscriptions/{webhook_subscription}", admin_read()),
    Row("POST", "/api/v1/admin/webhooksubscriptions", admin_write(IA, 201), body=lambda ids: WEBHOOK),
    Row(
        "PUT",
        "/api/v1/admin/webhooksubscriptions/{webhook_subscription}",
        admin_write(IA, 200),
        body=lambda ids: {**WEBHOOK, "description": "changed"},
    ),
    Row(
        "PATCH",
        "/api/v1/admin/webhooksubscriptions/{webhook_subscription}",
        admin_write(IA, 200),
        body={"ordered": True},
    ),
    Row("DELETE", "/api/v1/admin/webhooksubscriptions/{webhook_subscription}", admin_write(IA, 204)),
    Row("POST", "/api/v1/admin/webhooksubscriptions/{webhook_subscription}/test", admin_write(IA, 202)),
    Row("GET", "/api/v1/admin/webhookdeliveries", admin_read()),
    Row("GET", "/api/v1/admin/webhookdeliveries/{webhook_delivery}", admin_read()),
    Row("POST", "/api/v1/admin/webhookdeliveries/{webhook_delivery}/redeliver", admin_write(IA, 202)),
    # Delivery jobs are queued by events only: a manual run is refused like OrderCancel's.
    Row("POST", "/api/v1/admin/jobdefinitions/{webhook_definition}/run", admin_write(IA, 409), body={}),
    # --- admin: customers (the integration admin manages them) and buyers (the order admin too)
    Row("GET", "/api/v1/admin/customers", admin_read()),
    Row("GET", "/api/v1/admin/customers/{customer}", admin_read()),
    Row("POST", "/api/v1/admin/customers", admin_write(IA, 201), body={"customerNumber": "C9100", "name": "New"}),
    Row(
        "PUT",
        "/api/v1/admin/customers/{customer}",
        admin_write(IA, 200),
        body={"customerNumber": "C2000", "name": "Globex Industrial"},
    ),
    Row("PATCH", "/api/v1/admin/customers/{customer}", admin_write(IA, 200), body={"isActive": True}),
    Row("GET", "/api/v1/admin/buyers", admin_read()),
    Row("GET", "/api/v1/admin/buyers/{buyer}", admin_read()),
    # The order admin creates the buyer; the integration admin, allowed too, then finds it exists (409).
    Row(
        "POST",
        "/api/v1/admin/buyers",
        {**admin_write(OA, 201), IA: 409},
        body=lambda ids: {"email": "new@example.com", "customerNumber": "C2000", "websiteIds": [ids["website"]]},
    ),
    Row(
        "PUT",
        "/api/v1/admin/buyers/{buyer}",
        {**admin_write(OA, 200), IA: 200},
        body=lambda ids: {"customerNumber": "C2000", "websiteIds": [ids["website"]]},
    ),
    Row("PATCH", "/api/v1/admin/buyers/{buyer}", {**admin_write(OA, 200), IA: 200}, body={"isActive": True}),
    Row("POST", "/api/v1/admin/buyers/{buyer}/invite", {**admin_write(OA, 202), IA: 202}),
]


def objects(world: World) -> dict[str, Any]:
    """The objects the rows name: a failed cancellation (its job cancelled), a queued job, spare ones."""
    buyer = actor_for_user(world.users[B1])
    failed = order_cancel_request(
        order=Order.objects.get(web_order_number="WEB-1006"), actor=buyer, channel="api", reason_code="Other"
    )
    job_cancel(job_id=failed.job_id, actor_id=None)
    queued = order_cancel_request(
        order=Order.objects.get(web_order_number="WEB-1007"), actor=buyer, channel="api", reason_code="Other"
    )
    spare_connection = IntegrationConnection.objects.create(name="Spare ERP", type_name="WebService")
    spare_definition = JobDefinition.objects.create(name="Spare", job_type="Report", integration_processor="NoOp")
    return {
        "mapping": OrderStatusMapping.objects.get(erp_order_status="Open").pk,
        "website": world.store.pk,
        "connection": IntegrationConnection.objects.get(name="Sandbox ERP").pk,
        "spare_connection": spare_connection.pk,
        "definition": JobDefinition.objects.get(name="OrderCancel").pk,
        "spare_definition": spare_definition.pk,
        "failed_job": failed.job_id,
        "failed_cancellation": failed.pk,
        "queued_job": queued.job_id,
        "customer": Customer.objects.get(customer_number="C2000").pk,
        "buyer": BuyerAccount.objects.get(user__username="other@example.com").pk,
        **webhook_objects(),
    }


def webhook_objects() -> dict[str, Any]:
    """A webhook subscription and a finished (cancelled) delivery of it, and the delivery job definition."""
    from countermand.webhooks.models import WebhookSubscription
    from countermand.webhooks.services import subscription_save, subscription_test_send

    subscription = subscription_save(
        subscription=WebhookSubscription(url=WEBHOOK["url"], event_types=WEBHOOK["eventTypes"]),
        secret=WEBHOOK["secret"],
    )
    delivery = subscription_test_send(subscription_id=subscription.pk)
    job_cancel(job_id=delivery.job_id, actor_id=None)
    return {
        "webhook_subscription": subscription.pk,
        "webhook_delivery": delivery.pk,
        "webhook_definition": JobDefinition.objects.get(name="WebhookDelivery").pk,
    }


def test_every_operation_of_the_api_schema_has_a_row():
    operations = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    missing = []
    for path, methods in operations.items():
        pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")
        missing += [
            f"{method.upper()} {path}"
            for method in methods
            if not any(r.method == method.upper() and pattern.match(r.path) for r in ROWS)
        ]
    assert not missing
    assert len(ROWS) == len({r.id for r in ROWS})


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_authorization_matrix(world, row: Row):
    ids = objects(world)
    path = row.path.format(**ids)
    body = row.body(ids) if callable(row.body) else row.body
    if row.storefront:
        data, content_type = urlencode(body or {}), "application/x-www-form-urlencoded"
    else:
        data, content_type = ("" if body is None else json.dumps(body)), "application/json"
    wrong = []
    for role in ROLES:
        client = world.browser(role) if row.storefront else world.api(role)
        response = client.generic(row.method, path, data, content_type=content_type)
        if response.status_code != row.expected[role]:
            wrong.append(
                f"{role}: expected {row.expected[role]}, got {response.status_code} {response.content[:200]!r}"
            )
    assert not wrong, f"{row.id}\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("POST", "/api/v1/admin/jobdefinitions/{definition}/run", {"parameters": {"OrderNumber": "WEB-2001"}}, 409),
        ("PUT", "/api/v1/admin/orders/WEB-2001", {"status": "Cancelled"}, 400),
        ("PUT", "/api/v1/admin/orders/WEB-2001", {"status": "CancellationRequested"}, 400),
    ],
)
def test_the_superuser_is_refused_the_domain_bypasses_too(world, method, path, body, expected):
    """The superuser holds every permission: a manual OrderCancel run and a cancellation status are still
    refused (they would cancel with no request and no audit trail)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from countermand.accounts.services import token_issue

    root = get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-1")
    client = Client(headers={"Authorization": f"Bearer {token_issue(user=root)[0]}"})
    response = client.generic(method, path.format(**objects(world)), json.dumps(body), content_type="application/json")
    assert response.status_code == expected, response.content
