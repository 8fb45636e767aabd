"""The demo's contacts: recorded once, worklists computed, every status on show."""

import pytest

from hearth.care import worklists
from hearth.care.demo import load_demo_care
from hearth.care.models import Due, ServiceRecord, ServiceType
from hearth.core import time


def test_demo_contacts_need_demo_mode(db, settings):
    settings.HEARTH_DEMO = False
    with pytest.raises(RuntimeError):
        load_demo_care()


@pytest.mark.django_db
def test_demo_contacts_recorded_once(settings):
    from hearth.registry.demo import load_demo

    settings.HEARTH_DEMO = True
    load_demo(persons=600, seed=3)
    n = load_demo_care()
    assert n == ServiceRecord.objects.for_system().count() > 5
    check = ServiceType.objects.get(code="health_check")
    rows = list(Due.objects.for_system().filter(service=check))
    today = time.today()
    assert {worklists.status_of(r, check, today) for r in rows} >= {"not_offered", "upcoming", "overdue"}
    assert load_demo_care() == 0  # a second run records nothing more
