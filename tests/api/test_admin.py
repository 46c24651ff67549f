"""Admin API (/api/v1/admin/…): each endpoint's success, bad input, permission and not-found answers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from countermand.accounts.services import token_issue
from countermand.cancellations.handler import OrderCancelHandler
from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import cancellation_deny, order_cancel_request
from countermand.integration.handlers import JobFinished, JobOutcome, JobRef
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.runner import typed_parameters
from countermand.integration.services import job_cancel
from countermand.orders.actors import actor_for_user
from countermand.orders.models import Order, OrderEvent, OrderStatusMapping
from countermand.settings.models import ConfigurationChange, SettingChange
from countermand.settings.selectors import setting_get
from tests.factories import StaffFactory

JSON = "application/json"


@pytest.fixture
def integration(world) -> Client:
    return world.api("integration_admin")


@pytest.fixture
def orders_admin(world) -> Client:
    return world.api("order_admin")


@pytest.fixture
def read_only(world) -> Client:
    return world.api("read_only_admin")


@pytest.fixture
def failed_cancellation(world) -> CancellationRequest:
    """WEB-1006's cancellation whose delivery job was cancelled: job Cancelled, request Failed."""
    order = Order.objects.get(web_order_number="WEB-1006")
    request = order_cancel_request(
        order=order, actor=actor_for_user(world.users["buyer_c1000"]), channel="storefront", reason_code="Other"
    )
    job_cancel(job_id=request.job_id, actor_id=None)
    request.refresh_from_db()
    assert request.state == "Failed"
    return request


# --- settings


def test_settings_list_shows_every_setting_with_the_value_in_force(read_only, world):
    body = read_only.get("/api/v1/admin/settings", {"websiteId": world.store.pk}).json()
    by_name = {s["name"]: s for s in body["settings"]}
    assert by_name["AllowCancellationRequest"]["value"] is True
    assert by_name["AllowCancellationRequest"]["isSet"] is True
    assert by_name["AllowCancellationRequest"]["websiteId"] == world.store.pk
    assert by_name["OrderCancelStatuses"]["value"] == ["Submitted"]
    assert by_name["OrderCancelStatuses"]["websiteId"] is None
    assert by_name["CancellationWithoutErpJob"]["choices"] == ["LocalOnly", "Refuse"]
    only = read_only.get("/api/v1/admin/settings", {"name": "cancelstat"}).json()["settings"]
    assert [s["name"] for s in only] == ["OrderCancelStatuses"]


def test_setting_detail_for_a_website(read_only, world):
    body = read_only.get("/api/v1/admin/settings/AllowCancellationRequest", {"websiteId": world.counter.pk}).json()
    assert body["value"] is False
    assert body["scope"] == "website"


def test_put_setting_stores_the_value_and_audits_it(integration, world):
    response = integration.put(
        "/api/v1/admin/settings/CancellableOrderStatuses",
        {"value": ["Submitted", "Open", "Processing"], "websiteId": world.store.pk},
        content_type=JSON,
    )
    assert response.status_code == 200
    assert response.json()["value"] == ["Submitted", "Open", "Processing"]
    assert setting_get("CancellableOrderStatuses", website_id=world.store.pk) == ["Submitted", "Open", "Processing"]
    change = SettingChange.objects.filter(name="CancellableOrderStatuses").first()
    assert change.changed_by == world.users["integration_admin"]


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("AllowCancellationRequest", {"value": "maybe"}, "INVALID_SETTING"),
        ("OrderCancelStatuses", {"value": ["Submitted"], "websiteId": "WEBSITE"}, "INVALID_SETTING"),
        ("CancellationWithoutErpJob", {"value": "Sometimes"}, "INVALID_SETTING"),
        ("OrderCancelStatuses", {}, "VALIDATION_FAILED"),
        ("AllowCancellationRequest", {"value": True, "websiteId": 999999}, "VALIDATION_FAILED"),
    ],
)
def test_put_setting_with_a_bad_value_is_400(integration, world, name, body, code):
    if body.get("websiteId") == "WEBSITE":
        body = {**body, "websiteId": world.store.pk}
    response = integration.put(f"/api/v1/admin/settings/{name}", body, content_type=JSON)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code


def test_unknown_setting_is_404(integration):
    response = integration.put("/api/v1/admin/settings/NoSuchSetting", {"value": 1}, content_type=JSON)
    assert response.status_code == 404
    assert response.json()["code"] == "SETTING_NOT_FOUND"


