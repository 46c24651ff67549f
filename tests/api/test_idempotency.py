"""Repeats of the cancel endpoints: `Idempotency-Key` replays the first answer, a different body with the same
key is 422, and a repeat by the same user of their own open request answers 200 — also after the first
answer was lost with a dropped connection."""

from __future__ import annotations

import datetime
import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from django.utils import timezone

from countermand.api.idempotency import KEY_LIFETIME, idempotency_keys_purge
from countermand.api.models import IdempotentRequest
from countermand.cancellations.models import CancellationRequest
from countermand.integration import queue
from countermand.integration.models import IntegrationJob
from countermand.orders.models import OrderEvent
from tests.api.world import world_build
from tests.waiting import wait_until

JSON = "application/json"


def cancel(client, number: str, body: dict, key: str | None = None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"/api/v1/orders/{number}/cancel", body, content_type=JSON, headers=headers)


def test_the_same_cancel_sent_twice_with_one_key_is_done_once_and_answered_alike(world):
    client = world.api("buyer_c1000")
    first = cancel(client, "WEB-1001", {"reason": "Other"}, key="k-1")
    again = cancel(client, "WEB-1001", {"reason": "Other"}, key="k-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert CancellationRequest.objects.filter(order__web_order_number="WEB-1001").count() == 1
    assert IntegrationJob.objects.filter(order__web_order_number="WEB-1001").count() == 1
    assert OrderEvent.objects.filter(order__web_order_number="WEB-1001", type="CancellationRequested").count() == 1


def test_the_same_key_with_a_different_body_is_422(world):
    client = world.api("buyer_c1000")
    assert cancel(client, "WEB-1001", {"reason": "Other"}, key="k-2").status_code == 200
    reused = cancel(client, "WEB-1001", {"reason": "Other", "note": "changed my mind"}, key="k-2")
    assert reused.status_code == 422
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    elsewhere = cancel(client, "WEB-1006", {"reason": "Other"}, key="k-2")  # another order, same key
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_keys_are_per_user_and_a_bad_key_is_400(world):
    buyer = world.api("buyer_c1000")
    assert cancel(buyer, "WEB-1001", {"reason": "Other"}, key="shared").status_code == 200
    admin = world.api("order_admin")
    # The administrator's own use of the same key value: not the buyer's answer, a request of its own (409:
    # the buyer's cancellation is open; not theirs, so not a repeat).
    answer = admin.post(
        "/api/v1/admin/orders/WEB-1001/cancel",
        {"reason": "Other"},
        content_type=JSON,
        headers={"Idempotency-Key": "shared"},
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "ORDER_NOT_CANCELLABLE")
    bad = cancel(buyer, "WEB-1006", {"reason": "Other"}, key="has spaces")
    assert (bad.status_code, bad.json()["code"]) == (400, "IDEMPOTENCY_KEY_INVALID")


def test_a_repeat_by_the_same_buyer_without_a_key_answers_200_with_their_open_request(world):
    client = world.api("buyer_c1000")
    first = cancel(client, "WEB-1001", {"reason": "Other"})
    again = cancel(client, "WEB-1001", {"reason": "Other"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["cancellation"] == first.json()["cancellation"]
    assert CancellationRequest.objects.filter(order__web_order_number="WEB-1001").count() == 1
    other = world.api("order_admin").post(
        "/api/v1/admin/orders/WEB-1001/cancel", {"reason": "Other"}, content_type=JSON
    )
    assert other.status_code == 409  # someone else's request is open: that is a refusal


def test_the_admin_cancel_endpoint_replays_its_first_answer_too(world):
    admin = world.api("order_admin")
    headers = {"Idempotency-Key": "admin-1"}
    first = admin.post("/api/v1/admin/orders/WEB-1001/cancel", {"reason": "Other"}, content_type=JSON, headers=headers)
    again = admin.post("/api/v1/admin/orders/WEB-1001/cancel", {"reason": "Other"}, content_type=JSON, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_stored_answers_go_after_24_hours_with_the_job_retention(world):
    client = world.api("buyer_c1000")
    assert cancel(client, "WEB-1001", {"reason": "Other"}, key="old").status_code == 200
    assert cancel(client, "WEB-1006", {"reason": "Other"}, key="new").status_code == 200
    IdempotentRequest.objects.filter(key="old").update(created_at=timezone.now() - KEY_LIFETIME - datetime.timedelta(1))
    queue.retention_run(older_than_days=30)
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency_keys_purge() == 0


def post_and_hang_up(base_url: str, path: str, headers: dict[str, str], body: dict) -> None:
    """Send a request and close the connection without reading the answer (the client's answer is lost)."""
    url = urlsplit(base_url)
    payload = json.dumps(body).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {url.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + payload)
        sock.shutdown(socket.SHUT_RDWR)


@pytest.mark.django_db(transaction=True)
def test_a_cancel_whose_answer_was_lost_to_a_dropped_connection_is_answered_200_when_sent_again(live_server):
    world = world_build()
    auth = {"Authorization": f"Bearer {world.token('buyer_c1000')}"}
    path = "/api/v1/orders/WEB-1001/cancel"
    post_and_hang_up(live_server.url, path, {**auth, "Idempotency-Key": "lost-1"}, {"reason": "Other"})
    wait_until(lambda: IdempotentRequest.objects.filter(key="lost-1").exists(), timeout=30)

    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        again = http.post(path, json={"reason": "Other"}, headers={**auth, "Idempotency-Key": "lost-1"})
        assert again.status_code == 200, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["cancellation"]["state"] == "Requested"
        without_key = http.post(path, json={"reason": "Other"}, headers=auth)  # a client that sends no key
        assert without_key.status_code == 200, without_key.text
    assert CancellationRequest.objects.filter(order__web_order_number="WEB-1001").count() == 1


def test_a_buyer_whose_open_request_cancels_line_2_asking_for_line_3_or_the_whole_order_is_409(world):
    client = world.api("buyer_c1000")
    line_2 = {"reason": "Other", "lines": [{"lineNumber": 2, "quantity": 40}]}
    first = cancel(client, "WEB-1009", line_2)
    assert first.status_code == 200, first.json()
    for other in (
        {"reason": "Other", "lines": [{"lineNumber": 3, "quantity": 1}]},
        {"reason": "Other", "lines": [{"lineNumber": 2, "quantity": 10}]},  # same line, another quantity
        {"reason": "Other", "lines": [{"lineNumber": 2, "quantity": 40}, {"lineNumber": 3, "quantity": 1}]},
        {"reason": "Other"},  # the whole order
    ):
        refused = cancel(client, "WEB-1009", other)
        assert refused.status_code == 409, (other, refused.json())
        body = refused.json()
        assert body["code"] == "ORDER_NOT_CANCELLABLE"
        assert [b["code"] for b in body["blockers"]] == ["ALREADY_REQUESTED"]
        assert "asks for something else (line 2 × 40)" in body["message"]
    again = cancel(client, "WEB-1009", {"reason": "Other", "lines": [{"lineNumber": 2, "quantity": "40.000"}]})
    assert again.status_code == 200  # the same ask: a repeat
    assert again.json()["cancellation"] == first.json()["cancellation"]
    assert CancellationRequest.objects.filter(order__web_order_number="WEB-1009").count() == 1


def test_a_buyer_whose_open_request_cancels_the_whole_order_asking_for_a_line_is_409(world):
    client = world.api("buyer_c1000")
    assert cancel(client, "WEB-1009", {"reason": "Other"}).status_code == 200
    refused = cancel(client, "WEB-1009", {"reason": "Other", "lines": [{"lineNumber": 3, "quantity": 1}]})
    assert (refused.status_code, refused.json()["blockers"][0]["code"]) == (409, "ALREADY_REQUESTED")
    assert "asks for something else (the whole order)" in refused.json()["message"]
    assert cancel(client, "WEB-1009", {"reason": "Other", "lines": []}).status_code == 200  # whole order again


def test_the_admin_api_repeat_of_its_own_request_asking_for_other_lines_is_409(world):
    admin = world.api("order_admin")
    path = "/api/v1/admin/orders/WEB-1009/cancel"
    line_1 = {"reason": "Customer called", "lines": [{"lineNumber": 1, "quantity": 10}]}
    assert admin.post(path, line_1, content_type=JSON).status_code == 200
    assert admin.post(path, line_1, content_type=JSON).status_code == 200  # the same ask: a repeat
    for other in ({"reason": "Customer called", "lines": [{"lineNumber": 3, "quantity": 1}]}, {"reason": "Other"}):
        refused = admin.post(path, other, content_type=JSON)
        assert refused.status_code == 409, refused.json()
        assert refused.json()["code"] == "ORDER_NOT_CANCELLABLE"
        assert [b["code"] for b in refused.json()["blockers"]] == ["ALREADY_REQUESTED"]
        assert "asks for something else (line 1 × 10)" in refused.json()["message"]
    assert CancellationRequest.objects.filter(order__web_order_number="WEB-1009").count() == 1
