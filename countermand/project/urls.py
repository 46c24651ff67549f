from django.contrib import admin
from django.urls import include, path

from countermand.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("", include("countermand.integration.urls")),  # /sandbox-erp/, /metrics, /healthz, /readyz
    path("", include("countermand.console.urls")),
    path("api/", include("countermand.api.urls")),
    path("", include("countermand.storefront.urls")),  # /account/…, /orders/…
]
