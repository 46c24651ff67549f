from django.db import models


class Website(models.Model):
    """A storefront. Website settings override application settings."""

    name = models.CharField(max_length=200, unique=True)
    domain = models.CharField(max_length=255, blank=True, help_text="Host name the storefront answers on.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
