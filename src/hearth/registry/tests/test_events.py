"""Life events: the only way a person's state changes; append-only; mistakes corrected by new events."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError, InternalError, OperationalError

from hearth.accounts.actor import Actor
from hearth.audit.models import AuditEntry
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError
from hearth.places.services import place_merge
from hearth.registry import services
from hearth.registry.models import EventKind, LifeEvent, Person, PersonStatus

SYSTEM = Actor.system("test")


def _fresh(person):
    return Person.objects.for_system().select_related("dwelling__place").get(pk=person.pk)


def test_registration_writes_the_first_event(world):
    person = world.persons["A1a"]
    events = list(LifeEvent.objects.filter(person=person))
    assert [e.kind for e in events] == [EventKind.REGISTERED]


def test_death_changes_status_with_an_event_in_one_transaction(world):
    officer = world.actor("community_officer")
    person = _fresh(world.persons["A1a"])
    event = services.record_event(
        actor=officer,
        person=person,
        kind=EventKind.DEATH,
        occurred_on=date(2025, 6, 1),
        version=person.version,
        source="volunteer_report",
        reporter="邻居",
    )
    person = _fresh(person)
    assert person.status == PersonStatus.DECEASED and person.status_since == date(2025, 6, 1)
    assert event.data["changes"]["status"] == ["active", "deceased"]
    assert event.recorded_by == officer.grant
    assert AuditEntry.objects.filter(action="person.event.death").count() == 1
    # A deceased person is no longer in the default list, and takes no further events but move in.
    with pytest.raises(DomainError) as exc:
        services.record_event(
            actor=officer,
            person=person,
            kind=EventKind.MARRIAGE,
            occurred_on=date(2025, 7, 1),
            version=person.version,
        )
    assert exc.value.code == "event.inactive"


def test_a_mistaken_death_is_corrected_by_a_correcting_event(world):
    officer = world.actor("community_officer")
    person = _fresh(world.persons["A1a"])
    death = services.record_event(
        actor=officer,
        person=person,
        kind=EventKind.DEATH,
        occurred_on=date(2025, 6, 1),
        version=person.version,
    )
    person = _fresh(person)
    correction = services.correct_event(actor=officer, event=death, reason="报错了人", version=person.version)
    person = _fresh(person)
    assert person.status == PersonStatus.ACTIVE and person.status_since is None
    assert correction.corrects == death and correction.kind == EventKind.CORRECTION
    # History keeps both; correcting twice is refused.
    assert LifeEvent.objects.filter(person=person).count() == 3
    with pytest.raises(DomainError) as exc:
        services.correct_event(actor=officer, event=death, reason="再次", version=person.version)
    assert exc.value.code == "event.already_corrected"


def test_a_correction_refuses_when_a_later_event_changed_the_same_field(world):
    officer = world.actor("community_officer")
    person = _fresh(world.persons["A1a"])
    first = services.record_event(
        actor=officer,
        person=person,
        kind=EventKind.HUKOU_CHANGE,
        occurred_on=date(2024, 1, 1),
        version=person.version,
        details={"hukou_code": "410102"},
    )
    person = _fresh(person)
    services.record_event(
        actor=officer,
        person=person,
        kind=EventKind.HUKOU_CHANGE,
        occurred_on=date(2024, 2, 1),
        version=person.version,
        details={"hukou_code": "410105"},
    )
    with pytest.raises(DomainError) as exc:
        services.correct_event(actor=officer, event=first, reason="录入错误", version=None)
    assert exc.value.code == "event.superseded" and "户籍地" in str(exc.value.message)


def test_marriage_links_spouses_and_divorce_unlinks(world):
    officer = world.actor("community_officer")
    wife = _fresh(world.persons["A1a"])
    born = date(1985, 5, 5)
    husband = services.person_register(
        actor=officer,
        values={
            "name": "丈夫",
            "sex": "M",
            "birth_date": born,
            "id_number": citizen_id.make("410103", born, 11),
            "dwelling": world.dwellings["A1a"],
        },
    )
    services.record_event(
        actor=officer,
        person=wife,
        kind=EventKind.MARRIAGE,
        occurred_on=date(2020, 5, 20),
        version=wife.version,
        details={"spouse": husband},
    )
    wife, husband = _fresh(wife), _fresh(husband)
    assert wife.spouse == husband and husband.spouse == wife
    assert wife.marital_status == husband.marital_status == "20"
    services.record_event(
        actor=officer, person=wife, kind=EventKind.DIVORCE, occurred_on=date(2023, 1, 1), version=wife.version
    )
    wife = _fresh(wife)
    assert wife.spouse is None and wife.marital_status == "40"


def test_a_spouse_out_of_scope_is_linked_but_not_changed(world):
    officer = world.actor("community_officer")
    wife = _fresh(world.persons["A1a"])
    far = _fresh(world.persons["B1a"])
    services.record_event(
        actor=officer,
        person=wife,
        kind=EventKind.MARRIAGE,
        occurred_on=date(2020, 5, 20),
        version=wife.version,
        details={"spouse": far},
    )
    assert _fresh(far).version == far.version  # the other district's record is not written
    from hearth.registry.selectors import relatives

    links = relatives(officer, _fresh(wife))
    assert links == [
        {"relation": "配偶", "name": far.name[0] + "*" * (len(far.name) - 1), "id": None, "openable": False}
    ]


def test_birth_registers_the_child_and_records_childbirth_for_the_mother(world):
    officer = world.actor("community_officer")
    mother = _fresh(world.persons["A1a"])
    born = time.today() - timedelta(days=3)
    child = services.register_birth(
        actor=officer, mother=mother, values={"name": "新宝", "sex": "M", "birth_date": born}
    )
    assert child.mother == mother and child.dwelling == mother.dwelling and child.marital_status == "10"
    assert LifeEvent.objects.get(person=child).kind == EventKind.BIRTH
    assert LifeEvent.objects.filter(person=mother, kind=EventKind.CHILDBIRTH, occurred_on=born).exists()


def test_dwelling_change_moves_the_scope_path(world):
    officer = world.actor("subdistrict_officer")
    person = _fresh(world.persons["A1a"])
    services.record_event(
        actor=officer,
        person=person,
        kind=EventKind.DWELLING_CHANGE,
        occurred_on=date(2025, 1, 1),
        version=person.version,
        details={"dwelling": world.dwellings["A1b"]},
    )
    person = _fresh(person)
    assert person.place_path == world.places["A1b"].path
    assert not Person.objects.visible_to(world.actor("community_officer")).filter(pk=person.pk).exists()


def test_a_dwelling_outside_scope_is_refused(world):
    officer = world.actor("community_officer")
    person = _fresh(world.persons["A1a"])
    with pytest.raises(DomainError) as exc:
        services.record_event(
            actor=officer,
            person=person,
            kind=EventKind.DWELLING_CHANGE,
            occurred_on=date(2025, 1, 1),
            version=person.version,
            details={"dwelling": world.dwellings["B1a"]},
        )
    assert exc.value.field == "dwelling"
    assert _fresh(person).dwelling == world.dwellings["A1a"]
    assert LifeEvent.objects.filter(person=person).count() == 1


def test_merging_places_moves_persons_paths(world):
    into = world.places["A1b"]
    services_actor = world.actor("subdistrict_officer")
    place_merge(actor=services_actor, place=world.places["A1a"], into=into, on=time.today())
    person = _fresh(world.persons["A1a-b1-u1"])
    assert person.place_path.startswith(into.path)
    assert person.place_path == person.dwelling.place.path


def test_stale_edit_names_who_changed_it(world):
    a = world.actor("community_officer")
    b = world.actor("assistant")
    person = _fresh(world.persons["A1a"])
    services.person_update(
        actor=a, person=_fresh(person), values={"phone": "13812345678"}, version=person.version
    )
    with pytest.raises(DomainError) as exc:
        services.person_update(
            actor=b, person=_fresh(person), values={"occupation": "教师"}, version=person.version
        )
    assert exc.value.code == "person.stale"
    assert world.users["community_officer"].full_name in str(exc.value.message)
    assert _fresh(person).phone == "13812345678" and _fresh(person).occupation == ""


def test_name_change_keeps_the_former_name_and_recomputes_pinyin(world):
    officer = world.actor("community_officer")
    person = _fresh(world.persons["A1a"])
    services.person_update(actor=officer, person=person, values={"name": "曾凡"}, version=person.version)
    person = _fresh(person)
    assert person.former_names == ["居民A1a"] and "zengfan" in person.pinyin.split()
    event = LifeEvent.objects.filter(person=person).latest("id")
    assert event.kind == EventKind.DETAILS_CHANGE and event.data["changes"]["name"] == ["居民A1a", "曾凡"]


def test_id_change_is_recorded_without_its_values(world):
    officer = world.actor("community_officer")
    person = _fresh(world.persons["A1a"])
    new_number = citizen_id.make("410102", person.birth_date, 2 * 77)
    services.person_update(
        actor=officer, person=person, values={"id_number": new_number}, version=person.version
    )
    event = LifeEvent.objects.filter(person=person).latest("id")
    assert event.data["changes"] == {"id_number": ["***", "***"]}
    assert new_number not in str(AuditEntry.objects.filter(action="person.update").latest("id").data)


def test_bad_phone_is_refused_naming_the_field(world):
    officer = world.actor("community_officer")
    person = _fresh(world.persons["A1a"])
    with pytest.raises(DomainError) as exc:
        services.person_update(
            actor=officer, person=person, values={"phone": "12345"}, version=person.version
        )
    assert exc.value.field == "phone" and "电话" in str(exc.value.message)


@pytest.mark.django_db(transaction=False)
def test_events_table_refuses_update_and_delete(world):
    event = LifeEvent.objects.filter(person=world.persons["A1a"]).first()
    for sql in (
        f"UPDATE registry_lifeevent SET kind = 'death' WHERE id = {event.pk}",
        f"DELETE FROM registry_lifeevent WHERE id = {event.pk}",
    ):
        with (
            pytest.raises((IntegrityError, InternalError, OperationalError, DatabaseError)),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql)
    assert LifeEvent.objects.get(pk=event.pk).kind == EventKind.REGISTERED


def test_event_page_records_an_event(world, client, login):
    login(world, "community_officer")
    person = _fresh(world.persons["A1a"])
    r = client.post(
        f"/persons/{person.public_id}/events/new/",
        {
            "kind": "move_out",
            "occurred_on": "2025-02-01",
            "source": "counter",
            "version": person.version,
            "to_region": "440305",
        },
    )
    assert r.status_code == 302
    assert _fresh(person).status == PersonStatus.DEPARTED
    page = client.get(f"/persons/{person.public_id}/").content.decode()
    assert "迁出" in page
    # The timeline names changed fields as people read them, not as the code does.
    assert "状态日期" in page and "status_since" not in page


def test_event_page_rejects_a_future_date_and_writes_nothing(world, client, login):
    login(world, "community_officer")
    person = _fresh(world.persons["A1a"])
    future = (time.today() + timedelta(days=2)).isoformat()
    r = client.post(
        f"/persons/{person.public_id}/events/new/",
        {"kind": "death", "occurred_on": future, "source": "counter", "version": person.version},
    )
    assert r.status_code == 200 and "不能晚于今天" in r.content.decode()
    assert _fresh(person).status == PersonStatus.ACTIVE
    assert LifeEvent.objects.filter(person=person).count() == 1


def test_events_api_feed_is_scoped_and_names_fields_only(world, client, login):
    officer = world.actor("community_officer")
    person = _fresh(world.persons["A1a"])
    services.person_update(
        actor=officer, person=person, values={"phone": "13812345678"}, version=person.version
    )
    login(world, "community_officer")
    items = client.get("/api/v1/events?kind=details_change").json()["items"]
    assert [i["changes"] for i in items] == [["phone"]]
    assert "13812345678" not in str(items)
    ids = {i["person_id"] for i in client.get("/api/v1/events?limit=500").json()["items"]}
    assert str(world.persons["B1a"].public_id) not in ids
