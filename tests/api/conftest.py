import pytest

from tests.api.world import World, world_build


@pytest.fixture
def fast_hashing(settings):
    """Argon2 costs ~50 ms a password; the demo users' passwords need no such strength in these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db, fast_hashing) -> World:
    return world_build()
