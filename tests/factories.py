"""Test data factories (factory_boy), shared by every test package."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from countermand.customers.models import BuyerAccount, Customer
from countermand.integration.models import IntegrationConnection, JobDefinition, JobDefinitionParameter
from countermand.orders.models import Order, OrderLine, OrderStatusMapping
from countermand.websites.models import Website


class WebsiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Website
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Store {n}")
    domain = factory.LazyAttribute(lambda o: f"{o.name.lower().replace(' ', '-')}.example.com")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("customer_number",)

    customer_number = factory.Sequence(lambda n: f"C{9000 + n}")
    name = factory.Sequence(lambda n: f"Customer {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda o: o.username)
    password = factory.django.Password("secret-pass-1")


class StaffFactory(UserFactory):
    is_staff = True
    username = factory.Sequence(lambda n: f"staff{n}")


class BuyerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuyerAccount
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    customer = factory.SubFactory(CustomerFactory)

    @factory.post_generation
    def websites(self, create, extracted, **kwargs):
        if create and extracted:
            self.websites.add(*extracted)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    web_order_number = factory.Sequence(lambda n: f"W{100000 + n}")
    erp_order_number = factory.Sequence(lambda n: f"E{500000 + n}")
    website = factory.SubFactory(WebsiteFactory)
    customer = factory.SubFactory(CustomerFactory)
    order_date = factory.LazyFunction(datetime.date.today)
    status = "Submitted"
    total = Decimal("100.00")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    product_number = "WID-1"
    quantity_ordered = Decimal(1)
    unit_price = Decimal("10.00")


class MappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderStatusMapping
        django_get_or_create = ("erp_order_status",)

    erp_order_status = "Submitted"
    display_name = factory.LazyAttribute(lambda o: o.erp_order_status)
    allow_cancellation = True


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationConnection
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"ERP {n}")
    type_name = "WebService"
    url = "http://127.0.0.1:9/erp"
    timeout_seconds = 5


class JobDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobDefinition
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = "OrderCancel"
    job_type = JobDefinition.JobType.EXECUTION
    connection = factory.SubFactory(ConnectionFactory)
    integration_processor = "WebServiceOrderCancel"
    max_retries = 3
    retry_backoff_seconds = 1

    @factory.post_generation
    def order_number_parameter(self, create, extracted, **kwargs):
        if create and extracted is not False:
            JobDefinitionParameter.objects.get_or_create(
                job_definition=self, name="OrderNumber", defaults={"value_type": "String", "prompt": "Order Number"}
            )
