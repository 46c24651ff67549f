"""Admin Console: users and admin roles (Django groups "Order admin", "Integration admin", "Read-only admin")."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest

from countermand.accounts.models import ApiToken
from countermand.accounts.services import user_tokens_revoke
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


class ApiTokenOfUserInline(admin.TabularInline):
    """The user's API tokens, read-only (the token itself is never stored: only its first characters)."""

    model = ApiToken
    extra = 0
    can_delete = False
    fields = ("prefix", "created_at", "expires_at", "last_used_at")
    readonly_fields = fields
    verbose_name = "API token"
    verbose_name_plural = "API tokens (revoke them with the Users list's action “Revoke API tokens”)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("auth.view_user")


@admin.register(User, site=console_site)
class ConsoleUserAdmin(ConsoleModelAdmin, UserAdmin):
    inlines = [BuyerAccountOfUserInline, ApiTokenOfUserInline]
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "role_names")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    actions = ["revoke_tokens"]

    @admin.action(description="Revoke API tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Revoke every API token of the selected users (their clients get 401 until they sign in again)."""
        total = 0
        users = list(queryset.order_by("pk"))
        for user in users:
            revoked = user_tokens_revoke(user_id=user.pk)
            total += revoked
            if revoked:
                self.log_change(request, user, f"Revoked {revoked} API token(s).")
        self.message_user(request, f"Revoked {total} API token(s) of {len(users)} user(s).")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Admin roles")
    def role_names(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())


@admin.register(Group, site=console_site)
class ConsoleGroupAdmin(ConsoleModelAdmin, GroupAdmin):
    pass
