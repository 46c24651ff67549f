"""The eligibility rules, as a pure function: no database."""

import datetime
from dataclasses import dataclass, replace

from hypothesis import given
from hypothesis import strategies as st

from countermand.orders.policies import (
    ADMIN,
    BUYER,
    Actor,
    CancellationRules,
    cancellation_blockers,
)

TODAY = datetime.date(2026, 11, 27)


@dataclass
class FakeOrder:
    id: int = 1
    status: str = "Submitted"
    website_id: int = 10
    customer_id: int = 100
    order_date: datetime.date = TODAY


RULES = CancellationRules(
    order_cancel_statuses=frozenset({"Submitted"}),
    requested_status="CancellationRequested",
    cancelled_status="Cancelled",
    cancel_job_active=True,
    without_job_mode="LocalOnly",
    status_display={"Submitted": "Submitted", "Shipped": "On its way"},
    mapping_allows=frozenset({"Submitted", "Open"}),
    website_allows={10: True},
    website_cancellable_statuses={10: frozenset({"Open"})},
    website_window_days={10: 0},
    today=TODAY,
)
BUYER_ACTOR = Actor(kind=BUYER, user_id=1, customer_id=100, website_ids=frozenset({10}))
ADMIN_ACTOR = Actor(kind=ADMIN, user_id=2)


def codes(order=None, rules=RULES, actor=BUYER_ACTOR, force=False):
    return [b.code for b in cancellation_blockers(order or FakeOrder(), rules=rules, actor=actor, force=force)]


def test_a_submitted_order_of_the_buyer_can_be_cancelled():
    assert codes() == []


def test_a_status_listed_only_in_the_website_setting_is_cancellable():
    assert codes(FakeOrder(status="Open")) == []


def test_website_disabled_blocks_buyers():
    assert codes(rules=replace(RULES, website_allows={10: False})) == ["WEBSITE_DISABLED"]


def test_status_in_no_setting_blocks_with_its_display_name():
    blockers = cancellation_blockers(
        FakeOrder(status="Shipped"), rules=replace(RULES, mapping_allows=frozenset({"Shipped"})), actor=BUYER_ACTOR
    )
    assert [b.code for b in blockers] == ["STATUS_NOT_CANCELLABLE"]
    assert "“On its way”" in blockers[0].message


def test_status_without_allow_cancellation_mapping_blocks():
    assert codes(rules=replace(RULES, mapping_allows=frozenset())) == ["MAPPING_DISALLOWS"]


def test_shipped_order_fails_both_status_rules():
    assert codes(FakeOrder(status="Shipped")) == ["STATUS_NOT_CANCELLABLE", "MAPPING_DISALLOWS"]


def test_open_request_blocks_as_already_requested():
    assert codes(rules=replace(RULES, orders_with_open_request=frozenset({1}))) == ["ALREADY_REQUESTED"]


def test_requested_status_blocks_as_already_requested_even_without_a_request_row():
    assert codes(FakeOrder(status="CancellationRequested")) == ["ALREADY_REQUESTED"]


def test_cancelled_order_blocks_as_already_cancelled():
    assert codes(FakeOrder(status="Cancelled")) == ["ALREADY_CANCELLED"]


def test_buyer_of_another_customer_is_not_permitted():
    assert codes(FakeOrder(customer_id=999)) == ["NOT_PERMITTED"]


def test_buyer_on_another_website_is_not_permitted():
    rules = replace(RULES, website_allows={10: True, 11: True})
    assert codes(FakeOrder(website_id=11), rules=rules) == ["NOT_PERMITTED"]


def test_admin_without_change_permission_is_not_permitted():
    assert codes(actor=replace(ADMIN_ACTOR, may_cancel=False)) == ["NOT_PERMITTED"]


def test_refuse_mode_without_active_job_blocks_with_no_erp_job():
    rules = replace(RULES, cancel_job_active=False, without_job_mode="Refuse")
    assert codes(rules=rules) == ["NO_ERP_JOB"]


def test_local_only_mode_without_active_job_does_not_block():
    assert codes(rules=replace(RULES, cancel_job_active=False)) == []


def test_cancellation_window_blocks_buyers_after_the_window():
    rules = replace(RULES, website_window_days={10: 7})
    assert codes(FakeOrder(order_date=TODAY - datetime.timedelta(days=7)), rules=rules) == []
    assert codes(FakeOrder(order_date=TODAY - datetime.timedelta(days=8)), rules=rules) == [
        "CANCELLATION_WINDOW_PASSED"
    ]


def test_admin_is_not_bound_by_the_website_switch_or_the_window():
    rules = replace(RULES, website_allows={10: False}, website_window_days={10: 1})
    assert codes(FakeOrder(order_date=TODAY - datetime.timedelta(days=30)), rules=rules, actor=ADMIN_ACTOR) == []


def test_admin_is_bound_by_status_rules_unless_forcing_with_permission():
    shipped = FakeOrder(status="Shipped")
    assert codes(shipped, actor=ADMIN_ACTOR) == ["STATUS_NOT_CANCELLABLE", "MAPPING_DISALLOWS"]
    assert codes(shipped, actor=ADMIN_ACTOR, force=True) == ["STATUS_NOT_CANCELLABLE", "MAPPING_DISALLOWS"]
    assert codes(shipped, actor=replace(ADMIN_ACTOR, may_force=True), force=True) == []


def test_force_never_cancels_twice():
    forcing = replace(ADMIN_ACTOR, may_force=True)
    assert codes(FakeOrder(status="Cancelled"), actor=forcing, force=True) == ["ALREADY_CANCELLED"]


def test_buyers_cannot_force():
    assert codes(FakeOrder(status="Shipped"), actor=replace(BUYER_ACTOR, may_force=True), force=True) == [
        "STATUS_NOT_CANCELLABLE",
        "MAPPING_DISALLOWS",
    ]


@given(
    status=st.sampled_from(["Submitted", "Open", "Shipped", "Cancelled", "CancellationRequested", "Weird"]),
    allow=st.booleans(),
    own=st.booleans(),
)
def test_no_blockers_exactly_when_every_rule_holds(status, allow, own):
    order = FakeOrder(status=status, customer_id=100 if own else 5)
    rules = replace(RULES, website_allows={10: allow})
    every_rule_holds = allow and own and status in {"Submitted", "Open"}
    assert (codes(order, rules=rules) == []) is every_rule_holds
