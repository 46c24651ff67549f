"""A customer with 100,000 orders: the order list (API and storefront) makes a constant number of queries
per page — the same for page 1, a deep page, a filtered page, and a customer with a handful of orders.
Timings are measured by bench/order_history.py, not here."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from countermand.orders.models import Order
from tests.factories import WebsiteFactory

ORDERS = 100_000
STATUSES = ["Submitted", "Open", "Shipped", "Shipped", "Cancelled"]


def bulk_orders(shop, count: int, prefix: str) -> None:
    today = datetime.date(2026, 6, 1)
    Order.objects.bulk_create(
        (
            Order(
                web_order_number=f"{prefix}{i:07d}",
                erp_order_number=f"E{prefix}{i:07d}",
                website=shop.website,
                customer=shop.customer,
                order_date=today - datetime.timedelta(days=i // 50),
                status=STATUSES[i % len(STATUSES)],
                total=100,
            )
            for i in range(count)
        ),
        batch_size=5000,
    )


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_the_order_list_makes_a_constant_number_of_queries_per_page(shop):
    # A second website: the API list then merges per-website index scans (the storefront shows one website).
    shop.buyer_account.websites.add(WebsiteFactory(name="Second Store"))
    client = Client()
    client.force_login(shop.buyer)
    bulk_orders(shop, 30, "SMALL")
    small = {
        "api": queries(client, "/api/v1/orders?pageSize=25"),
        "storefront": queries(client, "/orders/"),
    }
    Order.objects.all().delete()
    bulk_orders(shop, ORDERS, "S")

    deep_api = ORDERS // 25 - 10  # page 3,990 of 4,000
    api = {
        "first": queries(client, "/api/v1/orders?pageSize=25"),
        "deep": queries(client, f"/api/v1/orders?pageSize=25&page={deep_api}"),
        "filtered": queries(client, "/api/v1/orders?pageSize=25&page=300&status=Shipped&fromDate=2025-01-01"),
    }
    storefront = {
        "first": queries(client, "/orders/"),
        "deep": queries(client, f"/orders/?page={ORDERS // 20 - 3}"),
        "filtered": queries(client, "/orders/?status=Shipped&page=200"),
    }
    assert set(api.values()) == {small["api"]}, api
    assert set(storefront.values()) == {small["storefront"]}, storefront
    assert small["api"] <= 13, small  # auth 2-4, buyer 2, page 2, rules 4, display 2
    assert small["storefront"] <= 15, small

    body = client.get(f"/api/v1/orders?pageSize=25&page={deep_api}").json()
    assert body["pagination"]["totalItemCount"] == ORDERS
    newest_first = sorted(range(ORDERS), key=lambda i: (i // 50, -i))  # order date desc, then id desc
    expected = newest_first[(deep_api - 1) * 25 : deep_api * 25]
    assert [o["webOrderNumber"] for o in body["orders"]] == [f"S{i:07d}" for i in expected]
