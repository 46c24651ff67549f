"""The Sandbox ERP's record of cancellations, taken over from the integration app with its table
(`integration_sandboxerpcancellation`): on a database that has it, nothing is created."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("integration", "0004_sandbox_erp_moves_out")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SandboxErpCancellation",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("idempotency_key", models.CharField(max_length=100, unique=True)),
                        ("order_number", models.CharField(db_index=True, max_length=50)),
                        ("http_status", models.PositiveIntegerField()),
                        ("answer", models.JSONField(default=dict)),
                        ("delivery_count", models.PositiveIntegerField(default=1)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("last_delivery_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={"ordering": ["-id"], "db_table": "integration_sandboxerpcancellation"},
                )
            ],
            database_operations=[],
        )
    ]
