"""The Sandbox ERP became an app of its own (`sandbox_erp`): its model leaves the engine's state; the
table stays where it is and is taken over by sandbox_erp.0001 (no data moves)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("integration", "0003_integrationjob_handler")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SandboxErpCancellation")],
            database_operations=[],
        )
    ]
