from django.urls import include, path

from countermand.console.sites import console_site
from countermand.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("admin/", console_site.urls),  # the Admin Console (countermand.console.sites)
    path("", include("countermand.integration.urls")),  # /sandbox-erp/, /metrics, /healthz, /readyz
    path("", include("countermand.console.urls")),
    path("api/", include("countermand.api.urls")),
    path("", include("countermand.storefront.urls")),  # /account/…, /orders/…
]
