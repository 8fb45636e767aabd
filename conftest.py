"""The shared fixture tree used by every app's tests (see src/hearth/testing.py)."""

import pytest

from hearth.testing import build_world


@pytest.fixture
def world(db):
    """Two districts, sub-districts, communities, buildings, units, a facility, persons, one user per role."""
    return build_world()


@pytest.fixture
def login(client):
    """login(role) logs the test client in under that role's grant, second factor given."""

    def _login(world, role, c=None):
        c = c or client
        world.login(c, role)
        return c

    return _login


@pytest.fixture(autouse=True)
def _english_off(settings):
    settings.LANGUAGE_CODE = "zh-hans"
