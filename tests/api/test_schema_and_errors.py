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
        "customers.add_buyeraccount",
        "customers.change_buyeraccount",
    }
    assert {"customers.view_customer", "customers.view_buyeraccount"} <= read_only
    assert {"customers.add_customer", "customers.change_customer", "customers.add_buyeraccount"} <= integration_admin
    assert {"integration.add_jobdefinition", "integration.change_integrationjob", "settings.change_systemsetting"} <= (
        integration_admin
    )
    assert "orders.change_order" not in integration_admin


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE"])
@pytest.mark.parametrize("role", ["anonymous", "buyer_c1000", "read_only_admin"])
def test_a_method_an_endpoint_does_not_have_is_405_for_every_caller(world, method, role):
    response = world.api(role).generic(method, "/api/v1/orders")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("charset", ["klingon", "utf-16", "latin-1"])
def test_a_body_in_a_charset_other_than_utf_8_is_400_naming_the_charset(world, charset):
    response = world.api("buyer_c1000").generic(  # generic: the client itself does not encode in `charset`
        "POST", "/api/v1/orders/WEB-1001/cancel", '{"reason": "Other"}', f"application/json; charset={charset}"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "UNSUPPORTED_CHARSET"
    assert charset in response.json()["message"]


def test_a_body_declared_utf_8_is_accepted(world):
    response = world.api("buyer_c1000").post(
        "/api/v1/orders/WEB-1001/cancel", '{"reason": "Other"}', content_type="application/json; charset=UTF-8"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("parameter", ["toDate", "fromDate", "search", "status", "page", "websiteId"])
def test_an_empty_query_value_is_400_naming_the_parameter(world, parameter):
    response = world.api("buyer_c1000").get(f"/api/v1/orders?{parameter}=")
    assert response.status_code == 400
    assert response.json()["fields"] == {parameter: ["Give a value, or leave the parameter out."]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/orders/WEB-1001/cancel", {"reason": "Other", "note": 42}, "note"),
        ("/api/v1/orders/WEB-1001/cancel", {"reason": 7}, "reason"),
    ],
)
def test_a_json_number_where_text_belongs_is_400_naming_the_field(world, path, body, field):
    response = world.api("buyer_c1000").post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["fields"] == {field: ["Must be text (a JSON string), not int."]}


def test_an_order_events_actor_is_null_for_the_system_in_the_schema(db):
    from drf_spectacular.generators import SchemaGenerator

    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert components["OrderEvent"]["properties"]["actor"]["nullable"] is True


def test_the_schema_links_name_real_operations(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    operations = {o["operationId"]: o for methods in paths.values() for o in methods.values()}
    links = {
        (op_id, name, link["operationId"])
        for op_id, op in operations.items()
        for response in op["responses"].values()
        for name, link in response.get("links", {}).items()
    }
    assert len(links) > 40
    assert {target for _, _, target in links} <= set(operations)
    assert ("admin_orders_import", "admin_orders_cancel", "admin_orders_cancel") in links


@pytest.mark.parametrize("value", [0, 1, "true", None])
def test_a_boolean_field_takes_json_true_or_false_only(world, value):
    response = world.api("integration_admin").post(
        "/api/v1/admin/websites", {"name": "Export", "domain": "export.test", "isActive": value}, "application/json"
    )
    assert response.status_code == 400
    assert "isActive" in response.json()["fields"]


def test_a_text_field_of_a_model_takes_json_text_only(world):
    response = world.api("integration_admin").post(
        "/api/v1/admin/websites", {"name": "Export", "domain": 0}, "application/json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"domain": ["Must be text (a JSON string), not int."]}
