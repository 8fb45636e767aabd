import pytest

from hearth.care.models import ServiceType


@pytest.fixture
def catalogue(db):
    """The shipped catalogue (installed by the data migration), by code."""
    return {s.code: s for s in ServiceType.objects.all()}
