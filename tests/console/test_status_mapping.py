"""Administration > System > Order Status Mapping: CRUD with Allow Cancellation, Allow RMA, Is Default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from countermand.orders.models import OrderStatusMapping
from tests.factories import MappingFactory

pytestmark = pytest.mark.django_db

ADD = "admin:orders_orderstatusmapping_add"


def mapping_data(**overrides):
    data = {"erp_order_status": "Submitted", "display_name": "Submitted", "allow_cancellation": "on"}
    data.update(overrides)
    return data


def test_create_a_mapping_that_allows_cancellation(admin_client):
    response = admin_client.post(reverse(ADD), mapping_data(allow_rma="on"))
    assert response.status_code == 302
    mapping = OrderStatusMapping.objects.get()
    assert mapping.allow_cancellation
    assert mapping.allow_rma
    assert not mapping.is_default


def test_form_offers_the_guides_fields(admin_client):
    html = admin_client.get(reverse(ADD)).content.decode()
    for field in ("erp_order_status", "display_name", "allow_cancellation", "allow_rma", "is_default"):
        assert f'name="{field}"' in html
    assert "Allow RMA" in html
    assert "Allow cancellation" in html


def test_a_second_default_mapping_is_refused_with_a_clear_message(admin_client):
    MappingFactory(erp_order_status="Open", is_default=True)
    response = admin_client.post(reverse(ADD), mapping_data(is_default="on"))
    assert response.status_code == 200
    assert "Open is already the default mapping" in response.content.decode()


def test_the_same_erp_status_cannot_be_mapped_twice(admin_client):
    MappingFactory(erp_order_status="Submitted")
    response = admin_client.post(reverse(ADD), mapping_data())
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_list_shows_the_flags(admin_client):
    MappingFactory(erp_order_status="Shipped", allow_cancellation=False)
    html = admin_client.get(reverse("admin:orders_orderstatusmapping_changelist")).content.decode()
    assert "Shipped" in html
    assert "Allow cancellation" in html


def test_only_users_with_the_mapping_permissions_may_edit(reader_client, order_client, integration_client):
    assert reader_client.get(reverse("admin:orders_orderstatusmapping_changelist")).status_code == 200
    assert reader_client.post(reverse(ADD), mapping_data()).status_code == 403
    assert order_client.post(reverse(ADD), mapping_data()).status_code == 403
    assert not OrderStatusMapping.objects.exists()
    assert integration_client.post(reverse(ADD), mapping_data()).status_code == 302
    assert OrderStatusMapping.objects.count() == 1


def test_mapping_changes_in_the_console_are_audited(admin_client, superuser):
    from countermand.settings.models import ConfigurationChange

    admin_client.post(reverse(ADD), mapping_data())
    mapping = OrderStatusMapping.objects.get()
    change = reverse("admin:orders_orderstatusmapping_change", args=[mapping.pk])
    admin_client.post(change, mapping_data(display_name="Received"))
    delete = reverse("admin:orders_orderstatusmapping_delete", args=[mapping.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    rows = list(ConfigurationChange.objects.filter(kind="OrderStatusMapping").order_by("id"))
    assert [(r.action, r.object_name, r.changed_by) for r in rows] == [
        ("Created", "Submitted", superuser),
        ("Updated", "Submitted", superuser),
        ("Deleted", "Submitted", superuser),
    ]
    assert rows[1].changes == {"display_name": ["Submitted", "Received"]}
