"""API tokens (stored hashed, with an expiry) and failed sign-ins (for login throttling)."""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token for the REST API. Only the SHA-256 of the token is stored; the token itself is
    shown once, when it is issued. 256 random bits make a salt unnecessary."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it in lists.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_apitoken"  # created by the api app, which held this model before
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class LoginFailure(models.Model):
    """One failed sign-in (storefront form or token endpoint), or one password-reset request. Counted per
    user name (an e-mail address for resets) and per address in a sliding window, each purpose apart; the
    rows are shared by every web process, unlike a per-process cache."""

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in", "Sign-in"
        # Every request counts, found address or not: counting only hits would tell who has an account.
        PASSWORD_RESET = "password_reset", "Password reset"

    username = models.CharField(max_length=150, db_index=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.SIGN_IN)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    failed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "api_loginfailure"  # created by the api app, which held this model before
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.failed_at:%Y-%m-%d %H:%M:%S}"