def test_delete_setting_falls_back_to_the_default(integration, world):
    response = integration.delete(f"/api/v1/admin/settings/AllowCancellationRequest?websiteId={world.store.pk}")
    assert response.status_code == 200
    assert response.json()["value"] is False
    assert response.json()["isSet"] is False


def test_settings_need_the_change_permission_to_write(read_only, orders_admin):
    for client in (read_only, orders_admin):
        response = client.put("/api/v1/admin/settings/OrderCancelStatuses", {"value": ["Open"]}, content_type=JSON)
        assert response.status_code == 403


# --- order status mappings


def test_mapping_crud(integration):
    created = integration.post(
        "/api/v1/admin/orderstatusmappings",
        {"erpOrderStatus": "Backordered", "displayName": "Back-ordered", "allowCancellation": True},
        content_type=JSON,
    )
    assert created.status_code == 201
    mapping_id = created.json()["id"]
    assert created.json()["isDefault"] is False
    changed = integration.patch(
        f"/api/v1/admin/orderstatusmappings/{mapping_id}", {"displayName": "On back-order"}, content_type=JSON
    )
    assert changed.json()["displayName"] == "On back-order"
    assert integration.get(f"/api/v1/admin/orderstatusmappings/{mapping_id}").json()["erpOrderStatus"] == "Backordered"
    assert integration.delete(f"/api/v1/admin/orderstatusmappings/{mapping_id}").status_code == 204
    assert integration.get(f"/api/v1/admin/orderstatusmappings/{mapping_id}").status_code == 404


def test_mapping_changes_are_audited(integration):
    mapping_id = integration.post(
        "/api/v1/admin/orderstatusmappings",
        {"erpOrderStatus": "Backordered", "displayName": "Back-ordered"},
        content_type=JSON,
    ).json()["id"]
    integration.patch(f"/api/v1/admin/orderstatusmappings/{mapping_id}", {"allowCancellation": True}, content_type=JSON)
    integration.delete(f"/api/v1/admin/orderstatusmappings/{mapping_id}")
    rows = ConfigurationChange.objects.filter(kind="OrderStatusMapping", object_id=mapping_id).order_by("id")
    assert [(r.action, r.object_name) for r in rows] == [
        ("Created", "Backordered"),
        ("Updated", "Backordered"),
        ("Deleted", "Backordered"),
    ]
    assert rows[1].changes == {"allow_cancellation": [False, True]}
    assert rows[2].changes["display_name"] == ["Back-ordered", None]


def test_mapping_for_an_existing_status_or_a_second_default_is_400(integration):
    duplicate = integration.post(
        "/api/v1/admin/orderstatusmappings", {"erpOrderStatus": "Submitted", "displayName": "x"}, content_type=JSON
    )
    assert duplicate.status_code == 400
    assert "erpOrderStatus" in duplicate.json()["fields"]
    OrderStatusMapping.objects.filter(erp_order_status="Open").update(is_default=True)
    second = integration.post(
        "/api/v1/admin/orderstatusmappings",
        {"erpOrderStatus": "Other", "displayName": "Other", "isDefault": True},
        content_type=JSON,
    )
    assert second.status_code == 400
    assert "isDefault" in second.json()["fields"]


def test_mappings_writes_need_the_permission(orders_admin):
    response = orders_admin.post(
        "/api/v1/admin/orderstatusmappings", {"erpOrderStatus": "X", "displayName": "X"}, content_type=JSON
    )
    assert response.status_code == 403


# --- websites


def test_websites_list_create_update(integration, world):
    assert {w["name"] for w in integration.get("/api/v1/admin/websites").json()["websites"]} == {
        "Demo Store",
        "Trade Counter",
    }
    created = integration.post(
        "/api/v1/admin/websites", {"name": "Export", "domain": "export.example.com"}, content_type=JSON
    )
    assert created.status_code == 201
    assert created.json()["isActive"] is True
    updated = integration.patch(
        f"/api/v1/admin/websites/{created.json()['id']}", {"isActive": False}, content_type=JSON
    )
    assert updated.json()["isActive"] is False
    duplicate = integration.post("/api/v1/admin/websites", {"name": "Demo Store"}, content_type=JSON)
    assert duplicate.status_code == 400
    assert integration.get("/api/v1/admin/websites/999999").status_code == 404


# --- integration connections


