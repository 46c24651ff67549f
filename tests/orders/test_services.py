import datetime

import pytest

from countermand.core.errors import Conflict, NotFound
from countermand.orders.models import OrderDrift, OrderEvent
from countermand.orders.services import (
    OrderDataInvalid,
    StatusReserved,
    StatusSource,
    order_drift_record,
    order_drift_resolve,
    order_erp_status_apply,
    order_import,
    order_number_problem,
    order_status_problem,
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
        order_id=order.pk,
        erp_status="Cancelled",
        channel="",
        event_type="CancellationConfirmed",
        data={"a": 1},
        source=StatusSource.ERP,
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


# --- the order-number rule (import, update, refresh)


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("WEB/1", "cannot contain '/'"),
        ("WEB\n1", "control characters"),
        ("WEB\x001", "control characters"),
        ("W" * 51, "at most 50"),
        ("..", "only dots"),
        (" W1", "start or end with a space"),
        ("", "cannot be empty"),
    ],
)
def test_import_refuses_an_order_number_that_breaks_the_rule_naming_the_field_and_rule(number, rule):
    with pytest.raises(OrderDataInvalid, match=rule) as refused:
        order_import(
            web_order_number=number,
            website=WebsiteFactory(),
            customer=CustomerFactory(),
            values={"status": "Submitted", "order_date": "2026-11-01"},
        )
    assert refused.value.details == {"field": "web_order_number"}


def test_update_and_import_refuse_an_erp_order_number_that_breaks_the_rule():
    with pytest.raises(OrderDataInvalid, match="erp_order_number 'E/1' is not a valid order number"):
        order_update(order_id=OrderFactory().pk, values={"erp_order_number": "E/1"})
    with pytest.raises(OrderDataInvalid, match="control characters"):
        imported(erp_order_number="E\t1")


def test_an_order_number_of_fifty_ordinary_characters_is_accepted():
    assert order_number_problem("WEB-2026-00001 #A.1 (re-issued)" + "x" * 19) is None


@pytest.mark.parametrize("status", ["<script>alert(1)</script>", "Op\ten", "'; DROP", "\u202eShipped"])
def test_a_status_that_is_not_a_status_code_is_refused(status):
    with pytest.raises(OrderDataInvalid, match="is not a status code"):
        order_update(order_id=OrderFactory().pk, values={"status": status})
    with pytest.raises(OrderDataInvalid, match="is not a status code"):
        order_update(
            order_id=OrderFactory().pk, values={}, lines=[{"line_number": 1, "product_number": "A", "status": status}]
        )


def test_statuses_of_real_erps_are_accepted():
    for status in ("Back-Ordered", "In Process", "Storniert", "done", "On hold (credit)", "Partially shipped: 2/3"):
        assert order_status_problem(status) is None


# --- the cancellation statuses belong to the cancellation flow


@pytest.mark.parametrize("status", ["Cancelled", "CancellationRequested"])
def test_an_administrators_update_cannot_set_a_cancellation_status(status):
    order = OrderFactory(status="Submitted")
    with pytest.raises(StatusReserved, match="Cancel Order") as refused:
        order_update(order_id=order.pk, values={"status": status}, actor_id=StaffFactory().pk)
    assert refused.value.details == {"field": "status"}
    assert refused.value.http_status == 400
    order.refresh_from_db()
    assert order.status == "Submitted"
    assert not OrderEvent.objects.exists()


@pytest.mark.parametrize("status", ["Cancelled", "CancellationRequested"])
def test_an_import_cannot_bring_an_order_in_with_a_cancellation_status(status):
    with pytest.raises(StatusReserved):
        imported(status=status)


def test_the_cancellation_statuses_follow_their_settings():
    from countermand.settings.services import setting_set

    setting_set(name="CancelledStatus", value="Void")
    order = OrderFactory(status="Submitted")
    with pytest.raises(StatusReserved):
        order_update(order_id=order.pk, values={"status": "Void"})
    assert order_update(order_id=order.pk, values={"status": "Cancelled"}).status == "Cancelled"


def test_the_erp_may_report_an_order_cancelled_but_never_cancellation_requested():
    order = OrderFactory(status="Submitted")
    assert order_update(order_id=order.pk, values={"status": "Cancelled"}, source=StatusSource.ERP).status == (
        "Cancelled"
    )
    with pytest.raises(StatusReserved):
        order_erp_status_apply(
            order_id=OrderFactory().pk, erp_status="CancellationRequested", channel="", source=StatusSource.ERP
        )


def test_an_update_repeating_the_cancelled_status_of_a_cancelled_order_is_accepted():
    order = OrderFactory(status="Cancelled")
    assert order_update(order_id=order.pk, values={"status": "Cancelled", "customer_po": "PO-1"}).customer_po == "PO-1"
