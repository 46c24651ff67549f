"""Buyer endpoints: /api/v1/orders…, /api/v1/orderstatusmappings (DESIGN §7)."""

import datetime

import pytest
from django.utils import timezone

from countermand.cancellations.models import BUYER_FAILED_MESSAGE, CancellationRequest
from countermand.cancellations.services import cancellation_confirm, cancellation_fail
from countermand.integration.models import IntegrationJob
from countermand.orders.models import Order


def cancel(client, number, body):
    return client.post(f"/api/v1/orders/{number}/cancel", body, content_type="application/json")


def patch(client, number, body):
    return client.patch(f"/api/v1/orders/{number}", body, content_type="application/json")


# --- GET /api/v1/orders


def test_order_list_shows_the_callers_customer_only_newest_first_with_pagination(world):
    body = world.api("buyer_c1000").get("/api/v1/orders").json()
    numbers = [o["webOrderNumber"] for o in body["orders"]]
    assert numbers
    assert all(n.startswith("WEB-10") for n in numbers)
    dates = [o["orderDate"] for o in body["orders"]]
    assert dates == sorted(dates, reverse=True)
    assert body["pagination"] == {
        "page": 1,
        "currentPage": 1,
        "pageSize": 20,
        "totalItemCount": 9,
        "numberOfPages": 1,
    }
    first = body["orders"][0]
    assert set(first) >= {"webOrderNumber", "erpOrderNumber", "orderDate", "status", "statusDisplay", "canCancel"}


def test_order_list_filters_by_status_search_and_dates(world):
    client = world.api("buyer_c1000")
    shipped = client.get("/api/v1/orders", {"status": "Shipped"}).json()["orders"]
    assert [o["webOrderNumber"] for o in shipped] == ["WEB-1004"]
    several = client.get("/api/v1/orders", {"status": ["Shipped", "Invoiced"]}).json()["orders"]
    assert {o["webOrderNumber"] for o in several} == {"WEB-1004", "WEB-1008"}
    by_erp_number = client.get("/api/v1/orders", {"search": "erp-5002"}).json()["orders"]
    assert [o["webOrderNumber"] for o in by_erp_number] == ["WEB-1002"]
    by_po = client.get("/api/v1/orders", {"search": "PO-1003"}).json()["orders"]
    assert [o["webOrderNumber"] for o in by_po] == ["WEB-1003"]
    today = timezone.localdate()
    recent = client.get(
        "/api/v1/orders", {"fromDate": (today - datetime.timedelta(days=2)).isoformat(), "toDate": today.isoformat()}
    ).json()["orders"]
    assert {o["webOrderNumber"] for o in recent} == {"WEB-1001", "WEB-1006", "WEB-1007"}


def test_order_list_pages(world):
    client = world.api("buyer_c1000")
    second = client.get("/api/v1/orders", {"pageSize": 3, "page": 2}).json()
    assert second["pagination"]["numberOfPages"] == 3
    assert len(second["orders"]) == 3
    everything = [o["webOrderNumber"] for o in client.get("/api/v1/orders").json()["orders"]]
    assert [o["webOrderNumber"] for o in second["orders"]] == everything[3:6]
    beyond = client.get("/api/v1/orders", {"pageSize": 3, "page": 9}).json()
    assert beyond["orders"] == []
    assert beyond["pagination"]["totalItemCount"] == 9


def test_order_list_merges_the_buyers_websites_newest_first_across_pages(world):
    for number in ("WEB-1002", "WEB-1005", "WEB-1007"):
        Order.objects.filter(web_order_number=number).update(website=world.counter)
    client = world.api("buyer_c1000")
    expected = list(
        Order.objects.filter(customer__customer_number="C1000")
        .order_by("-order_date", "-id")
        .values_list("web_order_number", flat=True)
    )
    pages = [client.get("/api/v1/orders", {"pageSize": 3, "page": n}).json()["orders"] for n in (1, 2, 3)]
    assert [o["webOrderNumber"] for page in pages for o in page] == expected
    assert {o["websiteId"] for page in pages for o in page} == {world.store.pk, world.counter.pk}


def test_order_list_can_be_narrowed_to_one_of_the_buyers_websites(world):
    client = world.api("buyer_c1000")
    assert len(client.get("/api/v1/orders", {"websiteId": world.store.pk}).json()["orders"]) == 9
    assert client.get("/api/v1/orders", {"websiteId": world.counter.pk}).json()["orders"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": 0}, "page"),
        ({"pageSize": 101}, "pageSize"),
        ({"page": "x"}, "page"),
        ({"fromDate": "2026-13-01"}, "fromDate"),
        ({"fromDate": "2026-05-02", "toDate": "2026-05-01"}, "toDate"),
        ({"websiteId": 999999}, "websiteId"),
    ],
)
def test_order_list_rejects_bad_filters_with_400(world, query, field):
    response = world.api("buyer_c1000").get("/api/v1/orders", query)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"
    assert field in response.json()["fields"]