def test_connection_password_is_write_only_and_stored_encrypted(integration):
    response = integration.post(
        "/api/v1/admin/integrationconnections",
        {"name": "Main ERP", "typeName": "WebService", "url": "https://erp.example.com", "password": "s3cret"},
        content_type=JSON,
    )
    assert response.status_code == 201
    body = response.json()
    assert "password" not in body
    assert body["hasPassword"] is True
    connection = IntegrationConnection.objects.get(pk=body["id"])
    assert "s3cret" not in connection.password_encrypted
    assert connection.get_password() == "s3cret"
    renamed = integration.patch(
        f"/api/v1/admin/integrationconnections/{body['id']}", {"name": "ERP"}, content_type=JSON
    )
    assert renamed.status_code == 200
    assert IntegrationConnection.objects.get(pk=body["id"]).get_password() == "s3cret"


def test_connection_changes_are_audited_without_the_password(integration):
    created = integration.post(
        "/api/v1/admin/integrationconnections",
        {"name": "Main ERP", "typeName": "WebService", "url": "https://erp.example.com", "password": "s3cret"},
        content_type=JSON,
    ).json()
    integration.patch(
        f"/api/v1/admin/integrationconnections/{created['id']}",
        {"url": "https://erp2.example.com", "password": "n3w-s3cret"},
        content_type=JSON,
    )
    integration.patch(f"/api/v1/admin/integrationconnections/{created['id']}", {"isActive": True}, content_type=JSON)
    assert integration.delete(f"/api/v1/admin/integrationconnections/{created['id']}").status_code == 204
    rows = ConfigurationChange.objects.filter(kind="Connection", object_id=created["id"]).order_by("id")
    assert [r.action for r in rows] == ["Created", "Updated", "Deleted"]  # the no-op update is not recorded
    assert rows[0].changes["password"] == [None, "(hidden)"]
    assert rows[1].changes == {
        "url": ["https://erp.example.com", "https://erp2.example.com"],
        "password": ["(hidden)", "(hidden)"],
    }
    stored = " ".join(str(r.changes) for r in rows)
    assert "s3cret" not in stored
    assert "password_encrypted" not in stored


