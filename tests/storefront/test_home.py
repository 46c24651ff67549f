"""The storefront's front page is for buyers: the sign-in, then their recent orders — no developer links."""

from __future__ import annotations

import pytest
from django.test import Client

from countermand.orders.models import Order


@pytest.fixture(autouse=True)
def storefront_hosts(settings) -> None:
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]


def test_a_visitor_sees_the_sign_in_and_no_developer_links(world):
    html = Client().get("/").content.decode()
    assert 'action="/account/login/"' in html
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'name="next" value="/"' in html
    for developer_link in ("/api/docs/", "/api/schema/", "/admin/", "REST API"):
        assert developer_link not in html


def test_signing_in_from_the_home_page_comes_back_to_it(world):
    response = Client().post(
        "/account/login/", {"username": "buyer@example.com", "password": "demo-buyer", "next": "/"}
    )
    assert (response.status_code, response["Location"]) == (302, "/")


def test_a_buyer_sees_the_five_most_recent_orders_with_those_they_can_cancel_marked(world):
    html = world.browser("buyer_c1000").get("/").content.decode()
    assert "Your recent orders" in html
    listed = html.count('class="recent-order"')
    expected = Order.objects.filter(customer__customer_number="C1000", website__name="Demo Store").count()
    assert listed == min(5, expected)
    newest = (
        Order.objects.filter(customer__customer_number="C1000", website__name="Demo Store")
        .order_by("-order_date", "-id")
        .first()
    )
    assert newest is not None
    first = html.index('class="recent-order"')
    assert newest.web_order_number in html[first : html.index("</li>", first)]
    assert "Can be cancelled" in html
    assert f"All my orders ({expected})" in html  # all of them, one click away
    assert "WEB-2001" not in html  # another customer's


def test_a_buyer_without_orders_is_told_so(world):
    Order.objects.filter(customer__customer_number="C1000").delete()
    html = world.browser("buyer_c1000").get("/").content.decode()
    assert "You have no orders on Demo Store yet" in html


def test_the_developer_links_are_in_the_console(world):
    html = world.browser("read_only_admin").get("/admin/").content.decode()
    section = html[html.index('id="developer-links"') :]
    assert 'href="/api/docs/"' in section
    assert 'href="/api/schema/"' in section
    assert 'href="/metrics"' in section


def test_an_administrator_on_the_storefront_home_is_pointed_to_the_console(world):
    response = world.browser("read_only_admin").get("/")
    assert response.status_code == 403
    assert 'href="/admin/"' in response.content.decode()
