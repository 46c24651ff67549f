import pytest
from django.urls import reverse

from countermand.orders.models import OrderDrift
from countermand.orders.services import order_drift_record
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def open_drift() -> OrderDrift:
    order = OrderFactory(status="Cancelled")
    order_drift_record(
        order_id=order.pk, kind=OrderDrift.Kind.CANCELLED_HERE_NOT_THERE, our_status="Cancelled", erp_status="done"
    )
    return OrderDrift.objects.get(order=order)


def resolve(client, drift):
    return client.post(
        reverse("admin:orders_orderdrift_changelist"),
        {"action": "mark_resolved", "_selected_action": [drift.pk]},
        follow=True,
    )


def test_an_order_admin_marks_drift_resolved(order_client):
    drift = open_drift()
    response = resolve(order_client, drift)
    assert "1 drift record(s) marked resolved." in response.content.decode()
    drift.refresh_from_db()
    assert drift.resolved_at is not None


def test_a_read_only_admin_cannot_resolve_drift(reader_client):
    drift = open_drift()
    resolve(reader_client, drift)
    drift.refresh_from_db()
    assert drift.resolved_at is None
