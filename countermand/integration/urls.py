from django.urls import path

from countermand.integration import views

app_name = "integration"
urlpatterns = [
    path("sandbox-erp/orders/<str:order_number>/cancel", views.sandbox_order_cancel, name="sandbox-order-cancel"),
    path("metrics", views.metrics, name="metrics"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
