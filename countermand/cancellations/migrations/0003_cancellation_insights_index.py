"""An index for the insights page: cancellation requests read by date range, covering what it aggregates."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cancellations", "0002_order_cancel_job_handler"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="cancellationrequest",
            index=models.Index(
                fields=["created_at", "state", "reason_code", "resolved_at", "job"], name="cancellation_insights_idx"
            ),
        ),
    ]
