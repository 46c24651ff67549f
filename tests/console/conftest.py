"""Fixtures of the Admin Console tests: the three admin roles, a buyer, and clients signed in as each."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.test import Client

from tests.factories import BuyerAccountFactory, CustomerFactory, StaffFactory, UserFactory, WebsiteFactory

APPS = ("settings", "websites", "customers", "orders", "integration", "cancellations", "auth")

# What each role needs in the console. The roles are created by a data migration (countermand/api/migrations);
# when a group does not exist yet it is created here with exactly these permissions.
ROLE_PERMISSIONS = {
    "Read-only admin": [],
    "Order admin": ["orders.change_order", "orders.force_cancel_order", "cancellations.resend_cancellation"],
    "Integration admin": [
        f"integration.{action}_{model}"
        for model in ("integrationconnection", "jobdefinition", "jobdefinitionparameter", "integrationjob")
        for action in ("add", "change", "delete")
    ],
}


def _permissions(names: list[str]) -> list[Permission]:
    query = Q()
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query)) if names else []


def role(name: str) -> Group:
    group, created = Group.objects.get_or_create(name=name)
    if created:
        views = Permission.objects.filter(content_type__app_label__in=APPS, codename__startswith="view_")
        group.permissions.add(*views, *_permissions(ROLE_PERMISSIONS[name]))
    return group


def staff_in(role_name: str, username: str):
    user = StaffFactory(username=username)
    user.groups.add(role(role_name))
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def read_only_user(db):
    return staff_in("Read-only admin", "reader")


@pytest.fixture
def order_admin_user(db):
    return staff_in("Order admin", "orders")


@pytest.fixture
def integration_admin_user(db):
    return staff_in("Integration admin", "integrator")


@pytest.fixture
def buyer_user(db):
    website = WebsiteFactory(name="Buyer Store")
    return BuyerAccountFactory(customer=CustomerFactory(customer_number="C7777"), websites=[website]).user


@pytest.fixture
def admin_client(superuser) -> Client:
    return client_for(superuser)


@pytest.fixture
def reader_client(read_only_user) -> Client:
    return client_for(read_only_user)


@pytest.fixture
def order_client(order_admin_user) -> Client:
    return client_for(order_admin_user)


@pytest.fixture
def integration_client(integration_admin_user) -> Client:
    return client_for(integration_admin_user)


@pytest.fixture
def buyer_client(buyer_user) -> Client:
    return client_for(buyer_user)
