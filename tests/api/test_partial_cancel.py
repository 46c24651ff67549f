"""Partial cancellation through the REST API (issue 10): POST …/cancel with `lines`, and the order detail."""

from decimal import Decimal

from django.test import Client

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import cancellation_confirm
from countermand.integration.models import IntegrationJob
from countermand.orders.models import OrderLine
from countermand.settings.services import setting_set

JSON = "application/json"


def cancel(client, number, body, prefix="/api/v1"):
    return client.post(f"{prefix}/orders/{number}/cancel", body, content_type=JSON)


def test_order_detail_shows_the_line_quantities_and_the_line_blockers(world):
    OrderLine.objects.filter(order__web_order_number="WEB-1009", line_number=3).update(quantity_shipped=6)
    body = world.api("buyer_c1000").get("/api/v1/orders/WEB-1009").json()
    lines = {line["lineNumber"]: line for line in body["orderLines"]}
    assert (lines[2]["qtyOrdered"], lines[2]["qtyShipped"], lines[2]["qtyCancelled"], lines[2]["qtyCancellable"]) == (
        100.0,
        0.0,
        0.0,
        100.0,
    )
    assert lines[2]["cancelBlockers"] == []
    assert lines[3]["qtyCancellable"] == 0.0
    assert [b["code"] for b in lines[3]["cancelBlockers"]] == ["LINE_FULLY_SHIPPED"]


