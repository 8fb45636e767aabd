"""Worklists computed from the catalogue and the records, in the database and in Python alike."""

from datetime import date, timedelta

import pytest

from hearth.accounts.roles import Role
from hearth.care import schedule, services, worklists
from hearth.care.models import Due, Outcome, Schedule
from hearth.core import time
from hearth.registry.models import EventKind, LifeEvent
from hearth.testing import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "months", "want"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 8, 31), 3, date(2024, 11, 30)),
        (date(2024, 11, 15), 36, date(2027, 11, 15)),
        (date(2024, 12, 31), 2, date(2025, 2, 28)),
    ],
)
def test_add_months_in_the_database_equals_python(world, catalogue, day, months, want):
    from hearth.care.models import ServiceRecord

    assert schedule.add_months(day, months) == want
    person = world.persons["A1a"]
    service = catalogue["health_check"]
    ServiceRecord.objects.create(
        person=person, service=service, service_version=1, occurred_on=day, outcome=Outcome.DONE,
        place_path=person.place_path, recorded_by=world.grants[Role.COMMUNITY_OFFICER], consent=True,
    )  # fmt: skip
    service.interval_months = months
    service.save()
    schedule.recompute(service, as_of=date(2024, 1, 1), persons=[person.pk])
    assert Due.objects.for_system().get(service=service, person=person).due_on == want


def test_periodic_service_due_now_when_never_offered_then_after_the_interval(world, catalogue):
    service = catalogue["health_check"]  # women 15–49, every 12 months
    today = time.today()
    n = schedule.recompute(service, as_of=today)
    eligible = [p for p in world.persons.values() if 15 <= time.age_on(p.birth_date, today) <= 49]
    assert n == len(eligible) > 0
    person = world.persons["A1a"]
    row = Due.objects.for_system().get(service=service, person=person)
    assert (row.due_on, row.offered, row.last_on) == (None, False, None)  # due now, never offered
    assert worklists.status_of(row, service, today) == "not_offered"

    officer = world.actor(Role.COMMUNITY_OFFICER)
    day = today - timedelta(days=10)
    _record, created = services.record_contact(
        actor=officer, person=person, service=service, occurred_on=day, outcome=Outcome.DONE, consent=True,
        data={"result": "未见异常"},
    )  # fmt: skip
    assert created
    row = Due.objects.for_system().get(service=service, person=person)
    assert (row.due_on, row.offered, row.last_on, row.last_outcome) == (
        schedule.add_months(day, 12), True, day, Outcome.DONE,
    )  # fmt: skip
    assert worklists.status_of(row, service, today) == "upcoming"


def test_not_reached_keeps_the_person_due_and_declined_closes_the_cycle(world, catalogue):
    service = catalogue["health_check"]
    person = world.persons["A1a"]
    officer = world.actor(Role.COMMUNITY_OFFICER)
    today = time.today()
    schedule.recompute(service, as_of=today)
    services.record_contact(
        actor=officer, person=person, service=service, occurred_on=today - timedelta(days=3),
        outcome=Outcome.NOT_REACHED,
    )  # fmt: skip
    row = Due.objects.for_system().get(service=service, person=person)
    assert row.offered and row.last_outcome == Outcome.NOT_REACHED and row.due_on is None
    assert worklists.status_of(row, service, today) == "due"
    services.record_contact(
        actor=officer, person=person, service=service, occurred_on=today, outcome=Outcome.DECLINED
    )
    row = Due.objects.for_system().get(service=service, person=person)
    assert row.due_on == schedule.add_months(today, 12)  # no make-up, no reminders this cycle
    assert worklists.status_of(row, service, today) == "upcoming"


def test_one_off_service_leaves_the_list_once_closed(world, catalogue):
    service = catalogue["health_check"]
    service.schedule, service.interval_months = Schedule.ONCE, None
    service.save()
    person = world.persons["A1a"]
    assert schedule.recompute(service, persons=[person.pk]) == 1
    services.record_contact(
        actor=world.actor(Role.COMMUNITY_OFFICER), person=person, service=service, outcome=Outcome.DONE,
        consent=True,
    )  # fmt: skip
    assert not Due.objects.for_system().filter(service=service, person=person).exists()


