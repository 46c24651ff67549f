from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from countermand.accounts.invitations import invitation_token_generator
from countermand.storefront import views

# Invitations and password resets (countermand/accounts/invitations.py): Django's views, our templates.
PASSWORD_SET = {"template_name": "storefront/password_set.html", "success_url": reverse_lazy("storefront:password-set")}

app_name = "storefront"
urlpatterns = [
    path("account/login/", views.SignInView.as_view(), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "account/invitation/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(token_generator=invitation_token_generator, **PASSWORD_SET),
        name="invitation",
    ),
    path(
        "account/password-reset/",
        views.PasswordResetView.as_view(
            template_name="storefront/password_reset.html",
            email_template_name="storefront/password_reset_email.txt",
            subject_template_name="storefront/password_reset_subject.txt",
            success_url=reverse_lazy("storefront:password-reset-sent"),
        ),
        name="password-reset",
    ),
    path(
        "account/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="storefront/password_reset_sent.html"),
        name="password-reset-sent",
    ),
    path(
        "account/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(**PASSWORD_SET),
        name="password-reset-confirm",
    ),
    path(
        "account/password-set/",
        auth_views.PasswordResetCompleteView.as_view(template_name="storefront/password_set_done.html"),
        name="password-set",
    ),
    path("orders/", views.order_list, name="orders"),
    # `path:` so that a number stored before order numbers were checked (one holding a `/`) still has its
    # pages instead of breaking *My orders* (NoReverseMatch); the cancel and progress pages come first.
    path("orders/<path:number>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<path:number>/progress/", views.order_progress, name="order-progress"),
    path("orders/<path:number>/", views.order_detail, name="order"),
]
