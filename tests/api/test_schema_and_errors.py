"""The OpenAPI document and its docs page, the error format, and the administrator roles."""

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from drf_spectacular.validation import validate_schema

from countermand.api.roles import INTEGRATION_ADMIN, ORDER_ADMIN, READ_ONLY_ADMIN, ROLES


def test_the_schema_is_valid_openapi_3_with_the_contract_paths(db):
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/auth/token",
        "/api/v1/orders",
        "/api/v1/orders/{orderNumber}",
        "/api/v1/orders/{orderNumber}/cancel",
        "/api/v1/orderstatusmappings",
        "/api/v1/admin/settings/{name}",
        "/api/v1/admin/jobdefinitions/{id}/run",
        "/api/v1/admin/integrationjobs/{id}/logs",
        "/api/v1/admin/setup/check",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    cancel = schema["paths"]["/api/v1/orders/{orderNumber}/cancel"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(cancel["responses"])
    detail = schema["components"]["schemas"]["OrderDetail"]["properties"]
    assert {"webOrderNumber", "erpOrderNumber", "statusDisplay", "canCancel", "cancelBlockers", "orderLines"} <= set(
        detail
    )


def test_the_docs_page_serves_swagger_ui_from_this_server(db):
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_malformed_json_is_400_with_a_code(world):
    response = world.api("buyer_c1000").post(
        "/api/v1/orders/WEB-1001/cancel", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "PARSE_ERROR"


def test_other_media_types_are_415(world):
    response = world.api("buyer_c1000").post("/api/v1/orders/WEB-1001/cancel", {"reason": "Other"})
    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_unknown_api_paths_and_methods_answer_in_json(world):
    client = world.api("buyer_c1000")
    missing = client.post("/api/v1/no/such/thing", {}, content_type="application/json")
    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND"
    wrong_method = client.delete("/api/v1/orders")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"


def test_validation_errors_name_the_fields_in_camel_case(world):
    response = world.api("integration_admin").post(
        "/api/v1/admin/orders",
        {"webOrderNumber": "W-1", "websiteId": world.store.pk, "customerNumber": "C1000", "status": "Open"},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 400
    assert body == {
        "code": "VALIDATION_FAILED",
        "message": "orderDate: This field is required.",
        "exceptionMessage": "orderDate: This field is required.",
        "fields": {"orderDate": ["This field is required."]},
    }


@pytest.mark.django_db
def test_the_roles_exist_with_their_permissions():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)

    def perms(name):
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=name).permissions.select_related("content_type")
        }

    read_only, order_admin, integration_admin = perms(READ_ONLY_ADMIN), perms(ORDER_ADMIN), perms(INTEGRATION_ADMIN)
    assert all(p.split(".")[1].startswith("view_") for p in read_only)
    assert {"orders.view_order", "integration.view_integrationjoblog", "settings.view_systemsetting"} <= read_only
    assert order_admin - read_only == {
        "orders.change_order",
        "orders.force_cancel_order",
        "cancellations.change_cancellationrequest",
        "cancellations.resend_cancellation",
    }
    assert {"integration.add_jobdefinition", "integration.change_integrationjob", "settings.change_systemsetting"} <= (
        integration_admin
    )
    assert "orders.change_order" not in integration_admin
