import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from countermand.orders.selectors import orders_blockers, orders_eligibility, status_display
from tests.factories import MappingFactory, OrderFactory, OrderLineFactory


@pytest.mark.django_db
def test_blockers_of_one_order_and_of_a_page_of_100_take_the_same_number_of_queries(shop):
    orders = OrderFactory.create_batch(100, website=shop.website, customer=shop.customer)
    with CaptureQueriesContext(connection) as one:
        orders_blockers(orders[:1], actor=shop.actor)
    with CaptureQueriesContext(connection) as page:
        result = orders_blockers(orders, actor=shop.actor)
    assert len(one.captured_queries) == len(page.captured_queries) <= 4
    assert all(blockers == [] for blockers in result.values())


@pytest.mark.django_db
def test_order_and_line_blockers_of_one_order_and_of_a_page_of_50_take_the_same_number_of_queries(shop):
    orders = [OrderFactory(website=shop.website, customer=shop.customer) for _ in range(50)]
    for order in orders:
        OrderLineFactory.create_batch(3, order=order)
    with CaptureQueriesContext(connection) as one:
        orders_eligibility(orders[:1], actor=shop.actor)
    fresh = list(type(orders[0]).objects.filter(pk__in=[o.pk for o in orders]))
    with CaptureQueriesContext(connection) as page:
        result = orders_eligibility(fresh, actor=shop.actor)
    assert len(one.captured_queries) == len(page.captured_queries) <= 5  # the rules' four, the lines
    assert all(len(e.line_blockers) == 3 for e in result.values())


@pytest.mark.django_db
def test_status_display_uses_the_mapping_then_the_default_then_the_raw_code():
    MappingFactory(erp_order_status="SH", display_name="Shipped")
    assert status_display("SH", [MappingFactory(erp_order_status="SH")]) == "Shipped"
    mappings = [
        MappingFactory(erp_order_status="SH"),
        MappingFactory(erp_order_status="??", display_name="In progress", is_default=True),
    ]
    assert status_display("XX", mappings) == "In progress"
    assert status_display("XX", mappings[:1]) == "XX"
