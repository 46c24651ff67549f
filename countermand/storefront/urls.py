from django.contrib.auth import views as auth_views
from django.urls import path

from countermand.storefront import views

app_name = "storefront"
urlpatterns = [
    path("account/login/", views.SignInView.as_view(), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<str:number>/progress/", views.order_progress, name="order-progress"),
]
