from django.urls import include, path

from countermand.console.sites import console_site
from countermand.project import health
from countermand.storefront import views as storefront_views

# A database outage met outside a view answers 503 too (countermand.core.outage).
handler500 = "countermand.project.middleware.server_error"

urlpatterns = [
    path("", storefront_views.home, name="home"),  # the storefront's front page, for buyers
    path("admin/", console_site.urls),  # the Admin Console (countermand.console.sites)
    path("metrics", health.metrics, name="metrics"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("countermand.sandbox_erp.urls")),  # /sandbox-erp/
    path("", include("countermand.console.urls")),
    path("api/", include("countermand.api.urls")),
    path("", include("countermand.storefront.urls")),  # /account/…, /orders/…
]
