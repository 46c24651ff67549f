import datetime

import pytest

from countermand.core.errors import Conflict, NotFound
from countermand.orders.models import OrderDrift, OrderEvent
from countermand.orders.services import (
    OrderDataInvalid,
    order_drift_record,
    order_drift_resolve,
    order_erp_status_apply,
    order_import,
    order_update,
)
from tests.factories import CustomerFactory, OrderFactory, StaffFactory, WebsiteFactory

pytestmark = pytest.mark.django_db


def imported(**values):
    values.setdefault("status", "Submitted")
    values.setdefault("order_date", "2026-11-01")
    return order_import(
        web_order_number="W-9",
        website=WebsiteFactory(),
        customer=CustomerFactory(),
        values=values,
        lines=[{"line_number": 1, "product_number": "WID", "quantity_ordered": "2", "unit_price": "1.50"}],
    )


def test_import_creates_the_order_with_lines_and_an_imported_event():
    order = imported(total="3.00", erp_order_number="E-9")
    assert order.order_date == datetime.date(2026, 11, 1)
    assert str(order.total) == "3.00"
    line = order.lines.get()
    assert (line.product_number, str(line.unit_price), line.status) == ("WID", "1.5000", "")
    assert OrderEvent.objects.get(order=order).type == "Imported"


def test_import_of_an_existing_number_is_a_conflict():
    imported()
    with pytest.raises(Conflict, match="already exists"):
        imported()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"status": ""}, "order status must be 1 to 50"),
        ({"total": "lots"}, "must be a number"),
        ({"order_date": "27/11/2026"}, "YYYY-MM-DD"),
        ({"colour": "red"}, "Unknown order field"),
    ],
)
def test_import_refuses_bad_order_data_with_a_clear_message(values, message):
    with pytest.raises(OrderDataInvalid, match=message):
        imported(**values)


def test_line_status_is_optional_but_bounded():
    order = OrderFactory()
    order_update(order_id=order.pk, values={}, lines=[{"line_number": 1, "product_number": "A", "status": ""}])
    assert order.lines.get().status == ""
    with pytest.raises(OrderDataInvalid, match="line status must be 0 to 50"):
        order_update(
            order_id=order.pk, values={}, lines=[{"line_number": 1, "product_number": "A", "status": "x" * 51}]
        )


def test_lines_need_distinct_numbers():
    with pytest.raises(OrderDataInvalid, match="distinct line_number"):
        order_update(order_id=OrderFactory().pk, values={}, lines=[{"line_number": 1}, {"line_number": 1}])


def test_update_writes_a_status_changed_event_only_when_something_changed():
    order = OrderFactory(status="Submitted")
    order_update(order_id=order.pk, values={"status": "Submitted"})
    assert not OrderEvent.objects.exists()
    order_update(order_id=order.pk, values={"status": "Shipped"}, message="from the ERP")
    event = OrderEvent.objects.get()
    assert (event.type, event.old_status, event.new_status, event.message) == (
        "StatusChanged",
        "Submitted",
        "Shipped",
        "from the ERP",
    )


def test_update_of_a_missing_order_is_not_found():
    with pytest.raises(NotFound):
        order_update(order_id=999999, values={"status": "Shipped"})


def test_drift_is_recorded_once_per_open_kind_and_can_be_resolved_and_found_again():
    order = OrderFactory(status="Cancelled")
    kind = OrderDrift.Kind.CANCELLED_HERE_NOT_THERE
    assert order_drift_record(order_id=order.pk, kind=kind, our_status="Cancelled", erp_status="done")
    assert not order_drift_record(order_id=order.pk, kind=kind, our_status="Cancelled", erp_status="done")
    drift = OrderDrift.objects.get()
    admin = StaffFactory()
    order_drift_resolve(drift_id=drift.pk, actor_id=admin.pk)
    drift.refresh_from_db()
    assert drift.resolved_at is not None
    assert OrderEvent.objects.filter(order=order, type="DriftResolved", actor=admin).count() == 1
    assert order_drift_record(order_id=order.pk, kind=kind, our_status="Cancelled", erp_status="done")


def test_erp_status_apply_sets_the_status_and_records_a_status_changed_event():
    order = OrderFactory(status="Submitted")
    order_erp_status_apply(order_id=order.pk, erp_status="Shipped", channel="refresh", message="from the ERP")
    order.refresh_from_db()
    event = OrderEvent.objects.get()
    assert order.status == "Shipped"
    assert (event.type, event.old_status, event.new_status, event.channel, event.message) == (
        "StatusChanged",
        "Submitted",
        "Shipped",
        "refresh",
        "from the ERP",
    )


def test_erp_status_apply_of_the_same_status_writes_nothing():
    order = OrderFactory(status="Shipped")
    order_erp_status_apply(order_id=order.pk, erp_status="Shipped", channel="refresh")
    assert not OrderEvent.objects.exists()


def test_erp_status_apply_refuses_an_empty_status_and_a_missing_order():
    with pytest.raises(OrderDataInvalid, match="order status must be 1 to 50"):
        order_erp_status_apply(order_id=OrderFactory().pk, erp_status=" ", channel="api")
    with pytest.raises(NotFound):
        order_erp_status_apply(order_id=999999, erp_status="Shipped", channel="api")


def test_erp_status_apply_with_an_own_event_type_records_it_even_without_a_change():
    order = OrderFactory(status="Cancelled")
    order_erp_status_apply(
        order_id=order.pk, erp_status="Cancelled", channel="", event_type="CancellationConfirmed", data={"a": 1}
    )
    event = OrderEvent.objects.get()
    assert (event.type, event.old_status, event.new_status, event.data) == (
        "CancellationConfirmed",
        "Cancelled",
        "Cancelled",
        {"a": 1},
    )


def test_mapping_save_and_delete_are_audited_by_whom():
    from countermand.orders.models import OrderStatusMapping
    from countermand.orders.services import order_status_mapping_delete, order_status_mapping_save
    from countermand.settings.models import ConfigurationChange

    admin = StaffFactory()
    mapping = order_status_mapping_save(
        mapping=OrderStatusMapping(erp_order_status="Open", display_name="Open"), actor_id=admin.pk
    )
    mapping.allow_cancellation = True
    order_status_mapping_save(mapping=mapping, actor_id=admin.pk)
    order_status_mapping_delete(mapping_id=mapping.pk, actor_id=admin.pk)
    rows = ConfigurationChange.objects.filter(kind="OrderStatusMapping").order_by("id")
    assert [(r.action, r.changed_by) for r in rows] == [("Created", admin), ("Updated", admin), ("Deleted", admin)]
    assert rows[1].changes == {"allow_cancellation": [False, True]}
    assert not OrderStatusMapping.objects.exists()
    with pytest.raises(NotFound):
        order_status_mapping_delete(mapping_id=mapping.pk, actor_id=admin.pk)
