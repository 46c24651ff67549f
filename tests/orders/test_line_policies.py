"""The partial-cancellation rules (line blockers), as a pure function: no database."""

import datetime
from dataclasses import dataclass, replace
from decimal import Decimal

from countermand.orders.policies import (
    ADMIN,
    BUYER,
    Actor,
    CancellationRules,
    LineBlockerCode,
    cancellation_eligibility,
    line_quantity_cancellable,
)

TODAY = datetime.date(2026, 11, 27)
L = LineBlockerCode


@dataclass
class FakeOrder:
    id: int = 1
    status: str = "Submitted"
    website_id: int = 10
    customer_id: int = 100
    order_date: datetime.date = TODAY


@dataclass
class FakeLine:
    line_number: int = 1
    quantity_ordered: Decimal = Decimal(10)
    quantity_shipped: Decimal = Decimal(0)
    quantity_cancelled: Decimal = Decimal(0)
    status: str = ""


RULES = CancellationRules(
    order_cancel_statuses=frozenset({"Submitted"}),
    requested_status="CancellationRequested",
    cancelled_status="Cancelled",
    cancel_job_active=True,
    without_job_mode="LocalOnly",
    status_display={"Submitted": "Submitted", "Backordered": "Back-ordered", "Picked": "Picked"},
    mapping_allows=frozenset({"Submitted", "Backordered"}),
    website_allows={10: True},
    website_allows_partial={10: True},
    cancel_job_takes_lines=True,
    today=TODAY,
)
BUYER_ACTOR = Actor(kind=BUYER, user_id=1, customer_id=100, website_ids=frozenset({10}))
ADMIN_ACTOR = Actor(kind=ADMIN, user_id=2)


def line_codes(lines, requested=None, rules=RULES, actor=BUYER_ACTOR, order=None):
    eligibility = cancellation_eligibility(order or FakeOrder(), lines, rules=rules, actor=actor, requested=requested)
    return {number: [b.code for b in found] for number, found in eligibility.line_blockers.items()}


def test_cancellable_quantity_is_ordered_minus_shipped_minus_cancelled():
    line = FakeLine(quantity_ordered=Decimal(10), quantity_shipped=Decimal(3), quantity_cancelled=Decimal(2))
    assert line_quantity_cancellable(line) == Decimal(5)
    assert line_quantity_cancellable(replace(line, quantity_shipped=Decimal(9))) == Decimal(0)


def test_an_open_line_has_no_blockers_and_any_open_quantity_may_be_asked():
    assert line_codes([FakeLine()]) == {1: []}
    assert line_codes([FakeLine()], requested={1: Decimal(10)}) == {1: []}
    assert line_codes([FakeLine()], requested={1: Decimal("2.5")}) == {1: []}


def test_a_fully_shipped_line_is_blocked():
    assert line_codes([FakeLine(quantity_shipped=Decimal(10))]) == {1: [L.LINE_FULLY_SHIPPED]}


def test_a_line_shipped_except_what_was_cancelled_is_fully_shipped():
    line = FakeLine(quantity_shipped=Decimal(6), quantity_cancelled=Decimal(4))
    assert line_codes([line]) == {1: [L.LINE_FULLY_SHIPPED]}


def test_a_fully_cancelled_line_is_blocked():
    assert line_codes([FakeLine(quantity_cancelled=Decimal(10))]) == {1: [L.LINE_ALREADY_CANCELLED]}


def test_a_quantity_above_what_is_still_open_is_blocked_with_the_open_quantity_in_the_sentence():
    eligibility = cancellation_eligibility(
        FakeOrder(),
        [FakeLine(quantity_shipped=Decimal(4))],
        rules=RULES,
        actor=BUYER_ACTOR,
        requested={1: Decimal(7)},
    )
    assert eligibility.line_blockers_list() == [
        {
            "lineNumber": 1,
            "code": "LINE_QUANTITY_ABOVE_OPEN",
            "message": "Only 6 of this line can still be cancelled, not 7.",
        }
    ]


def test_a_quantity_of_zero_or_less_is_blocked():
    assert line_codes([FakeLine()], requested={1: Decimal(0)}) == {1: [L.LINE_QUANTITY_INVALID]}
    assert line_codes([FakeLine()], requested={1: Decimal(-1)}) == {1: [L.LINE_QUANTITY_INVALID]}


def test_an_unknown_line_is_blocked():
    assert line_codes([FakeLine()], requested={7: Decimal(1)}) == {7: [L.LINE_NOT_FOUND]}


def test_a_line_asked_twice_is_blocked():
    asked = [(1, Decimal(1)), (1, Decimal(2))]
    assert line_codes([FakeLine()], requested=asked) == {1: [L.LINE_REPEATED]}


def test_partial_cancellation_off_on_the_website_blocks_buyers_but_not_administrators():
    rules = replace(RULES, website_allows_partial={10: False})
    assert line_codes([FakeLine()], rules=rules) == {1: [L.PARTIAL_CANCELLATION_DISABLED]}
    assert line_codes([FakeLine()], rules=rules, actor=ADMIN_ACTOR) == {1: []}


def test_a_cancel_job_without_the_cancel_lines_parameter_blocks_every_line_for_everyone():
    rules = replace(RULES, cancel_job_takes_lines=False)
    assert line_codes([FakeLine()], rules=rules) == {1: [L.PARTIAL_CANCELLATION_UNSUPPORTED]}
    assert line_codes([FakeLine()], rules=rules, actor=ADMIN_ACTOR) == {1: [L.PARTIAL_CANCELLATION_UNSUPPORTED]}


def test_a_line_status_whose_mapping_disallows_cancellation_is_blocked():
    eligibility = cancellation_eligibility(FakeOrder(), [FakeLine(status="Picked")], rules=RULES, actor=BUYER_ACTOR)
    assert [(b.code, b.message) for b in eligibility.line_blockers[1]] == [
        (L.LINE_STATUS_NOT_CANCELLABLE, "Lines with the status “Picked” cannot be cancelled.")
    ]


def test_an_allowed_or_unmapped_line_status_does_not_block():
    assert line_codes([FakeLine(status="Backordered"), FakeLine(line_number=2, status="Open")]) == {1: [], 2: []}


def test_order_blockers_come_beside_the_line_blockers():
    eligibility = cancellation_eligibility(FakeOrder(status="Shipped"), [FakeLine()], rules=RULES, actor=BUYER_ACTOR)
    assert {b.code for b in eligibility.blockers} == {"STATUS_NOT_CANCELLABLE", "MAPPING_DISALLOWS"}
    assert eligibility.line_blockers == {1: []}
    assert not eligibility.allowed


def test_only_the_asked_lines_are_checked_in_a_request():
    lines = [FakeLine(), FakeLine(line_number=2, quantity_shipped=Decimal(10))]
    assert line_codes(lines, requested={1: Decimal(1)}) == {1: []}
