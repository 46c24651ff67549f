from django.conf import settings
from django.db import models


class Customer(models.Model):
    """A bill-to account. Buyers belong to one customer."""

    customer_number = models.CharField(
        max_length=50, unique=True, help_text="The ERP's code for the account (Tryton: the party code)."
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    # False: the ERP no longer lists the account (or an administrator deactivated it). Customers are
    # never deleted by a refresh: their orders and buyers stay.
    is_active = models.BooleanField(default=True)
    # The ERP's addresses, as the customer refresh last read them: [{street, postalCode, city, country}].
    # A copy for display, never queried, so a JSON list rather than a table.
    addresses = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["customer_number"]

    def __str__(self) -> str:
        return f"{self.customer_number} {self.name}"


class BuyerAccount(models.Model):
    """Links a storefront user to their customer and to the websites they may shop on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="buyer_account")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="buyers")
    websites = models.ManyToManyField("websites.Website", related_name="buyers")
    # When the last invitation e-mail (a one-time link to set a password) was sent; None: never.
    invited_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer.customer_number}"
