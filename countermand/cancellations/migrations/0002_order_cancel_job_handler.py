"""Jobs queued before jobs named their handler: mark every job that carries a CancellationRequest
(same order, same idempotency key) as an OrderCancel job, so the engine keeps telling the request."""

from django.db import migrations
from django.db.models import Exists, OuterRef


def mark_order_cancel_jobs(apps, schema_editor):
    IntegrationJob = apps.get_model("integration", "IntegrationJob")
    CancellationRequest = apps.get_model("cancellations", "CancellationRequest")
    carried = CancellationRequest.objects.filter(
        order_id=OuterRef("order_id"), idempotency_key=OuterRef("idempotency_key")
    )
    IntegrationJob.objects.filter(handler="", order__isnull=False).filter(Exists(carried)).update(
        handler="OrderCancel"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cancellations", "0001_initial"),
        ("integration", "0003_integrationjob_handler"),
    ]

    operations = [migrations.RunPython(mark_order_cancel_jobs, migrations.RunPython.noop)]
