"""Admin Console: customers (bill-to accounts) and buyer accounts (storefront user ↔ customer + websites)."""

from __future__ import annotations

from django.contrib import admin

from countermand.console.pages import ConsoleModelAdmin
from countermand.console.sites import console_site
from countermand.customers.models import BuyerAccount, Customer


class BuyerAccountInline(admin.TabularInline):
    model = BuyerAccount
    extra = 0
    fields = ("user", "websites")
    raw_id_fields = ("user",)
    verbose_name = "Buyer Account"
    verbose_name_plural = "Buyer Accounts"


@admin.register(Customer, site=console_site)
class CustomerAdmin(ConsoleModelAdmin):
    list_display = ("customer_number", "name", "email")
    search_fields = ("customer_number", "name", "email")
    fields = ("customer_number", "name", "email")
    inlines = [BuyerAccountInline]


@admin.register(BuyerAccount, site=console_site)
class BuyerAccountAdmin(ConsoleModelAdmin):
    list_display = ("user", "customer", "website_names")
    list_filter = ("websites",)
    search_fields = ("user__username", "user__email", "customer__customer_number", "customer__name")
    list_select_related = ("user", "customer")
    fields = ("user", "customer", "websites")
    raw_id_fields = ("user",)
    autocomplete_fields = ("customer",)
    filter_horizontal = ("websites",)

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("websites")

    @admin.display(description="Websites")
    def website_names(self, obj: BuyerAccount) -> str:
        return ", ".join(w.name for w in obj.websites.all())