def test_connection_of_an_unknown_type_is_400(integration):
    response = integration.post(
        "/api/v1/admin/integrationconnections", {"name": "X", "typeName": "Carrier pigeon"}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json()["code"] == "UNKNOWN_CONNECTION_TYPE"


def test_connection_in_use_cannot_be_deleted(integration):
    sandbox = IntegrationConnection.objects.get(name="Sandbox ERP")
    response = integration.delete(f"/api/v1/admin/integrationconnections/{sandbox.pk}")
    assert response.status_code == 409
    assert response.json()["code"] == "IN_USE"


def test_connections_are_read_only_for_the_read_only_role(read_only):
    assert read_only.get("/api/v1/admin/integrationconnections").status_code == 200
    response = read_only.post("/api/v1/admin/integrationconnections", {"name": "X", "typeName": "WebService"})
    assert response.status_code == 403


# --- job definitions


def test_job_definition_with_parameters_is_created_updated_and_run(integration):
    response = integration.post(
        "/api/v1/admin/jobdefinitions",
        {
            "name": "Nightly report",
            "jobType": "Report",
            "integrationProcessor": "NoOp",
            "parameters": [{"sequence": 1, "name": "Days", "valueType": "Number", "defaultValue": "7"}],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.json()
    definition = response.json()
    assert [p["name"] for p in definition["parameters"]] == ["Days"]
    updated = integration.patch(
        f"/api/v1/admin/jobdefinitions/{definition['id']}",
        {
            "parameters": [
                {"name": "Days", "valueType": "Number"},
                {"name": "Verbose", "valueType": "Boolean", "defaultValue": "false"},
            ]
        },
        content_type=JSON,
    )
    assert [p["name"] for p in updated.json()["parameters"]] == ["Days", "Verbose"]
    run = integration.post(
        f"/api/v1/admin/jobdefinitions/{definition['id']}/run", {"parameters": {"Days": "3"}}, content_type=JSON
    )
    assert run.status_code == 201
    assert run.json()["status"] == "Queued"
    assert {p["name"]: p["value"] for p in run.json()["parameters"]} == {"Days": "3", "Verbose": "false"}


def test_a_queued_job_keeps_its_typed_parameters_after_its_definition_is_updated_through_the_api(integration):
    created = integration.post(
        "/api/v1/admin/jobdefinitions",
        {
            "name": "Nightly report",
            "integrationProcessor": "NoOp",
            "parameters": [
                {"sequence": 1, "name": "Days", "valueType": "Number", "defaultValue": "7"},
                {"sequence": 2, "name": "Verbose", "valueType": "Boolean", "defaultValue": "false"},
                {"sequence": 3, "name": "Dropped", "valueType": "String"},
            ],
        },
        content_type=JSON,
    ).json()
    days_id = next(p["id"] for p in created["parameters"] if p["name"] == "Days")
    job_id = integration.post(
        f"/api/v1/admin/jobdefinitions/{created['id']}/run", {"parameters": {"Days": "3"}}, content_type=JSON
    ).json()["id"]
    updated = integration.put(
        f"/api/v1/admin/jobdefinitions/{created['id']}",
        {
            "name": "Nightly report",
            "integrationProcessor": "NoOp",
            "parameters": [
                {"sequence": 1, "name": "Days", "valueType": "Number", "prompt": "How many days back"},
                {"sequence": 2, "name": "Verbose", "valueType": "Boolean", "defaultValue": "false"},
                {"sequence": 3, "name": "Since", "valueType": "Date"},
            ],
        },
        content_type=JSON,
    )
    assert updated.status_code == 200, updated.json()
    by_name = {p["name"]: p for p in updated.json()["parameters"]}
    assert sorted(by_name) == ["Days", "Since", "Verbose"]
    assert by_name["Days"]["id"] == days_id
    assert by_name["Days"]["prompt"] == "How many days back"
    assert typed_parameters(IntegrationJob.objects.get(pk=job_id)) == {
        "Days": Decimal("3"),
        "Verbose": False,
        "Dropped": "",
    }


def test_job_definition_changes_are_audited_with_their_parameters(integration, world):
    created = integration.post(
        "/api/v1/admin/jobdefinitions",
        {"name": "Audited", "integrationProcessor": "NoOp", "parameters": [{"name": "Days", "valueType": "Number"}]},
        content_type=JSON,
    ).json()
    integration.patch(
        f"/api/v1/admin/jobdefinitions/{created['id']}",
        {"maxRetries": 2, "parameters": [{"name": "Days", "valueType": "Number", "defaultValue": "7"}]},
        content_type=JSON,
    )
    assert integration.delete(f"/api/v1/admin/jobdefinitions/{created['id']}").status_code == 204
    rows = ConfigurationChange.objects.filter(kind="JobDefinition", object_id=created["id"]).order_by("id")
    assert [r.action for r in rows] == ["Created", "Updated", "Deleted"]
    assert {r.changed_by.username for r in rows} == {"integrationadmin"}
    assert rows[0].changes["name"] == [None, "Audited"]
    days = {"sequence": 1, "value_type": "Number", "prompt": "", "is_required": False}
    assert rows[1].changes == {
        "max_retries": [5, 2],
        "parameters.Days": [{**days, "default_value": ""}, {**days, "default_value": "7"}],
    }


def test_job_definition_naming_an_unknown_processor_is_400(integration):
    response = integration.post(
        "/api/v1/admin/jobdefinitions", {"name": "X", "integrationProcessor": "Nope"}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JOB_DEFINITION"
    assert not JobDefinition.objects.filter(name="X").exists()


def test_job_definition_with_duplicate_parameter_names_is_400(integration):
    response = integration.post(
        "/api/v1/admin/jobdefinitions",
        {"name": "X", "integrationProcessor": "NoOp", "parameters": [{"name": "A"}, {"name": "A"}]},
        content_type=JSON,
    )
    assert response.status_code == 400
    assert "parameters" in response.json()["fields"]


def test_run_with_a_bad_parameter_value_is_400_and_queues_nothing(integration):
    definition = JobDefinition.objects.create(name="Report", integration_processor="NoOp")
    before = IntegrationJob.objects.count()
    response = integration.post(
        f"/api/v1/admin/jobdefinitions/{definition.pk}/run", {"parameters": {"Nope": "1"}}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JOB_PARAMETER"
    assert IntegrationJob.objects.count() == before


def test_job_definition_in_use_cannot_be_deleted(integration, failed_cancellation):
    definition = JobDefinition.objects.get(name="OrderCancel")
    assert integration.delete(f"/api/v1/admin/jobdefinitions/{definition.pk}").status_code == 409


def test_a_manual_run_of_the_order_cancel_definition_is_409_pointing_to_cancel_order(integration):
    definition = JobDefinition.objects.get(name="OrderCancel")
    order = Order.objects.get(web_order_number="WEB-2001")
    jobs, events = IntegrationJob.objects.count(), OrderEvent.objects.count()
    response = integration.post(
        f"/api/v1/admin/jobdefinitions/{definition.pk}/run",
        {"parameters": {"OrderNumber": "WEB-2001"}},
        content_type=JSON,
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "MANUAL_RUN_REFUSED"
    assert "Cancel Order" in body["message"]
    assert "/api/v1/admin/orders/{orderNumber}/cancel" in body["message"]
    assert (IntegrationJob.objects.count(), OrderEvent.objects.count()) == (jobs, events)
    assert Order.objects.get(pk=order.pk).status == order.status


def test_running_a_job_needs_the_permission(orders_admin):
    definition = JobDefinition.objects.get(name="OrderCancel")
    response = orders_admin.post(f"/api/v1/admin/jobdefinitions/{definition.pk}/run", {}, content_type=JSON)
    assert response.status_code == 403
    assert orders_admin.post("/api/v1/admin/jobdefinitions/999999/run", {}, content_type=JSON).status_code == 403


# --- integration jobs


def test_jobs_list_detail_and_logs(read_only, failed_cancellation):
    jobs = read_only.get("/api/v1/admin/integrationjobs", {"status": "Cancelled"}).json()
    assert [j["jobNumber"] for j in jobs["integrationJobs"]] == [failed_cancellation.job_id]
    assert jobs["pagination"]["totalItemCount"] == 1
    detail = read_only.get(f"/api/v1/admin/integrationjobs/{failed_cancellation.job_id}").json()
    assert detail["jobDefinitionName"] == "OrderCancel"
    assert detail["orderNumber"] == "WEB-1006"
    assert {p["name"]: p["value"] for p in detail["parameters"]} == {"OrderNumber": "ERP-5006", "CancelLines": ""}
    logs = read_only.get(f"/api/v1/admin/integrationjobs/{failed_cancellation.job_id}/logs").json()["logs"]
    assert logs
    assert {"sequence", "typeName", "logDateTime", "message"} <= set(logs[0])
    assert read_only.get("/api/v1/admin/integrationjobs", {"status": "Nope"}).status_code == 400
    assert read_only.get("/api/v1/admin/integrationjobs/999999").status_code == 404


def test_retry_runs_a_cancelled_job_again_as_a_new_job(integration, failed_cancellation):
    response = integration.post(f"/api/v1/admin/integrationjobs/{failed_cancellation.job_id}/retry")
    assert response.status_code == 201
    assert response.json()["retryOfJobNumber"] == failed_cancellation.job_id
    assert response.json()["status"] == "Queued"
    failed_cancellation.refresh_from_db()
    assert failed_cancellation.state == "Requested"


def test_retry_of_a_queued_job_is_409_and_cancel_of_a_finished_job_is_409(integration, world):
    request = order_cancel_request(
        order=Order.objects.get(web_order_number="WEB-1001"),
        actor=actor_for_user(world.users["buyer_c1000"]),
        channel="api",
        reason_code="Other",
    )
    retry = integration.post(f"/api/v1/admin/integrationjobs/{request.job_id}/retry")
    assert retry.status_code == 409
    assert retry.json()["code"] == "JOB_NOT_RETRYABLE"
    cancelled = integration.post(f"/api/v1/admin/integrationjobs/{request.job_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "Cancelled"
    again = integration.post(f"/api/v1/admin/integrationjobs/{request.job_id}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "JOB_FINISHED"


def test_retry_and_cancel_need_the_permission(read_only, failed_cancellation):
    assert read_only.post(f"/api/v1/admin/integrationjobs/{failed_cancellation.job_id}/retry").status_code == 403
    assert read_only.post(f"/api/v1/admin/integrationjobs/{failed_cancellation.job_id}/cancel").status_code == 403


# --- orders


def test_admin_order_list_filters_by_customer(read_only):
    body = read_only.get("/api/v1/admin/orders", {"customerNumber": "C2000"}).json()
    assert {o["webOrderNumber"] for o in body["orders"]} == {"WEB-2001", "WEB-2002", "WEB-2003"}
    assert read_only.get("/api/v1/admin/orders", {"pageSize": 0}).status_code == 400


def test_admin_order_detail_has_cancellations_and_the_audit_trail(read_only, failed_cancellation):
    body = read_only.get("/api/v1/admin/orders/WEB-1006").json()
    assert body["customerName"] == "Acme Supplies"
    assert [c["state"] for c in body["cancellations"]] == ["Failed"]
    assert body["cancellations"][0]["needsAttention"] is True
    assert "CancellationRequested" in [e["type"] for e in body["events"]]
    assert read_only.get("/api/v1/admin/orders/NOPE").status_code == 404


def order_payload(**overrides):
    return {
        "webOrderNumber": "WEB-9001",
        "erpOrderNumber": "ERP-9001",
        "websiteId": overrides.pop("websiteId"),
        "customerNumber": "C1000",
        "orderDate": "2026-05-01",
        "status": "Submitted",
        "orderTotal": 30,
        "orderLines": [{"lineNumber": 1, "productErpNumber": "WID-1", "qtyOrdered": 3, "unitNetPrice": "10.00"}],
        **overrides,
    }


def test_import_creates_the_order_with_its_lines_and_an_event(integration, world):
    response = integration.post("/api/v1/admin/orders", order_payload(websiteId=world.store.pk), content_type=JSON)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["webOrderNumber"] == "WEB-9001"
    assert body["orderTotal"] == 30.0
    assert body["orderLines"][0]["qtyOrdered"] == 3.0
    assert [e["type"] for e in body["events"]] == ["Imported"]
    again = integration.post("/api/v1/admin/orders", order_payload(websiteId=world.store.pk), content_type=JSON)
    assert again.status_code == 409
    assert again.json()["code"] == "ORDER_EXISTS"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customerNumber": "C404"}, "customerNumber"),
        ({"websiteId": 999999}, "websiteId"),
        ({"orderDate": "yesterday"}, "orderDate"),
        ({"status": ""}, "status"),
        ({"orderLines": [{"lineNumber": 0, "productErpNumber": "X"}]}, "orderLines"),
        ({"orderTotal": "1e99"}, "orderTotal"),
        ({"webOrderNumber": "WEB/9100"}, "webOrderNumber"),
        ({"webOrderNumber": "WEB-9100\u0000"}, "webOrderNumber"),
        ({"webOrderNumber": "W" * 10_000}, "webOrderNumber"),
        ({"erpOrderNumber": "ERP\n9100"}, "erpOrderNumber"),
        ({"status": "<script>alert(1)</script>"}, "status"),
        ({"orderLines": [{"lineNumber": 1, "productErpNumber": "X", "status": "<b>"}]}, "orderLines"),
    ],
)
def test_import_with_bad_input_is_400(integration, world, overrides, field):
    payload = order_payload(websiteId=overrides.pop("websiteId", world.store.pk), **overrides)
    response = integration.post("/api/v1/admin/orders", payload, content_type=JSON)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_update_changes_the_erp_status_and_writes_an_event(integration):
    response = integration.put("/api/v1/admin/orders/ERP-5002", {"status": "Shipped"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["status"] == "Shipped"
    event = OrderEvent.objects.filter(order__web_order_number="WEB-1002").last()
    assert (event.type, event.old_status, event.new_status) == ("StatusChanged", "Open", "Shipped")
    duplicate = integration.put("/api/v1/admin/orders/WEB-1002", {"erpOrderNumber": "ERP-5001"}, content_type=JSON)
    assert duplicate.status_code == 409
    assert integration.put("/api/v1/admin/orders/NOPE", {"status": "X"}, content_type=JSON).status_code == 404


def test_an_import_naming_a_slash_says_the_field_and_the_rule(integration, world):
    payload = order_payload(websiteId=world.store.pk, webOrderNumber="WEB/9100")
    body = integration.post("/api/v1/admin/orders", payload, content_type=JSON).json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["message"] == "webOrderNumber: Not a valid order number: it cannot contain '/'."


@pytest.mark.parametrize("status", ["Cancelled", "CancellationRequested"])
def test_update_to_a_cancellation_status_is_400_pointing_to_cancel_order(integration, status):
    response = integration.put("/api/v1/admin/orders/WEB-2001", {"status": status}, content_type=JSON)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("STATUS_RESERVED", "status")
    assert "/api/v1/admin/orders/{orderNumber}/cancel" in body["message"]
    order = Order.objects.get(web_order_number="WEB-2001")
    assert order.status == "Submitted"
    assert not CancellationRequest.objects.filter(order=order).exists()
    assert not OrderEvent.objects.filter(order=order, type="StatusChanged").exists()


@pytest.mark.parametrize("status", ["Cancelled", "CancellationRequested"])
def test_import_with_a_cancellation_status_is_400(integration, world, status):
    payload = order_payload(websiteId=world.store.pk, status=status)
    response = integration.post("/api/v1/admin/orders", payload, content_type=JSON)
    assert response.status_code == 400
    assert response.json()["code"] == "STATUS_RESERVED"


def test_update_to_shipped_during_an_open_cancellation_is_held_and_wins_after_a_denial(integration, world):
    order = Order.objects.get(web_order_number="WEB-1006")
    request = order_cancel_request(
        order=order, actor=actor_for_user(world.users["buyer_c1000"]), channel="storefront", reason_code="Other"
    )
    response = integration.put("/api/v1/admin/orders/WEB-1006", {"status": "Shipped"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["status"] == "CancellationRequested"
    cancellation_deny(request_id=request.pk, erp_message="Already shipped")
    assert integration.get("/api/v1/admin/orders/WEB-1006").json()["status"] == "Shipped"


def test_import_and_update_need_the_add_order_permission(orders_admin, world):
    assert (
        orders_admin.post(
            "/api/v1/admin/orders", order_payload(websiteId=world.store.pk), content_type=JSON
        ).status_code
        == 403
    )
    assert orders_admin.put("/api/v1/admin/orders/WEB-1002", {"status": "X"}, content_type=JSON).status_code == 403


# --- admin cancel


def test_order_admin_cancels_even_where_the_website_does_not_offer_it(orders_admin, world):
    Order.objects.filter(web_order_number="WEB-1006").update(website=world.counter)
    response = orders_admin.post("/api/v1/admin/orders/WEB-1006/cancel", {"reason": "Phoned in"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["cancellations"][0]["channel"] == "admin"


def test_admin_cancel_of_a_shipped_order_is_409_unless_forced_with_a_note(orders_admin):
    refused = orders_admin.post("/api/v1/admin/orders/WEB-1004/cancel", {"reason": "Phoned in"}, content_type=JSON)
    assert refused.status_code == 409
    assert refused.json()["blockers"]
    no_note = orders_admin.post(
        "/api/v1/admin/orders/WEB-1004/cancel", {"reason": "Phoned in", "force": True}, content_type=JSON
    )
    assert no_note.status_code == 400
    assert no_note.json()["code"] == "REASON_REQUIRED"
    forced = orders_admin.post(
        "/api/v1/admin/orders/WEB-1004/cancel",
        {"reason": "Phoned in", "note": "Caught at the dock", "force": True},
        content_type=JSON,
    )
    assert forced.status_code == 200
    assert forced.json()["cancellations"][0]["forced"] is True


def test_forcing_needs_the_force_permission(world):
    clerk = StaffFactory(username="clerk")
    clerk.user_permissions.add(Permission.objects.get(codename="change_order"))
    raw, _ = token_issue(user=clerk)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    response = client.post(
        "/api/v1/admin/orders/WEB-1004/cancel", {"reason": "x", "note": "y", "force": True}, content_type=JSON
    )
    assert response.status_code == 403
    assert response.json()["code"] == "FORCE_NOT_ALLOWED"


def test_admin_cancel_input_and_permission(orders_admin, integration):
    assert orders_admin.post("/api/v1/admin/orders/WEB-1001/cancel", {}, content_type=JSON).status_code == 400
    assert orders_admin.post("/api/v1/admin/orders/NOPE/cancel", {"reason": "x"}, content_type=JSON).status_code == 404
    assert (
        integration.post("/api/v1/admin/orders/WEB-1001/cancel", {"reason": "x"}, content_type=JSON).status_code == 403
    )


# --- cancellations


def test_cancellations_list_filters_and_resend(orders_admin, failed_cancellation):
    attention = orders_admin.get("/api/v1/admin/cancellations", {"needsAttention": "true"}).json()
    assert [c["id"] for c in attention["cancellations"]] == [failed_cancellation.pk]
    assert orders_admin.get("/api/v1/admin/cancellations", {"state": "Confirmed"}).json()["cancellations"] == []
    assert orders_admin.get("/api/v1/admin/cancellations", {"state": "Nope"}).status_code == 400
    detail = orders_admin.get(f"/api/v1/admin/cancellations/{failed_cancellation.pk}").json()
    assert detail["orderNumber"] == "WEB-1006"
    assert detail["notSentToErp"] is False
    resent = orders_admin.post(f"/api/v1/admin/cancellations/{failed_cancellation.pk}/resend")
    assert resent.status_code == 200
    assert resent.json()["state"] == "Requested"
    assert resent.json()["sendCount"] == 2
    again = orders_admin.post(f"/api/v1/admin/cancellations/{failed_cancellation.pk}/resend")
    assert again.status_code == 409
    assert again.json()["code"] == "INVALID_CANCELLATION_STATE"
    assert orders_admin.get("/api/v1/admin/cancellations/999999").status_code == 404


def test_resend_needs_the_resend_permission(integration, failed_cancellation):
    assert integration.post(f"/api/v1/admin/cancellations/{failed_cancellation.pk}/resend").status_code == 403


# --- setup check


def test_setup_check_lists_the_guides_steps(read_only):
    body = read_only.get("/api/v1/admin/setup/check").json()
    assert body["complete"] is True
    assert {"application-setting", "website-setting", "status-mapping", "cancel-job"} <= {
        i["key"] for i in body["items"]
    }


def test_setup_check_reports_a_missing_cancel_job(read_only):
    JobDefinition.objects.filter(name="OrderCancel").update(is_active=False)
    body = read_only.get("/api/v1/admin/setup/check").json()
    assert body["complete"] is False
    assert {i["key"]: i["state"] for i in body["items"]}["cancel-job"] == "missing"


def test_admin_api_refuses_buyers_and_anonymous(world):
    assert world.api("buyer_c1000").get("/api/v1/admin/setup/check").status_code == 403
    assert world.api("anonymous").get("/api/v1/admin/setup/check").status_code == 401


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("CancellationWindowDays", -1, "from 0 to 3650"),
        ("CancellationWindowDays", 10**12, "from 0 to 3650"),
        ("CancellationReasons", ["x" * 100_000], "at most 100 characters"),
    ],
)
def test_a_setting_value_out_of_bounds_is_400_naming_the_setting_and_rule(integration, world, name, value, rule):
    response = integration.put(
        f"/api/v1/admin/settings/{name}", {"value": value, "websiteId": world.store.pk}, content_type=JSON
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["setting"]) == ("INVALID_SETTING", name)
    assert rule in body["message"]


def test_a_connection_url_that_is_not_a_url_is_400_naming_the_field(integration):
    response = integration.post(
        "/api/v1/admin/integrationconnections",
        {"name": "Bad", "typeName": "WebService", "url": "not a url"},
        content_type=JSON,
    )
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("INVALID_CONNECTION_URL", "url")


def test_an_admin_cancellation_note_must_be_text(orders_admin):
    response = orders_admin.post(
        "/api/v1/admin/orders/WEB-2001/cancel", {"reason": "Phoned in", "note": 42}, content_type=JSON
    )
    assert response.status_code == 400
    assert "note" in response.json()["fields"]


def test_a_failed_cancellation_shows_staff_the_delivery_error(orders_admin, failed_cancellation):
    detail = orders_admin.get(f"/api/v1/admin/cancellations/{failed_cancellation.pk}").json()
    assert detail["erpMessage"] == failed_cancellation.erp_message
    assert detail["erpMessage"].startswith("Its delivery job #")


def test_a_denial_shows_the_erp_reference_and_the_order_takes_the_status_the_erp_reported(orders_admin, world):
    order = Order.objects.get(web_order_number="WEB-1006")
    request = order_cancel_request(
        order=order, actor=actor_for_user(world.users["buyer_c1000"]), channel="storefront", reason_code="Other"
    )
    result = {"erpRejected": True, "erpMessage": "Shipped yesterday.", "erpReference": "SO-77", "erpStatus": "Shipped"}
    OrderCancelHandler().finished(
        JobFinished(
            job=JobRef.of(request.job), outcome=JobOutcome.REJECTED, status="SuccessWithWarnings", result=result
        )
    )
    detail = orders_admin.get(f"/api/v1/admin/cancellations/{request.pk}").json()
    assert (detail["state"], detail["erpReference"], detail["erpMessage"]) == ("Denied", "SO-77", "Shipped yesterday.")
    shown = orders_admin.get("/api/v1/admin/orders/WEB-1006").json()
    assert shown["status"] == "Shipped"  # not the stale status it had before the request