def test_order_list_needs_a_buyer(world):
    assert world.api("anonymous").get("/api/v1/orders").status_code == 401
    response = world.api("order_admin").get("/api/v1/orders")
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"


# --- GET /api/v1/orders/{orderNumber}


def test_order_detail_of_a_cancellable_order(world):
    body = world.api("buyer_c1000").get("/api/v1/orders/WEB-1001").json()
    assert body["webOrderNumber"] == "WEB-1001"
    assert body["erpOrderNumber"] == "ERP-5001"
    assert body["status"] == "Submitted"
    assert body["statusDisplay"] == "Submitted"
    assert body["canCancel"] is True
    assert body["cancelBlockers"] == []
    assert body["cancellation"] is None
    assert "Other" in body["cancellationReasons"]
    assert body["orderLines"] == [
        {
            "lineNumber": 1,
            "productErpNumber": "WID-100",
            "description": "Blue widget",
            "qtyOrdered": 10.0,
            "qtyShipped": 0.0,
            "unitNetPrice": 12.5,
            "lineTotal": 125.0,
            "status": "Submitted",
            "qtyCancelled": 0.0,
            "qtyCancellable": 10.0,
            "cancelBlockers": [],
        }
    ]
    assert body["orderTotal"] == 125.0


def test_order_detail_by_erp_number(world):
    assert world.api("buyer_c1000").get("/api/v1/orders/ERP-5004").json()["webOrderNumber"] == "WEB-1004"


def test_order_detail_of_a_shipped_order_says_why_it_cannot_be_cancelled(world):
    body = world.api("buyer_c1000").get("/api/v1/orders/WEB-1004").json()
    assert body["canCancel"] is False
    assert {b["code"] for b in body["cancelBlockers"]} == {"STATUS_NOT_CANCELLABLE", "MAPPING_DISALLOWS"}
    assert all(b["message"] for b in body["cancelBlockers"])


def test_another_customers_order_is_404_by_web_or_erp_number(world):
    client = world.api("buyer_c2000")
    for number in ("WEB-1001", "ERP-5001", "NO-SUCH-ORDER"):
        response = client.get(f"/api/v1/orders/{number}")
        assert response.status_code == 404
        assert response.json()["code"] == "ORDER_NOT_FOUND"


# --- POST /api/v1/orders/{orderNumber}/cancel


