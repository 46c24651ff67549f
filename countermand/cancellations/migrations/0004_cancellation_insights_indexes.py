"""For the insights page: each request's website (its order's, copied), and two indexes covering what the
page aggregates, by date range of all websites or of one."""

from django.db import migrations, models
from django.db.models.deletion import PROTECT

COPY_WEBSITES = """
UPDATE cancellations_cancellationrequest SET website_id = (
    SELECT orders_order.website_id FROM orders_order WHERE orders_order.id = cancellations_cancellationrequest.order_id
)
"""


def copy_websites(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        # Checked now, not at commit: a deferred foreign-key check still pending would make PostgreSQL refuse
        # the ALTER TABLE that follows ("pending trigger events").
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    schema_editor.execute(COPY_WEBSITES)


class Migration(migrations.Migration):
    dependencies = [
        ("cancellations", "0003_channel_labels"),
        ("orders", "0001_initial"),
        ("websites", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="cancellationrequest",
            name="website",
            field=models.ForeignKey(
                null=True, db_index=False, on_delete=PROTECT, related_name="+", to="websites.website"
            ),
        ),
        migrations.RunPython(copy_websites, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="cancellationrequest",
            name="website",
            field=models.ForeignKey(db_index=False, on_delete=PROTECT, related_name="+", to="websites.website"),
        ),
        migrations.AddIndex(
            model_name="cancellationrequest",
            index=models.Index(
                fields=["created_at", "state", "reason_code", "resolved_at", "job"], name="cancellation_insights_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="cancellationrequest",
            index=models.Index(
                fields=["website", "created_at", "state", "reason_code", "resolved_at", "job"],
                name="cancellation_website_idx",
            ),
        ),
    ]
