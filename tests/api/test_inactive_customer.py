"""The buyer API answers a buyer of an inactive customer as it answers an inactive user: 401 USER_INACTIVE."""

from __future__ import annotations

import pytest
from django.test import Client

from countermand.accounts.models import ApiToken
from countermand.accounts.services import token_issue
from countermand.orders.actors import CUSTOMER_INACTIVE_MESSAGE
from tests.factories import BuyerAccountFactory, CustomerFactory, OrderFactory, WebsiteFactory


@pytest.fixture
def account(db):
    website = WebsiteFactory(name="Store")
    return BuyerAccountFactory(customer=CustomerFactory(), websites=[website], user__username="b@example.com")


def deactivate(account) -> None:
    account.customer.is_active = False
    account.customer.save(update_fields=["is_active"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_existing_token_of_a_buyer_whose_customer_became_inactive_is_401_user_inactive(account):
    raw, _ = token_issue(user=account.user)
    assert Client().get("/api/v1/orders", headers=bearer(raw)).status_code == 200
    deactivate(account)
    response = Client().get("/api/v1/orders", headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["code"] == "USER_INACTIVE"
    assert response.json()["message"] == CUSTOMER_INACTIVE_MESSAGE


def test_buyer_of_an_inactive_customer_cannot_cancel_through_the_api(account):
    order = OrderFactory(customer=account.customer, website=account.websites.first())
    raw, _ = token_issue(user=account.user)
    deactivate(account)
    response = Client().post(
        f"/api/v1/orders/{order.web_order_number}/cancel",
        {"reason": "Ordered by mistake"},
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 401
    assert response.json()["code"] == "USER_INACTIVE"
    assert not order.cancellation_requests.exists()


def test_session_of_a_buyer_of_an_inactive_customer_is_401_user_inactive_on_the_api(account):
    client = Client()
    client.force_login(account.user)
    deactivate(account)
    response = client.get("/api/v1/orders")
    assert response.status_code == 401
    assert response.json()["code"] == "USER_INACTIVE"


def test_buyer_of_an_inactive_customer_gets_no_token(account):
    deactivate(account)
    response = Client().post(
        "/api/v1/auth/token",
        {"username": "b@example.com", "password": "secret-pass-1"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert (response.json()["code"], response.json()["message"]) == ("USER_INACTIVE", CUSTOMER_INACTIVE_MESSAGE)
    assert not ApiToken.objects.filter(user=account.user).exists()
