"""REST API routes (DESIGN §7). Paths have no trailing slash, as in the original system."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from countermand.api.errors import api_not_found
from countermand.api.views import admin, auth, customers, orders, webhooks

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("orderstatusmappings", admin.OrderStatusMappingViewSet, basename="admin-orderstatusmapping")
router.register("websites", admin.WebsiteViewSet, basename="admin-website")
router.register("integrationconnections", admin.ConnectionViewSet, basename="admin-integrationconnection")
router.register("jobdefinitions", admin.JobDefinitionViewSet, basename="admin-jobdefinition")
router.register("integrationjobs", admin.IntegrationJobViewSet, basename="admin-integrationjob")
router.register("cancellations", admin.CancellationViewSet, basename="admin-cancellation")
router.register("webhooksubscriptions", webhooks.WebhookSubscriptionViewSet, basename="admin-webhooksubscription")
router.register("webhookdeliveries", webhooks.WebhookDeliveryViewSet, basename="admin-webhookdelivery")
router.register("customers", customers.CustomerViewSet, basename="admin-customer")
router.register("buyers", customers.BuyerViewSet, basename="admin-buyer")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/", SpectacularSwaggerView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"), name="docs"
    ),
    path("v1/auth/token", auth.TokenView.as_view(), name="token"),
    path("v1/orders", orders.OrderListView.as_view(), name="orders"),
    path("v1/orders/<str:orderNumber>/cancel", orders.OrderCancelView.as_view(), name="order-cancel"),
    path("v1/orders/<str:orderNumber>", orders.OrderDetailView.as_view(), name="order"),
    path("v1/orderstatusmappings", orders.OrderStatusMappingListView.as_view(), name="orderstatusmappings"),
    path("v1/admin/settings", admin.SettingListView.as_view(), name="admin-settings"),
    path("v1/admin/settings/<str:name>", admin.SettingDetailView.as_view(), name="admin-setting"),
    path("v1/admin/orders", admin.AdminOrderListView.as_view(), name="admin-orders"),
    path("v1/admin/orders/<str:orderNumber>/cancel", admin.AdminOrderCancelView.as_view(), name="admin-order-cancel"),
    path("v1/admin/orders/<str:orderNumber>", admin.AdminOrderDetailView.as_view(), name="admin-order"),
    path("v1/admin/setup/check", admin.SetupCheckView.as_view(), name="admin-setup-check"),
    path("v1/admin/", include(router.urls)),
    re_path(r"^", api_not_found),  # every other path under /api/ (even with line breaks) answers in JSON
]
