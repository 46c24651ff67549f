from django.conf import settings
from django.db import models


class Customer(models.Model):
    """A bill-to account. Buyers belong to one customer."""

    customer_number = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["customer_number"]

    def __str__(self) -> str:
        return f"{self.customer_number} {self.name}"


class BuyerAccount(models.Model):
    """Links a storefront user to their customer and to the websites they may shop on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="buyer_account")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="buyers")
    websites = models.ManyToManyField("websites.Website", related_name="buyers")

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer.customer_number}"
