"""Admin Console: users and admin roles (Django groups "Order admin", "Integration admin", "Read-only admin")."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from countermand.console.pages import ConsoleModelAdmin
from countermand.console.sites import console_site
from countermand.customers.models import BuyerAccount


class BuyerAccountOfUserInline(admin.StackedInline):
    model = BuyerAccount
    extra = 0
    max_num = 1
    fields = ("customer", "websites")
    autocomplete_fields = ("customer",)
    filter_horizontal = ("websites",)
    verbose_name = "Buyer Account (storefront access)"
    verbose_name_plural = "Buyer Account (storefront access)"


@admin.register(User, site=console_site)
class ConsoleUserAdmin(ConsoleModelAdmin, UserAdmin):
    inlines = [BuyerAccountOfUserInline]
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "role_names")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Admin roles")
    def role_names(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())


@admin.register(Group, site=console_site)
class ConsoleGroupAdmin(ConsoleModelAdmin, GroupAdmin):
    pass
