"""ApiToken and LoginFailure, taken over from the api app with their tables (api_apitoken, api_loginfailure).

The tables exist already (api's 0001_initial creates them), so only Django's model state is created
here. The content types (and with them the permissions granted on these models) move from the api app
to this one.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("apitoken", "loginfailure")


def content_types_move(apps, schema_editor, *, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_to_accounts(apps, schema_editor):
    content_types_move(apps, schema_editor, source="api", target="accounts")


def content_types_to_api(apps, schema_editor):
    content_types_move(apps, schema_editor, source="accounts", target="api")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("api", "0003_move_sign_in_models_to_accounts"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LoginFailure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("username", models.CharField(db_index=True, max_length=150)),
                        ("ip_address", models.GenericIPAddressField(blank=True, db_index=True, null=True)),
                        ("failed_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                    ],
                    options={
                        "db_table": "api_loginfailure",
                        "ordering": ["-failed_at"],
                    },
                ),
                migrations.CreateModel(
                    name="ApiToken",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("key_hash", models.CharField(max_length=64, unique=True)),
                        (
                            "prefix",
                            models.CharField(
                                help_text="The token's first characters, to recognise it in lists.", max_length=12
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField(db_index=True)),
                        ("last_used_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="api_tokens",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "api_apitoken",
                        "ordering": ["-created_at"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_accounts, content_types_to_api),
    ]
