"""Operations endpoints: /metrics (Prometheus), /healthz (alive), /readyz (ready for traffic)."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from countermand.integration.metrics import metrics_exposition


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    from prometheus_client import CONTENT_TYPE_LATEST

    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive and serving (no database access)."""
    return JsonResponse({"status": "ok"})


_migrated = False


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready for traffic: the database answers and every migration is applied."""
    global _migrated
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrated:
            from django.db.migrations.executor import MigrationExecutor

            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if pending:
                names = [f"{m.app_label}.{m.name}" for m, _ in pending]
                return JsonResponse({"status": "migrations pending", "pending": names}, status=503)
            _migrated = True
    except DatabaseError as exc:
        return JsonResponse({"status": "database unavailable", "error": str(exc)[:300]}, status=503)
    return JsonResponse({"status": "ready"})
