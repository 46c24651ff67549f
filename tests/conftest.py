"""Shared fixtures. The suite runs twice: on SQLite (default) and on PostgreSQL (DATABASE_URL=postgres://…)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission

from countermand.customers.models import BuyerAccount
from countermand.orders.policies import BUYER, Actor
from countermand.settings.services import setting_set
from countermand.websites.models import Website
from tests.factories import (
    BuyerAccountFactory,
    CustomerFactory,
    JobDefinitionFactory,
    MappingFactory,
    StaffFactory,
    WebsiteFactory,
)


@dataclass
class Shop:
    """A website set up as the guide says, with one buyer of one customer."""

    website: Website
    buyer_account: BuyerAccount

    @property
    def customer(self):
        return self.buyer_account.customer

    @property
    def buyer(self):
        return self.buyer_account.user

    @property
    def actor(self) -> Actor:
        return Actor(
            kind=BUYER,
            user_id=self.buyer.pk,
            customer_id=self.customer.pk,
            website_ids=frozenset({self.website.pk}),
        )


def configure_cancellation(website: Website, *, statuses=("Submitted",), with_job: bool = True) -> None:
    """The setup guide's steps: settings, mappings, and (optionally) the OrderCancel job definition."""
    setting_set(name="OrderCancelStatuses", value=list(statuses))
    setting_set(name="AllowCancellationRequest", value=True, website=website)
    setting_set(name="CancellableOrderStatuses", value=list(statuses), website=website)
    for status in statuses:
        MappingFactory(erp_order_status=status, allow_cancellation=True)
    MappingFactory(erp_order_status="Shipped", allow_cancellation=False)
    if with_job:
        JobDefinitionFactory()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests sign in hundreds of times (production keeps Argon2, see test_config)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop(db) -> Shop:
    website = WebsiteFactory(name="Main Store")
    configure_cancellation(website)
    account = BuyerAccountFactory(customer=CustomerFactory(customer_number="C1000"), websites=[website])
    return Shop(website=website, buyer_account=account)


@pytest.fixture
def order_admin(db):
    user = StaffFactory(username="order-admin")
    user.user_permissions.add(Permission.objects.get(codename="change_order"))
    return user


@pytest.fixture
def force_admin(db):
    user = StaffFactory(username="force-admin")
    user.user_permissions.add(
        Permission.objects.get(codename="change_order"), Permission.objects.get(codename="force_cancel_order")
    )
    return user