def test_a_buyer_cancels_part_of_a_line_and_the_detail_shows_the_cancellations_lines(world):
    response = cancel(
        world.api("buyer_c1000"), "WEB-1009", {"reason": "Other", "lines": [{"lineNumber": 2, "quantity": 40}]}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "Submitted"
    assert body["cancellation"]["state"] == "Requested"
    assert body["cancellation"]["lines"] == [{"lineNumber": 2, "quantity": 40.0, "quantityConfirmed": None}]
    assert [b["code"] for b in body["cancelBlockers"]] == ["ALREADY_REQUESTED"]
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1009")
    IntegrationJob.objects.update(status="Success")
    cancellation_confirm(request_id=request.pk)
    after = world.api("buyer_c1000").get("/api/v1/orders/WEB-1009").json()
    line = next(line for line in after["orderLines"] if line["lineNumber"] == 2)
    assert (line["qtyCancelled"], line["qtyCancellable"], line["lineTotal"]) == (40.0, 60.0, 9.0)
    assert after["cancellation"]["lines"] == [{"lineNumber": 2, "quantity": 40.0, "quantityConfirmed": 40.0}]
    assert after["orderTotal"] == float(Decimal("125.00") + Decimal("9.00") + Decimal("38.40"))
    assert after["status"] == "Submitted"


def test_a_quantity_above_what_is_open_is_409_with_the_line_blockers_and_nothing_saved(world):
    response = cancel(
        world.api("buyer_c1000"), "WEB-1009", {"reason": "Other", "lines": [{"lineNumber": 3, "quantity": 7}]}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "LINES_NOT_CANCELLABLE"
    assert body["blockers"] == [
        {
            "lineNumber": 3,
            "code": "LINE_QUANTITY_ABOVE_OPEN",
            "message": "Only 6 of this line can still be cancelled, not 7.",
        }
    ]
    assert not CancellationRequest.objects.filter(order__web_order_number="WEB-1009").exists()
    assert not IntegrationJob.objects.filter(order__web_order_number="WEB-1009").exists()


def test_an_unknown_line_is_409_line_not_found(world):
    response = cancel(
        world.api("buyer_c1000"), "WEB-1009", {"reason": "Other", "lines": [{"lineNumber": 9, "quantity": 1}]}
    )
    assert response.status_code == 409
    assert [b["code"] for b in response.json()["blockers"]] == ["LINE_NOT_FOUND"]


def test_malformed_lines_are_400_and_nothing_saved(world):
    client = world.api("buyer_c1000")
    for lines in ([{"lineNumber": 1}], [{"lineNumber": 1, "quantity": 0}], [{"lineNumber": "x", "quantity": 1}], "2"):
        response = cancel(client, "WEB-1009", {"reason": "Other", "lines": lines})
        assert response.status_code == 400, (lines, response.json())
        assert response.json()["code"] == "VALIDATION_FAILED"
    assert not CancellationRequest.objects.filter(order__web_order_number="WEB-1009").exists()


def test_partial_cancellation_off_on_the_website_is_409_for_a_buyer(world):
    setting_set(name="AllowPartialCancellation", value=False, website=world.store)
    response = cancel(
        world.api("buyer_c1000"), "WEB-1009", {"reason": "Other", "lines": [{"lineNumber": 1, "quantity": 1}]}
    )
    assert response.status_code == 409
    assert [b["code"] for b in response.json()["blockers"]] == ["PARTIAL_CANCELLATION_DISABLED"]


def test_without_lines_the_whole_order_is_cancelled_as_before(world):
    response = cancel(world.api("buyer_c1000"), "WEB-1009", {"reason": "Other"})
    assert response.status_code == 200
    assert response.json()["status"] == "CancellationRequested"
    assert response.json()["cancellation"]["lines"] == []


def test_the_admin_api_cancels_lines_even_where_the_website_does_not_offer_it(world):
    setting_set(name="AllowPartialCancellation", value=False, website=world.store)
    response = cancel(
        world.api("order_admin"),
        "WEB-1009",
        {"reason": "Customer called", "lines": [{"lineNumber": 1, "quantity": 10}]},
        prefix="/api/v1/admin",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["cancellation"]["lines"] == [{"lineNumber": 1, "quantity": 10.0, "quantityConfirmed": None}]
    assert CancellationRequest.objects.get(order__web_order_number="WEB-1009").channel == "admin"


def test_a_confirmed_whole_order_cancellation_leaves_every_line_with_nothing_cancellable(world):
    OrderLine.objects.filter(order__web_order_number="WEB-1009", line_number=3).update(quantity_shipped=2)
    client = world.api("buyer_c1000")
    assert cancel(client, "WEB-1009", {"reason": "Other"}).status_code == 200
    request = CancellationRequest.objects.get(order__web_order_number="WEB-1009")
    IntegrationJob.objects.update(status="Success")
    cancellation_confirm(request_id=request.pk)
    after = client.get("/api/v1/orders/WEB-1009").json()
    assert after["status"] == "Cancelled"
    assert after["orderLines"]
    for line in after["orderLines"]:
        assert line["qtyCancellable"] == 0.0, line
        assert line["qtyCancelled"] == line["qtyOrdered"] - line["qtyShipped"], line
    assert [b["code"] for line in after["orderLines"] for b in line["cancelBlockers"]]


def test_a_whole_order_confirmation_after_a_partial_one_cancels_only_what_was_still_open(world):
    client = world.api("buyer_c1000")
    assert (
        cancel(client, "WEB-1009", {"reason": "Other", "lines": [{"lineNumber": 2, "quantity": 40}]}).status_code == 200
    )
    IntegrationJob.objects.update(status="Success")
    cancellation_confirm(request_id=CancellationRequest.objects.get(order__web_order_number="WEB-1009").pk)
    assert cancel(client, "WEB-1009", {"reason": "Other"}).status_code == 200
    IntegrationJob.objects.update(status="Success")
    whole = CancellationRequest.objects.filter(order__web_order_number="WEB-1009").latest("pk")
    cancellation_confirm(request_id=whole.pk)
    line_2 = OrderLine.objects.get(order__web_order_number="WEB-1009", line_number=2)
    assert (line_2.quantity_ordered, line_2.quantity_cancelled, line_2.quantity_cancellable) == (100, 100, 0)


def patch(client, number, body):
    return client.patch(f"/api/v1/orders/{number}", body, content_type=JSON)


def test_patch_with_lines_cancels_those_lines_as_post_cancel_does(world):
    response = patch(
        world.api("buyer_c1000"),
        "WEB-1009",
        {
            "status": "CancellationRequested",
            "cancellationReason": "Other",
            "lines": [{"lineNumber": 2, "quantity": 40}],
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "Submitted"  # a partial cancellation leaves the status alone
    assert body["cancellation"]["lines"] == [{"lineNumber": 2, "quantity": 40.0, "quantityConfirmed": None}]
    assert CancellationRequest.objects.get(order__web_order_number="WEB-1009").channel == "api"


def test_patch_with_lines_answers_the_same_errors_as_post_cancel(world):
    client = world.api("buyer_c1000")
    base = {"status": "CancellationRequested", "cancellationReason": "Other"}
    for lines in ([{"lineNumber": 1}], [{"lineNumber": 1, "quantity": 0}], "2"):
        malformed = patch(client, "WEB-1009", {**base, "lines": lines})
        posted = cancel(client, "WEB-1009", {"reason": "Other", "lines": lines})
        assert (malformed.status_code, malformed.json()["code"]) == (400, "VALIDATION_FAILED")
        assert malformed.json()["fields"] == posted.json()["fields"]
    above = patch(client, "WEB-1009", {**base, "lines": [{"lineNumber": 9, "quantity": 1}]})
    assert (above.status_code, above.json()["code"]) == (409, "LINES_NOT_CANCELLABLE")
    assert [b["code"] for b in above.json()["blockers"]] == ["LINE_NOT_FOUND"]
    setting_set(name="AllowPartialCancellation", value=False, website=world.store)
    disabled = patch(client, "WEB-1009", {**base, "lines": [{"lineNumber": 1, "quantity": 1}]})
    assert [b["code"] for b in disabled.json()["blockers"]] == ["PARTIAL_CANCELLATION_DISABLED"]
    other_status = patch(client, "WEB-1009", {"status": "Submitted", "lines": [{"lineNumber": 1, "quantity": 1}]})
    assert (other_status.status_code, other_status.json()["code"]) == (400, "UNSUPPORTED_STATUS_CHANGE")
    assert not CancellationRequest.objects.filter(order__web_order_number="WEB-1009").exists()


def test_patch_repeating_an_open_whole_order_request_with_lines_is_409(world):
    client = world.api("buyer_c1000")
    assert (
        patch(client, "WEB-1009", {"status": "CancellationRequested", "cancellationReason": "Other"}).status_code == 200
    )
    refused = patch(
        client,
        "WEB-1009",
        {"status": "CancellationRequested", "cancellationReason": "Other", "lines": [{"lineNumber": 3, "quantity": 1}]},
    )
    assert (refused.status_code, refused.json()["blockers"][0]["code"]) == (409, "ALREADY_REQUESTED")
    assert "asks for something else (the whole order)" in refused.json()["message"]


def test_the_schema_gives_patch_the_same_lines_field_as_post_cancel(db):
    schema = Client().get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def request_lines(path: str, method: str) -> dict:
        ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]["properties"]["lines"]

    patched = request_lines("/api/v1/orders/{orderNumber}", "patch")
    assert patched == request_lines("/api/v1/orders/{orderNumber}/cancel", "post")
    assert patched["type"] == "array"
    assert "LINES_NOT_CANCELLABLE" in schema["paths"]["/api/v1/orders/{orderNumber}"]["patch"]["description"]