def test_event_windows_after_childbirth(world, catalogue):
    service = catalogue["postnatal_visit"]  # days 3–7 and 28–30 after a childbirth
    person = world.persons["A1a"]
    today = time.today()
    born = today - timedelta(days=5)
    LifeEvent.objects.create(
        person=person, kind=EventKind.CHILDBIRTH, occurred_on=born, source="counter",
        recorded_by=world.grants[Role.COMMUNITY_OFFICER],
    )  # fmt: skip
    schedule.recompute(service, as_of=today)
    rows = list(Due.objects.for_system().filter(service=service).order_by("due_on"))
    assert [(r.person_id, r.due_on, r.window_end) for r in rows] == [
        (person.pk, born + timedelta(days=3), born + timedelta(days=7)),
        (person.pk, born + timedelta(days=28), born + timedelta(days=30)),
    ]
    assert [worklists.status_of(r, service, today) for r in rows] == ["due", "upcoming"]
    # A visit on day 4 closes the first window only.
    services.record_contact(
        actor=world.actor(Role.COMMUNITY_OFFICER), person=person, service=service,
        occurred_on=born + timedelta(days=4), outcome=Outcome.DONE, data={"result": "未见异常"},
    )  # fmt: skip
    rows = list(Due.objects.for_system().filter(service=service))
    assert [(r.due_on, r.last_on) for r in rows] == [(born + timedelta(days=28), None)]
    # Past its window the visit is overdue.
    assert worklists.status_of(rows[0], service, born + timedelta(days=31)) == "overdue"


def test_household_visit_targets_household_heads(world, catalogue):
    from hearth.registry.codes import RelationToHead
    from hearth.registry.services import household_set

    service = catalogue["household_visit"]
    schedule.recompute(service)
    assert not Due.objects.for_system().filter(service=service).exists()
    person = world.persons["A1a"]
    household_set(actor=SYSTEM, dwelling=person.dwelling, head=person, members={person: RelationToHead.HEAD})
    schedule.recompute(service)
    assert list(Due.objects.for_system().filter(service=service).values_list("person_id", flat=True)) == [
        person.pk
    ]


def test_counts_by_status_and_scope(world, catalogue):
    service = catalogue["health_check"]
    today = time.today()
    schedule.recompute(service, as_of=today)
    officer = world.actor(Role.COMMUNITY_OFFICER)  # 祥和社区 only
    counts = worklists.counts(officer, service, as_of=today)
    in_scope = Due.objects.visible_to(officer).filter(service=service).count()
    assert counts["not_offered"] == in_scope > 0
    assert counts["overdue"] == counts["due"] == counts["upcoming"] == 0
    assert in_scope < Due.objects.for_system().filter(service=service).count()
    volunteer = world.actor(Role.BUILDING_VOLUNTEER)
    assert service not in services.services_for(volunteer)
    assert catalogue["household_visit"] in services.services_for(volunteer)


def test_recompute_writes_only_what_changed(world, catalogue):
    service = catalogue["health_check"]
    today = time.today()
    schedule.recompute(service, as_of=today)
    before = {r.person_id: r.pk for r in Due.objects.for_system().filter(service=service)}
    person = world.persons["A1a"]
    services.record_contact(
        actor=world.actor(Role.COMMUNITY_OFFICER), person=person, service=service, outcome=Outcome.DONE,
        consent=True,
    )  # fmt: skip
    n = schedule.recompute(service, as_of=today + timedelta(days=1))
    after = {r.person_id: r.pk for r in Due.objects.for_system().filter(service=service)}
    assert n == len(after) == len(before)
    # Rows that did not change keep their ids: they were not deleted and written again.
    assert {k: v for k, v in after.items() if k != person.pk} == {
        k: v for k, v in before.items() if k != person.pk
    }


@pytest.mark.parametrize("status", list(worklists.STATUSES))
def test_status_query_equals_python(world, catalogue, status):
    service = catalogue["postnatal_visit"]
    person = world.persons["A1a"]
    today = time.today()
    for days in (2, 10, 29, 60):
        LifeEvent.objects.create(
            person=person, kind=EventKind.CHILDBIRTH, occurred_on=today - timedelta(days=days), source="counter",
            recorded_by=world.grants[Role.COMMUNITY_OFFICER],
        )  # fmt: skip
    schedule.recompute(service, as_of=today)
    periodic = catalogue["health_check"]
    schedule.recompute(periodic, as_of=today)
    for s in (service, periodic):
        rows = list(Due.objects.for_system().filter(service=s))
        for as_of in (today - timedelta(days=40), today, today + timedelta(days=20)):
            want = {r.pk for r in rows if worklists.status_of(r, s, as_of) == status}
            got = set(
                Due.objects.for_system().filter(service=s).filter(worklists.status_q(s, status, as_of))
                .values_list("pk", flat=True)
            )  # fmt: skip
            assert got == want, (s.code, as_of)
