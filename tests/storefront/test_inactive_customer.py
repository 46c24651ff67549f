"""A buyer of an inactive customer (the ERP no longer lists it) can neither sign in nor keep using a session."""

from __future__ import annotations

import pytest
from django.test import Client

from countermand.orders.actors import CUSTOMER_INACTIVE_MESSAGE
from tests.factories import BuyerAccountFactory, CustomerFactory, OrderFactory, WebsiteFactory

PASSWORD = "secret-pass-1"


@pytest.fixture
def account(db):
    website = WebsiteFactory(name="Store")
    return BuyerAccountFactory(customer=CustomerFactory(), websites=[website], user__username="b@example.com")


def deactivate(account) -> None:
    account.customer.is_active = False
    account.customer.save(update_fields=["is_active"])


def test_sign_in_of_a_buyer_of_an_inactive_customer_is_refused_saying_why(account):
    deactivate(account)
    client = Client()
    response = client.post("/account/login/", {"username": "b@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "Your company&#x27;s account is not active; contact customer service." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_of_a_buyer_of_an_active_customer_still_works(account):
    response = Client().post("/account/login/", {"username": "b@example.com", "password": PASSWORD})
    assert response.status_code == 302


def test_session_of_a_buyer_whose_customer_became_inactive_ends_with_the_reason(account):
    client = Client()
    client.force_login(account.user)
    assert client.get("/orders/").status_code == 200
    deactivate(account)
    response = client.get("/orders/", follow=True)
    assert response.redirect_chain[0] == ("/account/login/", 302)
    assert CUSTOMER_INACTIVE_MESSAGE.replace("'", "&#x27;") in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_buyer_of_an_inactive_customer_cannot_cancel_an_order(account):
    order = OrderFactory(customer=account.customer, website=account.websites.first())
    client = Client()
    client.force_login(account.user)
    deactivate(account)
    response = client.post(f"/orders/{order.web_order_number}/cancel/", {"reason": "Ordered by mistake"})
    assert response.status_code == 302
    assert response["Location"] == "/account/login/"
    assert not order.cancellation_requests.exists()


def test_home_page_signs_out_a_buyer_of_an_inactive_customer(account):
    client = Client()
    client.force_login(account.user)
    deactivate(account)
    response = client.get("/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