def test_cancel_requests_the_cancellation_and_queues_the_erp_job(world):
    response = cancel(world.api("buyer_c1000"), "WEB-1001", {"reason": "Ordered by mistake", "note": "dup"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "CancellationRequested"
    assert body["canCancel"] is False
    assert body["cancellation"]["state"] == "Requested"
    assert body["cancellation"]["reason"] == "Ordered by mistake"
    assert body["cancellation"]["note"] == "dup"
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1001")
    assert request.channel == "api"
    assert IntegrationJob.objects.filter(pk=request.job_id, status="Queued").exists()


def test_cancellation_progress_shows_the_erps_answer(world):
    client = world.api("buyer_c1000")
    cancel(client, "WEB-1001", {"reason": "Other"})
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1001")
    cancellation_confirm(request_id=request.pk, erp_message="Cancelled in ERP")
    body = client.get("/api/v1/orders/WEB-1001").json()
    assert body["status"] == "Cancelled"
    assert body["cancellation"]["state"] == "Confirmed"
    assert body["cancellation"]["erpMessage"] == "Cancelled in ERP"
    assert body["cancellation"]["resolvedAt"]
    assert [b["code"] for b in body["cancelBlockers"]] == ["ALREADY_CANCELLED"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "VALIDATION_FAILED"),
        ({"reason": ""}, "VALIDATION_FAILED"),
        ({"reason": "Because"}, "INVALID_REASON"),
        ({"reason": "x" * 101}, "VALIDATION_FAILED"),
    ],
)
def test_cancel_with_a_missing_or_unknown_reason_is_400(world, body, code):
    response = cancel(world.api("buyer_c1000"), "WEB-1001", body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Order.objects.get(web_order_number="WEB-1001").status == "Submitted"


def test_cancel_of_a_shipped_order_is_409_with_blockers(world):
    response = cancel(world.api("buyer_c1000"), "WEB-1004", {"reason": "Other"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "ORDER_NOT_CANCELLABLE"
    assert {b["code"] for b in body["blockers"]} == {"STATUS_NOT_CANCELLABLE", "MAPPING_DISALLOWS"}
    assert body["exceptionMessage"] == body["message"]


def test_cancelling_an_order_someone_else_asked_to_cancel_is_409_already_requested(world):
    cancel(world.api("buyer_c1000"), "WEB-1001", {"reason": "Other"})
    response = world.api("order_admin").post(
        "/api/v1/admin/orders/WEB-1001/cancel", {"reason": "Other"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert [b["code"] for b in response.json()["blockers"]] == ["ALREADY_REQUESTED"]


def test_cancel_on_a_website_without_cancellation_is_409_website_disabled(world):
    Order.objects.filter(web_order_number="WEB-1006").update(website=world.counter)
    response = cancel(world.api("buyer_c1000"), "WEB-1006", {"reason": "Other"})
    assert response.status_code == 409
    assert "WEBSITE_DISABLED" in {b["code"] for b in response.json()["blockers"]}


def test_cancel_of_another_customers_order_is_404_and_changes_nothing(world):
    response = cancel(world.api("buyer_c2000"), "WEB-1001", {"reason": "Other"})
    assert response.status_code == 404
    assert not CancellationRequest.objects.exists()


def test_cancel_needs_a_signed_in_buyer(world):
    assert cancel(world.api("anonymous"), "WEB-1001", {"reason": "Other"}).status_code == 401
    assert cancel(world.api("order_admin"), "WEB-1001", {"reason": "Other"}).status_code == 403


# --- PATCH /api/v1/orders/{orderNumber} (the original storefront's way)


def test_patch_with_status_cancellation_requested_requests_the_cancellation(world):
    response = patch(
        world.api("buyer_c1000"),
        "ERP-5002",
        {"status": "CancellationRequested", "cancellationReason": "No longer needed", "erpOrderNumber": "ERP-5002"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "CancellationRequested"
    assert response.json()["cancellation"]["reason"] == "No longer needed"
    assert CancellationRequest.objects.get(order__web_order_number="WEB-1002").channel == "api"


def test_patch_accepts_the_whole_order_model_as_the_original_client_sends_it(world):
    client = world.api("buyer_c1000")
    order = client.get("/api/v1/orders/WEB-1002").json()
    order.update(status="CancellationRequested", cancellationReason="Other")
    response = patch(client, "WEB-1002", order)
    assert response.status_code == 200
    assert response.json()["cancellation"]["state"] == "Requested"


def test_patch_with_the_current_status_changes_nothing(world):
    response = patch(world.api("buyer_c1000"), "WEB-1002", {"status": "Open"})
    assert response.status_code == 200
    assert response.json()["status"] == "Open"
    assert not CancellationRequest.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"status": "Shipped"}, "UNSUPPORTED_STATUS_CHANGE"),
        ({"status": "CancellationRequested"}, "REASON_REQUIRED"),
        ({"status": "CancellationRequested", "cancellationReason": "Because"}, "INVALID_REASON"),
        ({}, "VALIDATION_FAILED"),
    ],
)
def test_patch_with_bad_input_is_400(world, body, code):
    response = patch(world.api("buyer_c1000"), "WEB-1002", body)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_patch_of_a_shipped_order_is_409_with_blockers(world):
    response = patch(
        world.api("buyer_c1000"), "WEB-1004", {"status": "CancellationRequested", "cancellationReason": "Other"}
    )
    assert response.status_code == 409
    assert response.json()["blockers"]


def test_patch_of_another_customers_order_is_404(world):
    response = patch(
        world.api("buyer_c2000"), "WEB-1002", {"status": "CancellationRequested", "cancellationReason": "Other"}
    )
    assert response.status_code == 404


def test_patch_needs_a_buyer(world):
    assert patch(world.api("anonymous"), "WEB-1002", {"status": "Open"}).status_code == 401
    assert patch(world.api("integration_admin"), "WEB-1002", {"status": "Open"}).status_code == 403


# --- GET /api/v1/orderstatusmappings


def test_status_mappings_use_the_original_field_names(world):
    response = world.api("buyer_c2000").get("/api/v1/orderstatusmappings")
    assert response.status_code == 200
    mappings = {m["erpOrderStatus"]: m for m in response.json()["orderStatusMappings"]}
    assert mappings["Submitted"] == {
        "id": mappings["Submitted"]["id"],
        "erpOrderStatus": "Submitted",
        "displayName": "Submitted",
        "isDefault": False,
        "allowRma": False,
        "allowCancellation": True,
    }
    assert world.api("anonymous").get("/api/v1/orderstatusmappings").status_code == 401


def test_a_failed_cancellation_shows_the_buyer_the_buyer_sentence_not_the_delivery_error(world):
    client = world.api("buyer_c1000")
    cancel(client, "WEB-1001", {"reason": "Other"})
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1001")
    error = "the ERP refused the log-on: check the connection's user and password (HTTP 401 from http://erp.lan:8000)"
    cancellation_fail(request_id=request.pk, error=error)
    shown = client.get("/api/v1/orders/WEB-1001").json()["cancellation"]
    assert shown["state"] == "Failed"
    assert shown["erpMessage"] == BUYER_FAILED_MESSAGE
    assert "erp.lan" not in str(shown)
