"""The three administrator roles as Django groups (DESIGN §8), used by the admin API and the Admin Console.

- Read-only admin: may view everything of Countermand (every `view_*` permission of its apps).
- Order admin: read-only + cancel orders (orders.change_order), force-cancel them outside the status rules
  (orders.force_cancel_order), work on cancellations (change, resend).
- Integration admin: read-only + connections, job definitions and job runs (all integration permissions),
  settings, order status mappings, websites, and importing/updating orders from the ERP (orders.add_order).

The names are in countermand/api/roles.py.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

COUNTERMAND_APPS = ("websites", "customers", "orders", "cancellations", "integration", "settings")
READ_ONLY = "Read-only admin"
ORDER_ADMIN = "Order admin"
INTEGRATION_ADMIN = "Integration admin"

ORDER_ADMIN_EXTRA = [
    ("orders", "change_order"),
    ("orders", "force_cancel_order"),
    ("cancellations", "change_cancellationrequest"),
    ("cancellations", "resend_cancellation"),
]
INTEGRATION_ADMIN_EXTRA = [
    ("settings", "add_systemsetting"),
    ("settings", "change_systemsetting"),
    ("settings", "delete_systemsetting"),
    ("orders", "add_orderstatusmapping"),
    ("orders", "change_orderstatusmapping"),
    ("orders", "delete_orderstatusmapping"),
    ("orders", "add_order"),
    ("websites", "add_website"),
    ("websites", "change_website"),
]


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(pairs):
        found = []
        for app_label, codename in pairs:
            found.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        return found

    view_all = list(
        Permission.objects.filter(content_type__app_label__in=COUNTERMAND_APPS, codename__startswith="view_")
    )
    integration_all = list(
        Permission.objects.filter(content_type__app_label="integration").exclude(codename__startswith="view_")
    )
    roles = {
        READ_ONLY: view_all,
        ORDER_ADMIN: view_all + perms(ORDER_ADMIN_EXTRA),
        INTEGRATION_ADMIN: view_all + integration_all + perms(INTEGRATION_ADMIN_EXTRA),
    }
    for name, permissions in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[READ_ONLY, ORDER_ADMIN, INTEGRATION_ADMIN]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("websites", "0001_initial"),
        ("customers", "0001_initial"),
        ("orders", "0001_initial"),
        ("cancellations", "0001_initial"),
        ("integration", "0002_engine"),
        ("settings", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
