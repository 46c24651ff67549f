"""Customers, buyer accounts (storefront user <-> customer + websites), users and admin roles: plain CRUD."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from countermand.customers.models import BuyerAccount, Customer
from tests.console.conftest import NO_PASSWORD
from tests.factories import BuyerAccountFactory, CustomerFactory, UserFactory, WebsiteFactory

pytestmark = pytest.mark.django_db

ADD_PAGES = [
    "admin:customers_customer_add",
    "admin:customers_buyeraccount_add",
    "admin:websites_website_add",
    "admin:orders_orderstatusmapping_add",
    "admin:integration_integrationconnection_add",
    "admin:integration_jobdefinition_add",
]


def test_create_a_customer(admin_client):
    response = admin_client.post(
        reverse("admin:customers_customer_add"),
        {
            "customer_number": "C3000",
            "name": "Initech",
            "email": "ap@initech.example.com",
            "buyers-TOTAL_FORMS": "0",
            "buyers-INITIAL_FORMS": "0",
            "buyers-MIN_NUM_FORMS": "0",
            "buyers-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.get(customer_number="C3000").name == "Initech"


def test_link_a_storefront_user_to_a_customer_and_websites(admin_client):
    user = UserFactory(username="new-buyer@example.com", password=NO_PASSWORD)
    customer = CustomerFactory(customer_number="C3001")
    north, south = WebsiteFactory(name="North"), WebsiteFactory(name="South")
    response = admin_client.post(
        reverse("admin:customers_buyeraccount_add"),
        {"user": user.pk, "customer": customer.pk, "websites": [north.pk, south.pk]},
    )
    assert response.status_code == 302
    account = BuyerAccount.objects.get(user=user)
    assert account.customer == customer
    assert set(account.websites.all()) == {north, south}


def test_buyer_accounts_list_shows_customer_and_websites(admin_client):
    BuyerAccountFactory(
        user__username="list-buyer@example.com",
        user__password=NO_PASSWORD,
        customer=CustomerFactory(customer_number="C3002"),
        websites=[WebsiteFactory(name="East")],
    )
    html = admin_client.get(reverse("admin:customers_buyeraccount_changelist")).content.decode()
    assert "list-buyer@example.com" in html
    assert "C3002" in html
    assert "East" in html


def test_users_page_shows_admin_roles_and_a_users_buyer_account(admin_client, order_admin_user, buyer_user):
    html = admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "Order admin" in html
    detail = admin_client.get(reverse("admin:auth_user_change", args=[buyer_user.pk])).content.decode()
    assert "Buyer Account (storefront access)" in detail
    assert "C7777" in detail


def test_admin_roles_are_the_three_groups(admin_client):
    html = admin_client.get(reverse("admin:auth_group_changelist")).content.decode()
    for name in ("Read-only admin", "Order admin", "Integration admin"):
        assert name in html


@pytest.mark.parametrize("url_name", ADD_PAGES)
def test_read_only_admin_can_add_nothing(reader_client, url_name):
    assert reader_client.get(reverse(url_name)).status_code == 403
    assert reader_client.post(reverse(url_name), {}).status_code == 403


def test_read_only_admin_does_not_manage_users(reader_client):
    assert reader_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert not User.objects.filter(username="intruder").exists()


def test_the_users_page_action_revokes_the_selected_users_tokens(admin_client):
    from countermand.accounts.models import ApiToken
    from countermand.accounts.services import token_issue

    victim, bystander = UserFactory(username="lost-laptop"), UserFactory(username="bystander")
    token_issue(user=victim)
    token_issue(user=victim)
    token_issue(user=bystander)
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "revoke_tokens", "_selected_action": [victim.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Revoked 2 API token(s) of 1 user(s)." in response.content.decode()
    assert not ApiToken.objects.filter(user=victim).exists()
    assert ApiToken.objects.filter(user=bystander).count() == 1


def test_the_user_page_lists_the_users_tokens_by_prefix(admin_client):
    from countermand.accounts.services import token_issue

    user = UserFactory(username="has-tokens")
    raw, token = token_issue(user=user)
    html = admin_client.get(reverse("admin:auth_user_change", args=[user.pk])).content.decode()
    assert token.prefix in html
    assert raw not in html


def test_staff_who_may_only_view_users_see_tokens_but_have_no_revoke_action(read_only_user, reader_client):
    from django.contrib.auth.models import Permission

    from countermand.accounts.services import token_issue

    read_only_user.user_permissions.add(Permission.objects.get(codename="view_user"))
    _, token = token_issue(user=read_only_user)
    listing = reader_client.get(reverse("admin:auth_user_changelist"))
    assert listing.status_code == 200
    assert "revoke_tokens" not in listing.content.decode()
    page = reader_client.get(reverse("admin:auth_user_change", args=[read_only_user.pk]))
    assert token.prefix in page.content.decode()


def test_changing_a_password_in_the_console_revokes_the_users_tokens(admin_client):
    from countermand.accounts.models import ApiToken
    from countermand.accounts.services import token_issue

    user = UserFactory(username="changes-password")
    token_issue(user=user)
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "a-new-password-1", "password2": "a-new-password-1", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=user).exists()
