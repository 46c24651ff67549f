"""Shared fixtures. The suite runs twice: on SQLite (default) and on PostgreSQL (DATABASE_URL=postgres://…)."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission

from countermand.core.crypto import DEVELOPMENT_SECRET_KEY
from countermand.customers.models import BuyerAccount
from countermand.orders.policies import BUYER, Actor
from countermand.settings.services import setting_set
from countermand.websites.models import Website
from tests.api.world import World, WorldSession
from tests.factories import (
    BuyerAccountFactory,
    CustomerFactory,
    JobDefinitionFactory,
    MappingFactory,
    StaffFactory,
    WebsiteFactory,
)

# The servers and workers the tests start run in production mode, which refuses to start without a key: they
# get the development key this process encrypts the test connections' passwords with.
os.environ.setdefault("COUNTERMAND_SECRET_KEY", DEVELOPMENT_SECRET_KEY)


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


# --- the demo world of the API and storefront tests (tests/api/world.py), built once for each run of tests using it

WORLD_SESSION = pytest.StashKey[WorldSession]()


@pytest.fixture(scope="session")
def world_session(request, django_db_setup, django_db_blocker) -> Iterator[WorldSession]:
    session = WorldSession(django_db_blocker)
    request.config.stash[WORLD_SESSION] = session
    yield session
    session.leave()
    del request.config.stash[WORLD_SESSION]


@pytest.fixture
def world_built(request, world_session) -> World:
    """The session's world, built before the test's transaction begins (so it outlives that transaction)."""
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        pytest.fail("a test that commits cannot use the shared world: call tests.api.world.world_build() instead")
    return world_session.enter()


@pytest.fixture
def world(world_built, db) -> World:
    """The demo world (tests/api/world.py). Its rows are shared with the tests around; what a test writes is
    rolled back after it. The objects are this test's own copies, so changing them in memory changes no other test."""
    return copy.deepcopy(world_built)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test that does not use the world, the world is rolled back: that test sees none of it."""
    session = item.config.stash.get(WORLD_SESSION, None)
    if session is not None and "world" not in getattr(item, "fixturenames", ()):
        session.leave()
