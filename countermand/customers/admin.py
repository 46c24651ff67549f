"""Admin Console: customers (bill-to accounts) and buyers (storefront user ↔ customer + websites).

A buyer is created on one screen — e-mail address, customer (searchable), websites, *Send invitation* —
through `customers.services.buyer_create` (the user and the account together); the list's *Send
invitation* action e-mails the selected buyers a new one-time link to set their password.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join

from countermand.console.pages import ConsoleModelAdmin
from countermand.console.sites import console_site
from countermand.core.errors import DomainError
from countermand.customers.models import BuyerAccount, Customer
from countermand.customers.services import buyer_create, buyer_invite, buyer_update


class BuyerAccountInline(admin.TabularInline):
    """The customer's buyers, listed; they are added on the buyer screen (*Add buyer* above the form),
    which creates the user too — no raw user id to look up."""

    model = BuyerAccount
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("user", "website_names", "invited_at")
    readonly_fields = ("user", "website_names", "invited_at")
    show_change_link = True
    verbose_name = "Buyer Account"
    verbose_name_plural = "Buyer Accounts"

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("user").prefetch_related("websites")

    @admin.display(description="Websites")
    def website_names(self, obj: BuyerAccount) -> str:
        return ", ".join(w.name for w in obj.websites.all())


@admin.register(Customer, site=console_site)
class CustomerAdmin(ConsoleModelAdmin):
    list_display = ("customer_number", "name", "email", "is_active")
    list_filter = ("is_active",)
    search_fields = ("customer_number", "name", "email")
    fields = ("customer_number", "name", "email", "is_active", "address_lines")
    readonly_fields = ("address_lines",)
    inlines = [BuyerAccountInline]

    def object_tools(self, request: HttpRequest, obj: Customer) -> list[dict[str, Any]]:
        if not request.user.has_perm("customers.add_buyeraccount"):
            return []
        url = reverse("admin:customers_buyeraccount_add") + "?" + urlencode({"customer": obj.pk})
        return [{"label": "Add buyer", "url": url, "post": False, "css": ""}]

    @admin.display(description="Addresses (from the ERP)")
    def address_lines(self, obj: Customer) -> str:
        lines = [
            ", ".join(part for part in (a.get("street"), a.get("postalCode"), a.get("city"), a.get("country")) if part)
            for a in obj.addresses or []
        ]
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines)) or "—"


class BuyerAddForm(forms.ModelForm):
    """The one screen that creates a buyer: their user (by e-mail address) and buyer account together."""

    email = forms.EmailField(label="E-mail address", max_length=150, help_text="The buyer signs in with it.")
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
    send_invitation = forms.BooleanField(
        label="Send invitation",
        required=False,
        initial=True,
        help_text="E-mail a one-time link to choose a password (the buyer has none until then).",
    )

    class Meta:
        model = BuyerAccount
        fields = ("customer", "websites")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        users = get_user_model().objects
        if users.filter(username__iexact=email).exists() or users.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "There is already a user with this address: give them a buyer account on the Users page."
            )
        return email


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@admin.register(BuyerAccount, site=console_site)
class BuyerAccountAdmin(ConsoleModelAdmin):
    list_display = ("user", "customer", "website_names", "is_active", "customer_active", "has_password", "invited_at")
    list_filter = ("websites", "user__is_active")
    search_fields = ("user__username", "user__email", "customer__customer_number", "customer__name")
    list_select_related = ("user", "customer")
    autocomplete_fields = ("customer",)
    filter_horizontal = ("websites",)
    actions = ["send_invitation"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("websites")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = BuyerAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("email", "customer", "websites", "is_active", "send_invitation")
        return ("user", "customer", "customer_active", "websites", "invited_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("user", "customer_active", "invited_at") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: BuyerAccount, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            buyer_update(buyer_id=obj.pk, customer=data["customer"], websites=list(data["websites"]))
            return
        account = buyer_create(
            email=data["email"], customer=data["customer"], websites=list(data["websites"]), is_active=data["is_active"]
        )
        obj.pk, obj.user = account.pk, account.user  # the admin's log and redirect name the created account
        if data["send_invitation"] and data["is_active"]:
            buyer_invite(buyer_id=account.pk, base_url=base_url(request))  # e-mailed once the page commits
            self.message_user(request, f"An invitation is on its way to {account.user.email}.")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The websites were saved by the service (save_model); there are no inlines."""

    @admin.action(description="Send invitation", permissions=["change"])
    def send_invitation(self, request: HttpRequest, queryset: QuerySet[BuyerAccount]) -> None:
        sent, refused = [], []
        for account in queryset.select_related("user"):
            try:
                buyer_invite(buyer_id=account.pk, base_url=base_url(request))
                sent.append(account.user.email)
            except DomainError as exc:
                refused.append(exc.message)
        if sent:
            self.message_user(request, f"Invitation sent to {len(sent)} buyer(s): {', '.join(sent)}.")
        for message in refused:
            self.message_user(request, message, level=messages.WARNING)

    @admin.display(description="Websites")
    def website_names(self, obj: BuyerAccount) -> str:
        return ", ".join(w.name for w in obj.websites.all())

    @admin.display(description="Active", boolean=True)
    def is_active(self, obj: BuyerAccount) -> bool:
        return obj.user.is_active

    @admin.display(description="Customer active", boolean=True)
    def customer_active(self, obj: BuyerAccount) -> bool:
        """An inactive customer's buyers cannot sign in or act (countermand/orders/actors.py)."""
        return obj.customer.is_active

    @admin.display(description="Has a password", boolean=True)
    def has_password(self, obj: BuyerAccount) -> bool:
        return obj.user.has_usable_password()
