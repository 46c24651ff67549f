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
            "is_active": "on",
            "buyers-TOTAL_FORMS": "0",
            "buyers-INITIAL_FORMS": "0",
            "buyers-MIN_NUM_FORMS": "0",
            "buyers-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.get(customer_number="C3000").name == "Initech"


def test_one_screen_creates_the_buyers_user_and_account_and_sends_the_invitation(
    order_client, smtp_server, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(customer_number="C3001", name="Initech")
    north, south = WebsiteFactory(name="North"), WebsiteFactory(name="South")
    page = order_client.get(reverse("admin:customers_buyeraccount_add")).content.decode()
    assert 'name="email"' in page
    assert 'name="send_invitation"' in page
    assert "admin-autocomplete" in page  # the customer field searches, no raw id

    with django_capture_on_commit_callbacks(execute=True):
        response = order_client.post(
            reverse("admin:customers_buyeraccount_add"),
            {
                "email": "New-Buyer@example.com",
                "customer": customer.pk,
                "websites": [north.pk, south.pk],
                "is_active": "on",
                "send_invitation": "on",
            },
        )

    assert response.status_code == 302
    account = BuyerAccount.objects.get(user__username="new-buyer@example.com")
    assert account.customer == customer
    assert set(account.websites.all()) == {north, south}
    assert not account.user.has_usable_password()
    message = smtp_server.wait_for_message(to="new-buyer@example.com")
    assert "/account/invitation/" in message.get_body().get_content()


def test_the_buyer_screen_refuses_an_address_that_already_has_a_user(admin_client):
    UserFactory(username="taken@example.com", email="taken@example.com", password=NO_PASSWORD)
    customer, website = CustomerFactory(), WebsiteFactory()

    response = admin_client.post(
        reverse("admin:customers_buyeraccount_add"),
        {"email": "taken@example.com", "customer": customer.pk, "websites": [website.pk]},
    )

    assert response.status_code == 200
    assert "There is already a user with this address" in response.content.decode()
    assert not BuyerAccount.objects.exists()


def test_the_customer_field_searches_customers_by_number_and_name(order_client):
    CustomerFactory(customer_number="C4242", name="Wayne Enterprises")
    CustomerFactory(customer_number="C5000", name="Stark Industries")

    answer = order_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "customers", "model_name": "buyeraccount", "field_name": "customer", "term": "wayne"},
    )

    assert answer.status_code == 200
    assert [r["text"] for r in answer.json()["results"]] == ["C4242 Wayne Enterprises"]


def test_the_send_invitation_action_emails_the_selected_buyers(
    admin_client, smtp_server, django_capture_on_commit_callbacks
):
    invited = BuyerAccountFactory(user__email="a@example.com", user__password=NO_PASSWORD)
    inactive = BuyerAccountFactory(user__email="b@example.com", user__password=NO_PASSWORD, user__is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:customers_buyeraccount_changelist"),
            {"action": "send_invitation", "_selected_action": [invited.pk, inactive.pk]},
            follow=True,
        )

    html = response.content.decode()
    assert "Invitation sent to 1 buyer(s): a@example.com." in html
    assert "example.com is inactive: activate the buyer first." in html
    smtp_server.wait_for_message(to="a@example.com")
    assert smtp_server.to("b@example.com") == []
    invited.refresh_from_db()
    assert invited.invited_at is not None


def test_changing_a_buyer_moves_them_to_another_customer(admin_client):
    account = BuyerAccountFactory(user__password=NO_PASSWORD)
    other, website = CustomerFactory(customer_number="C6000"), WebsiteFactory()

    response = admin_client.post(
        reverse("admin:customers_buyeraccount_change", args=[account.pk]),
        {"customer": other.pk, "websites": [website.pk]},
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.customer == other
    assert list(account.websites.all()) == [website]


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


def test_the_customer_page_lists_its_buyers_and_adds_one_on_the_buyer_screen(order_client, admin_client):
    account = BuyerAccountFactory(
        user__username="listed@example.com", user__password=NO_PASSWORD, customer=CustomerFactory(name="Umbrella")
    )
    customer = account.customer

    page = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    add = order_client.get(reverse("admin:customers_buyeraccount_add") + f"?customer={customer.pk}").content.decode()

    assert "listed@example.com" in page
    assert 'name="buyers-0-user"' not in page  # no raw user id to type
    assert f'href="/admin/customers/buyeraccount/add/?customer={customer.pk}"' in page
    assert f'<option value="{customer.pk}" selected>{customer}</option>' in add


def test_buyer_list_and_page_show_that_the_buyers_customer_is_inactive(admin_client):
    account = BuyerAccountFactory(customer=CustomerFactory(customer_number="C4040", is_active=False))
    listing = admin_client.get(reverse("admin:customers_buyeraccount_changelist")).content.decode()
    assert "Customer active" in listing
    assert 'alt="False"' in listing
    page = admin_client.get(reverse("admin:customers_buyeraccount_change", args=[account.pk])).content.decode()
    assert "Customer active" in page
    assert 'alt="False"' in page
