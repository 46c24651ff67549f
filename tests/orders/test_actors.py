"""actor_for_user: who acts, and the one rule for buyers of an inactive customer."""

from __future__ import annotations

import pytest

from countermand.orders.actors import CUSTOMER_INACTIVE_MESSAGE, BuyerCustomerInactive, actor_for_user
from countermand.orders.policies import ADMIN, BUYER
from tests.factories import BuyerAccountFactory, CustomerFactory, StaffFactory, WebsiteFactory

pytestmark = pytest.mark.django_db


def test_a_buyer_of_an_active_customer_acts_as_a_buyer_on_their_websites():
    website = WebsiteFactory()
    account = BuyerAccountFactory(customer=CustomerFactory(), websites=[website], user__password=None)
    actor = actor_for_user(account.user)
    assert actor is not None
    assert (actor.kind, actor.customer_id, actor.website_ids) == (BUYER, account.customer_id, frozenset({website.pk}))


def test_a_buyer_of_an_inactive_customer_is_refused_as_an_inactive_user():
    account = BuyerAccountFactory(customer=CustomerFactory(is_active=False), user__password=None)
    with pytest.raises(BuyerCustomerInactive) as refused:
        actor_for_user(account.user)
    assert (refused.value.code, refused.value.http_status, refused.value.message) == (
        "USER_INACTIVE",
        401,
        CUSTOMER_INACTIVE_MESSAGE,
    )


def test_a_staff_user_acts_as_an_administrator_whatever_customer_they_buy_for():
    staff = StaffFactory(password=None)
    BuyerAccountFactory(user=staff, customer=CustomerFactory(is_active=False))
    actor = actor_for_user(staff)
    assert actor is not None
    assert actor.kind == ADMIN
