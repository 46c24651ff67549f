from django.urls import path

from countermand.sandbox_erp import views

app_name = "sandbox_erp"
urlpatterns = [
    path("sandbox-erp/orders/<str:order_number>/cancel", views.sandbox_order_cancel, name="sandbox-order-cancel"),
    path("sandbox-erp/customers", views.sandbox_customers, name="sandbox-customers"),
]
