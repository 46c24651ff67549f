"""The shared demo world (tests/api/world.py): built once for the tests that use it, yet each test sees it as
built, and a test that does not use it sees none of it. The tests run in this order and depend on it."""

import pytest

from countermand.orders.models import Order
from countermand.websites.models import Website


def test_a_test_changes_and_deletes_world_rows_and_its_copy_of_the_objects(world):
    world.store.name = "Renamed"
    world.store.save()
    Order.objects.filter(web_order_number="WEB-1001").delete()
    world.users["buyer_c1000"].first_name = "Changed"


def test_the_next_test_sees_the_world_as_built(world):
    assert Website.objects.get(pk=world.store.pk).name == "Demo Store" == world.store.name
    assert Order.objects.filter(web_order_number="WEB-1001").exists()
    assert world.users["buyer_c1000"].first_name == ""


@pytest.mark.django_db(transaction=True)
def test_a_test_that_commits_sees_no_world():
    assert not Website.objects.exists()
    assert not Order.objects.exists()
    Website.objects.create(name="Committed")


def test_the_world_is_back_after_a_test_that_commits(world):
    assert sorted(Website.objects.values_list("name", flat=True)) == ["Demo Store", "Trade Counter"]


def test_a_test_without_the_world_sees_none_of_it(db):
    assert not Website.objects.exists()
