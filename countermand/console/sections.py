"""The Admin Console's sections, as the setup guide names them: which pages and models each lists.

Shared by the site (index, sidebar) and the pages (breadcrumbs, titles); it imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One line of a section: a registered model (`model` = "app_label.ModelName") or a console page."""

    name: str
    object_name: str
    model: str = ""
    url_name: str = ""  # console page: the URL name under the admin namespace
    perm: str = ""  # console page: the permission needed to see it ("" = every staff user)
    change_perm: str = ""  # console page: the permission needed to change what it shows


@dataclass(frozen=True)
class Section:
    key: str
    name: str
    entries: tuple[Entry, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "system",
        "Administration › System",
        (
            Entry("Cancellation setup", "CancellationSetup", url_name="console_setup"),
            Entry(
                "Application Settings",
                "ApplicationSettings",
                url_name="console_application_settings",
                perm="settings.view_systemsetting",
                change_perm="settings.change_systemsetting",
            ),
            Entry(
                "Settings",
                "Settings",
                url_name="console_settings",
                perm="settings.view_systemsetting",
                change_perm="settings.change_systemsetting",
            ),
            Entry("Order Status Mapping", "OrderStatusMapping", model="orders.OrderStatusMapping"),
            Entry("Setting History", "SettingChange", model="settings.SettingChange"),
            Entry(
                "Cancellable statuses",
                "CancellableStatuses",
                url_name="console_cancellable_statuses",
                perm="settings.view_systemsetting",
                change_perm="settings.change_systemsetting",
            ),
        ),
    ),
    Section(
        "jobs",
        "Administration › Jobs",
        (
            Entry("Connections", "Connection", model="integration.IntegrationConnection"),
            Entry("Job Definitions", "JobDefinition", model="integration.JobDefinition"),
            Entry("Job History", "IntegrationJob", model="integration.IntegrationJob"),
            Entry("Webhook Subscriptions", "WebhookSubscription", model="webhooks.WebhookSubscription"),
            Entry("Webhook Deliveries", "WebhookDelivery", model="webhooks.WebhookDelivery"),
        ),
    ),
    Section("websites", "Websites", (Entry("Websites", "Website", model="websites.Website"),)),
    Section(
        "sales",
        "Sales",
        (
            Entry("Orders", "Order", model="orders.Order"),
            Entry("Cancellations", "Cancellation", model="cancellations.CancellationRequest"),
            Entry("Order Drift", "OrderDrift", model="orders.OrderDrift"),
            Entry(
                "Cancellation insights",
                "CancellationInsights",
                url_name="console_insights",
                perm="cancellations.view_cancellationrequest",
            ),
            Entry("Import orders", "OrderImport", url_name="console_order_import", perm="orders.add_order"),
        ),
    ),
    Section(
        "customers",
        "Customers",
        (
            Entry("Customers", "Customer", model="customers.Customer"),
            Entry("Buyer Accounts", "BuyerAccount", model="customers.BuyerAccount"),
        ),
    ),
    Section(
        "users",
        "Administration › Users",
        (
            Entry("Users", "User", model="auth.User"),
            Entry("Admin Roles", "Group", model="auth.Group"),
        ),
    ),
)

# Singular names the guide uses ("Add New Job Definition"), keyed by model label.
OBJECT_NAMES = {
    "orders.OrderStatusMapping": "Order Status Mapping",
    "settings.SettingChange": "Setting Change",
    "integration.IntegrationConnection": "Connection",
    "integration.JobDefinition": "Job Definition",
    "integration.IntegrationJob": "Job",
    "websites.Website": "Website",
    "orders.Order": "Order",
    "cancellations.CancellationRequest": "Cancellation",
    "orders.OrderDrift": "Order Drift",
    "customers.Customer": "Customer",
    "customers.BuyerAccount": "Buyer Account",
    "auth.User": "User",
    "auth.Group": "Admin Role",
    "webhooks.WebhookSubscription": "Webhook Subscription",
    "webhooks.WebhookDelivery": "Webhook Delivery",
}


def section_of(model_label: str) -> tuple[Section, Entry] | None:
    for section in SECTIONS:
        for entry in section.entries:
            if entry.model == model_label:
                return section, entry
    return None
