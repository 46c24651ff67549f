from django.contrib.auth import views as auth_views
from django.urls import path

from countermand.storefront import views

app_name = "storefront"
urlpatterns = [
    path("account/login/", views.SignInView.as_view(), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("orders/", views.order_list, name="orders"),
    # `path:` so that a number stored before order numbers were checked (one holding a `/`) still has its
    # pages instead of breaking *My orders* (NoReverseMatch); the cancel and progress pages come first.
    path("orders/<path:number>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<path:number>/progress/", views.order_progress, name="order-progress"),
    path("orders/<path:number>/", views.order_detail, name="order"),
]
