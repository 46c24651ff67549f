from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save


def _user_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    # A signal, not a call in each place: passwords change through Django's own forms and commands
    # (the console's Change password, `manage changepassword`) as well as ours.
    if created or raw:
        return
    from countermand.accounts.services import user_saved_tokens_revoke

    user_saved_tokens_revoke(user=instance)


class AccountsConfig(AppConfig):
    """Signing in: login throttling and the REST API's bearer tokens (revoked when the password changes or the
    user is deactivated)."""

    name = "countermand.accounts"
    label = "accounts"

    def ready(self) -> None:
        post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.user_tokens_revoke")
