"""Operations endpoints: /metrics (Prometheus), /healthz (alive), /readyz (ready for traffic).

/metrics is open unless the operator sets METRICS_TOKEN (COUNTERMAND_METRICS_TOKEN: the scraper sends
`Authorization: Bearer <token>`) and/or METRICS_ALLOW (COUNTERMAND_METRICS_ALLOW: client addresses or networks,
e.g. `10.0.0.0/8,127.0.0.1`); with both set, a request must pass both.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from countermand.integration.metrics import metrics_exposition

logger = logging.getLogger(__name__)


def _networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(entry, strict=False) for entry in entries]
    except ValueError as exc:
        raise ImproperlyConfigured(f"COUNTERMAND_METRICS_ALLOW: {exc}") from None


def metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """Why this request may not read /metrics (401 or 403), or None when it may."""
    allow: list[str] = list(getattr(settings, "METRICS_ALLOW", []) or [])
    if allow:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
        except ValueError:
            address = None
        if address is None or not any(address in network for network in _networks(allow)):
            logger.warning("refused /metrics to %s: not in COUNTERMAND_METRICS_ALLOW", request.META.get("REMOTE_ADDR"))
            return JsonResponse({"code": "FORBIDDEN", "message": "This address may not read the metrics."}, status=403)
    token: str = getattr(settings, "METRICS_TOKEN", "") or ""
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = JsonResponse(
                {"code": "NOT_AUTHENTICATED", "message": "Send the metrics token as `Authorization: Bearer <token>`."},
                status=401,
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return None


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    from prometheus_client import CONTENT_TYPE_LATEST

    refusal = metrics_refusal(request)
    if refusal is not None:
        return refusal
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
