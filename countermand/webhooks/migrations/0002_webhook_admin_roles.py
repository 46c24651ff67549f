"""The administrator roles (api/0002_admin_roles) over webhooks: every role may view subscriptions and
deliveries; the Integration admin may also add, change, delete and test subscriptions and redeliver."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READ_ONLY = "Read-only admin"
ORDER_ADMIN = "Order admin"
INTEGRATION_ADMIN = "Integration admin"


def grant(apps, schema_editor):
    app_config = apps.get_app_config("webhooks")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    webhooks = Permission.objects.filter(content_type__app_label="webhooks")
    viewing = list(webhooks.filter(codename__startswith="view_"))
    for name in (READ_ONLY, ORDER_ADMIN):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*viewing)
    group, _ = Group.objects.get_or_create(name=INTEGRATION_ADMIN)
    group.permissions.add(*webhooks)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    webhooks = list(Permission.objects.filter(content_type__app_label="webhooks"))
    for group in Group.objects.filter(name__in=[READ_ONLY, ORDER_ADMIN, INTEGRATION_ADMIN]):
        group.permissions.remove(*webhooks)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_subscriptions_and_deliveries"),
        ("api", "0002_admin_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
