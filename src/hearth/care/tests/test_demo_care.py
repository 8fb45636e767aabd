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


@pytest.mark.django_db
def test_demo_check_day_and_pre_pregnancy_enrolments_made_once(settings):
    from hearth.care import checkdays
    from hearth.care.demo import load_demo_checkday
    from hearth.care.models import CheckDay, Invitation
    from hearth.preconception.demo import load_demo_preconception
    from hearth.preconception.models import Enrolment, Examination, Status
    from hearth.registry.demo import load_demo

    settings.HEARTH_DEMO = True
    load_demo(persons=600, seed=3)
    load_demo_care()
    taps = load_demo_checkday()
    day = CheckDay.objects.for_system().get()
    invited = Invitation.objects.for_system().filter(check_day=day).count()
    rates = checkdays.checkday_rates(day)
    assert taps > 5 and invited >= taps and rates.attended_same_day > 0
    assert load_demo_checkday() == 0 and CheckDay.objects.for_system().count() == 1
    assert load_demo_preconception() == 3
    statuses = set(Enrolment.objects.for_system().values_list("status", flat=True))
    assert Status.ENROLLED in statuses and len(statuses) >= 2  # one waits for the check, two examined
    assert Examination.objects.for_system().filter(needs_follow_up=True).count() == 1
    assert load_demo_preconception() == 0
