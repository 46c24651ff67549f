"""The admin roles (api/0002_admin_roles) and customers: the integration admin manages customers and buyers,
the order admin manages buyers (customer service creates and invites them); the read-only admin already
views both (every view_* permission)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Integration admin": ["add_customer", "change_customer", "add_buyeraccount", "change_buyeraccount"],
    "Order admin": ["add_buyeraccount", "change_buyeraccount"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("customers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_customer_is_active_addresses_buyer_invited_at"),
        ("api", "0002_admin_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
