"""Admin API for customers and buyers: success, bad input (400), not signed in / not allowed (401/403),
not found (404), conflicts (409), and the invitation e-mail through a real SMTP server."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from countermand.accounts.services import token_issue
from countermand.customers.models import BuyerAccount, Customer
from tests.smtp import body_of

JSON = "application/json"


def call(client, method: str, path: str, body=None):
    return client.generic(method, path, "" if body is None else json.dumps(body), content_type=JSON)


@pytest.fixture
def integration(world):
    return world.api("integration_admin")


@pytest.fixture
def c1000(world) -> Customer:
    return Customer.objects.get(customer_number="C1000")


# --- customers


def test_the_customer_list_pages_filters_and_shows_number_name_active_and_addresses(world, integration):
    address = {"street": "1 Main St", "postalCode": "1", "city": "X", "country": "US"}
    Customer.objects.create(customer_number="C3000", name="Initech", is_active=False, addresses=[address])

    answer = call(integration, "GET", "/api/v1/admin/customers?pageSize=2").json()
    inactive = call(integration, "GET", "/api/v1/admin/customers?isActive=false").json()
    searched = call(integration, "GET", "/api/v1/admin/customers?search=globex").json()

    assert [c["customerNumber"] for c in answer["customers"]] == ["C1000", "C2000"]
    assert answer["pagination"]["totalItemCount"] == 3
    assert [(c["customerNumber"], c["isActive"], c["addresses"]) for c in inactive["customers"]] == [
        ("C3000", False, [address])
    ]
    assert [c["customerNumber"] for c in searched["customers"]] == ["C2000"]


def test_creating_a_customer_answers_201_and_a_second_one_with_the_number_409(world, integration):
    body = {"customerNumber": "C4000", "name": "Umbrella"}

    created = call(integration, "POST", "/api/v1/admin/customers", body)
    again = call(integration, "POST", "/api/v1/admin/customers", body)

    assert created.status_code == 201, created.content
    assert created.json() | {"id": 0} == {
        "id": 0,
        "customerNumber": "C4000",
        "name": "Umbrella",
        "isActive": True,
        "addresses": [],
    }
    assert (again.status_code, again.json()["code"]) == (409, "CUSTOMER_EXISTS")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "No number"}, "customerNumber"),
        ({"customerNumber": "C\u00015000", "name": "Control character"}, "code"),
        ({"customerNumber": "C5000", "name": "X", "isActive": 0}, "isActive"),
        ({"customerNumber": "C5000", "name": "X", "email": "a@b.c"}, "email"),
    ],
)
def test_creating_a_customer_with_bad_or_unknown_fields_is_400_and_creates_nothing(world, integration, body, field):
    answer = call(integration, "POST", "/api/v1/admin/customers", body)

    assert answer.status_code == 400, answer.content
    assert field in answer.json().get("fields", {}) or answer.json()["code"] == "INVALID_CUSTOMER"
    assert (
        not Customer.objects.filter(customer_number__startswith="C")
        .exclude(customer_number__in=["C1000", "C2000"])
        .exists()
    )


def test_an_unknown_customer_field_is_refused_with_the_accepted_names(world, integration):
    answer = call(integration, "POST", "/api/v1/admin/customers", {"customerNumber": "C5", "name": "X", "vat": "1"})

    assert answer.json()["fields"]["vat"] == ["Unknown field; the accepted fields are customerNumber, isActive, name."]


def test_a_customer_is_renamed_deactivated_and_its_number_cannot_change(world, integration, c1000):
    path = f"/api/v1/admin/customers/{c1000.pk}"

    renamed = call(integration, "PUT", path, {"customerNumber": "C1000", "name": "Acme Renamed"})
    deactivated = call(integration, "PATCH", path, {"isActive": False})
    renumbered = call(integration, "PATCH", path, {"customerNumber": "C1001"})

    assert (renamed.status_code, renamed.json()["name"], renamed.json()["isActive"]) == (200, "Acme Renamed", True)
    assert (deactivated.status_code, deactivated.json()["isActive"], deactivated.json()["name"]) == (
        200,
        False,
        "Acme Renamed",
    )
    assert renumbered.status_code == 400
    c1000.refresh_from_db()
    assert (c1000.customer_number, c1000.is_active) == ("C1000", False)
    assert c1000.orders.exists()  # deactivated, not deleted


def test_an_unknown_customer_is_404(world, integration):
    for method in ("GET", "PATCH"):
        answer = call(integration, method, "/api/v1/admin/customers/999999", {} if method == "PATCH" else None)
        assert (answer.status_code, answer.json()["code"]) == (404, "CUSTOMER_NOT_FOUND")


def test_customer_endpoints_need_a_token_and_the_permissions(world):
    anonymous = call(world.api("anonymous"), "GET", "/api/v1/admin/customers")
    buyer = call(world.api("buyer_c1000"), "GET", "/api/v1/admin/customers")
    order_admin = call(
        world.api("order_admin"), "POST", "/api/v1/admin/customers", {"customerNumber": "C7", "name": "X"}
    )

    assert (anonymous.status_code, buyer.status_code, order_admin.status_code) == (401, 403, 403)


# --- buyers


def test_the_buyer_list_shows_email_customer_websites_and_whether_the_buyer_has_a_password(world, integration):
    answer = call(integration, "GET", "/api/v1/admin/buyers?customerNumber=C1000").json()

    assert [
        (b["email"], b["customerNumber"], b["websiteIds"], b["isActive"], b["hasPassword"]) for b in answer["buyers"]
    ] == [("buyer@example.com", "C1000", sorted([world.store.pk, world.counter.pk]), True, True)]


def test_creating_a_buyer_makes_a_user_without_a_password_linked_to_the_customer_and_websites(world):
    client = world.api("order_admin")  # customer service creates buyers too
    body = {"email": "New.Buyer@Example.com", "customerNumber": "C2000", "websiteIds": [world.store.pk]}

    created = call(client, "POST", "/api/v1/admin/buyers", body)
    again = call(client, "POST", "/api/v1/admin/buyers", {**body, "email": "new.buyer@example.com"})

    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["email"], data["customerNumber"], data["websiteIds"], data["hasPassword"], data["invitedAt"]) == (
        "new.buyer@example.com",
        "C2000",
        [world.store.pk],
        False,
        None,
    )
    user = get_user_model().objects.get(username="new.buyer@example.com")
    assert not user.has_usable_password()
    assert user.buyer_account.customer.customer_number == "C2000"
    assert (again.status_code, again.json()["code"]) == (409, "BUYER_EXISTS")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@example.com", "customerNumber": "C9999", "websiteIds": [1]}, "customerNumber"),
        ({"email": "x@example.com", "customerNumber": "C1000", "websiteIds": []}, "websiteIds"),
        ({"email": "x@example.com", "customerNumber": "C1000", "websiteIds": [999999]}, "websiteIds"),
        ({"email": "not-an-address", "customerNumber": "C1000", "websiteIds": [1]}, "email"),
        ({"email": "x@example.com", "customerNumber": "C1000", "websiteIds": [1], "password": "x"}, "password"),
    ],
)
def test_creating_a_buyer_with_bad_or_unknown_fields_is_400_and_creates_no_user(world, integration, body, field):
    users = get_user_model().objects.count()

    answer = call(integration, "POST", "/api/v1/admin/buyers", body)

    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]
    assert get_user_model().objects.count() == users


def test_a_buyer_is_moved_to_another_customer_and_deactivated_which_revokes_their_tokens(world, integration):
    account = BuyerAccount.objects.get(user__username="buyer@example.com")
    token, _ = token_issue(user=account.user)
    path = f"/api/v1/admin/buyers/{account.pk}"

    moved = call(integration, "PUT", path, {"customerNumber": "C2000", "websiteIds": [world.counter.pk]})
    deactivated = call(integration, "PATCH", path, {"isActive": False})
    renamed = call(integration, "PATCH", path, {"email": "other.name@example.com"})

    assert (moved.status_code, moved.json()["customerNumber"], moved.json()["websiteIds"]) == (
        200,
        "C2000",
        [world.counter.pk],
    )
    assert (deactivated.status_code, deactivated.json()["isActive"]) == (200, False)
    assert renamed.status_code == 400
    buyer_api = call(world.api("anonymous"), "GET", "/api/v1/orders")
    assert buyer_api.status_code == 401
    from django.test import Client

    assert Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/orders").status_code == 401


def test_an_unknown_buyer_is_404(world, integration):
    for method, path in (("GET", "/api/v1/admin/buyers/999999"), ("POST", "/api/v1/admin/buyers/999999/invite")):
        answer = call(integration, method, path)
        assert (answer.status_code, answer.json()["code"]) == (404, "BUYER_NOT_FOUND")


def test_the_read_only_admin_reads_buyers_but_may_not_create_or_invite_them(world):
    client = world.api("read_only_admin")
    account = BuyerAccount.objects.get(user__username="buyer@example.com")

    assert call(client, "GET", "/api/v1/admin/buyers").status_code == 200
    assert call(client, "POST", f"/api/v1/admin/buyers/{account.pk}/invite").status_code == 403
    body = {"email": "y@example.com", "customerNumber": "C1000", "websiteIds": [world.store.pk]}
    assert call(client, "POST", "/api/v1/admin/buyers", body).status_code == 403


def test_inviting_a_buyer_sends_an_email_with_a_link_to_set_the_password(
    world, integration, smtp_server, django_capture_on_commit_callbacks
):
    body = {"email": "invitee@example.com", "customerNumber": "C1000", "websiteIds": [world.store.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        created = call(integration, "POST", "/api/v1/admin/buyers", {**body, "invite": True})

    assert created.status_code == 201, created.content
    assert created.json()["invitedAt"] is not None
    message = smtp_server.wait_for_message(to="invitee@example.com")
    assert "Acme Supplies" in message["Subject"]
    assert "http://testserver/account/invitation/" in body_of(message)


def test_inviting_an_inactive_buyer_is_409_and_sends_nothing(world, integration, smtp_server):
    account = BuyerAccount.objects.get(user__username="other@example.com")
    call(integration, "PATCH", f"/api/v1/admin/buyers/{account.pk}", {"isActive": False})

    answer = call(integration, "POST", f"/api/v1/admin/buyers/{account.pk}/invite")

    assert (answer.status_code, answer.json()["code"]) == (409, "BUYER_INACTIVE")
    assert smtp_server.messages == []


def test_a_customer_read_and_sent_back_as_it_is_is_accepted(world, integration, c1000):
    path = f"/api/v1/admin/customers/{c1000.pk}"
    read = call(integration, "GET", path).json()

    answer = call(integration, "PUT", path, {**read, "name": "Acme (sent back)"})

    assert (answer.status_code, answer.json()["name"]) == (200, "Acme (sent back)")


def test_a_buyer_read_and_sent_back_with_another_website_is_accepted(world, integration):
    account = BuyerAccount.objects.get(user__username="other@example.com")
    path = f"/api/v1/admin/buyers/{account.pk}"
    read = call(integration, "GET", path).json()

    answer = call(integration, "PUT", path, {**read, "websiteIds": [world.counter.pk]})

    assert (answer.status_code, answer.json()["websiteIds"]) == (200, [world.counter.pk])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/admin/customers?isActive=maybe",
        "/api/v1/admin/customers?pageSize=0",
        "/api/v1/admin/buyers?websiteId=x",
        "/api/v1/admin/buyers?search=",
    ],
)
def test_a_list_with_a_bad_filter_is_400(world, integration, path):
    answer = call(integration, "GET", path)

    assert (answer.status_code, answer.json()["code"]) == (400, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/admin/customers/999999", {"customerNumber": "C1", "name": "X"}),
        ("PATCH", "/api/v1/admin/buyers/999999", {"isActive": True}),
        ("PUT", "/api/v1/admin/buyers/999999", {"customerNumber": "C1000", "websiteIds": [1]}),
    ],
)
def test_writing_an_unknown_customer_or_buyer_is_404(world, integration, method, path, body):
    answer = call(integration, method, path, body)

    assert answer.status_code == 404
