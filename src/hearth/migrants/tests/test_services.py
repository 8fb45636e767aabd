from datetime import date, timedelta

import pytest
from django.http import Http404

from hearth.audit.models import AuditEntry
from hearth.core import time
from hearth.core.errors import DomainError, as_list
from hearth.migrants import selectors, services
from hearth.migrants.home import rental_todos
from hearth.migrants.models import InflowRecord, Landlord, OutflowRecord, Tenancy
from hearth.registry import identity
from hearth.registry.models import LifeEvent, Person
from hearth.testing import SYSTEM

from .factories import INFLOW, OUTFLOW, dwelling, fresh, landlord, resident, tenancy


def codes(exc) -> dict[str, str]:
    return {e.code: e.field for e in as_list(exc.value)}


# --- inflow and outflow records -------------------------------------------------------------------------


def test_inflow_create_is_audited_and_leaves_residence_type_alone(world):
    officer = world.actor("community_officer")
    person = fresh(world.persons["A1a"])
    record = services.inflow_save(actor=officer, person=person, values=INFLOW, version=None)
    assert record.version == 1 and record.from_region == "411721"
    entry = AuditEntry.objects.get(action="migrants.inflow.create")
    assert entry.object_id == str(record.public_id)
    assert entry.data == {"fields": sorted(INFLOW)}
    assert entry.place_path == person.place_path
    assert fresh(person).residence_type == "hukou_resident"
    assert not LifeEvent.objects.filter(person=person, kind="details_change").exists()


def test_inflow_bad_input_names_every_field_and_writes_nothing(world):
    officer = world.actor("community_officer")
    person = fresh(world.persons["A1a"])
    bad = {
        "from_region": "991234",
        "since": time.today() + timedelta(days=1),
        "reason": "pregnancy",
        "employer": "厂" * 101,
        "housing": "tent",
        "agreement_signed": True,
        "agreement_date": None,
        "certificate_checked_on": time.today() + timedelta(days=3),
    }
    with pytest.raises(DomainError) as exc:
        services.inflow_save(actor=officer, person=person, values=bad, version=None)
    assert codes(exc) == {
        "migrants.from_region": "from_region",
        "migrants.since_future": "since",
        "migrants.reason": "reason",
        "migrants.employer_length": "employer",
        "migrants.housing": "housing",
        "migrants.agreement_date_required": "agreement_date",
        "migrants.certificate_checked_on_future": "certificate_checked_on",
    }
    messages = {e.field: str(e.message) for e in as_list(exc.value)}
    assert "来自地区" in messages["from_region"] and "流入日期" in messages["since"]
    assert not InflowRecord.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="migrants.").exists()


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"from_region": ""}, "migrants.from_region_required", "from_region"),
        ({"since": None}, "migrants.since_required", "since"),
        ({"since": date(1970, 1, 1)}, "migrants.since_too_early", "since"),
        ({"agreement_signed": False}, "migrants.agreement_date_unsigned", "agreement_date"),
        ({"housing": "dorm"}, "migrants.agreement_not_rented", "agreement_signed"),
    ],
)
def test_inflow_rules(world, change, code, field):
    with pytest.raises(DomainError) as exc:
        services.inflow_save(
            actor=world.actor("community_officer"),
            person=fresh(world.persons["A1a"]),
            values=INFLOW | change,
            version=None,
        )
    assert codes(exc) == {code: field}


def test_inflow_with_residence_checkbox_changes_the_person_through_an_event(world):
    officer = world.actor("community_officer")
    person = fresh(world.persons["A1a"])
    services.inflow_save(
        actor=officer, person=person, values=INFLOW, version=None, set_residence=True, person_version=1
    )
    person = fresh(person)
    assert person.residence_type == "inflow" and person.version == 2
    event = LifeEvent.objects.get(person=person, kind="details_change")
    assert set(event.data["changes"]) == {"residence_type"}
    assert AuditEntry.objects.get(action="person.update").data == {"fields": ["residence_type"]}


def test_stale_person_version_rolls_back_the_inflow_record_too(world):
    officer = world.actor("community_officer")
    person = fresh(world.persons["A1a"])
    with pytest.raises(DomainError) as exc:
        services.inflow_save(
            actor=officer, person=person, values=INFLOW, version=None, set_residence=True, person_version=7
        )
    assert exc.value.code == "person.stale"
    assert not InflowRecord.objects.exists()
    assert fresh(person).residence_type == "hukou_resident"


def test_two_officers_editing_one_inflow_record(world):
    officer, clerk = world.actor("community_officer"), world.actor("data_clerk")
    person = fresh(world.persons["A1a"])
    services.inflow_save(actor=officer, person=person, values=INFLOW, version=None)
    services.inflow_save(actor=officer, person=person, values=INFLOW | {"employer": "甲厂"}, version=1)
    with pytest.raises(DomainError) as exc:
        services.inflow_save(actor=clerk, person=person, values=INFLOW | {"employer": "乙厂"}, version=1)
    assert exc.value.code == "migrants.stale" and exc.value.field == "version"
    assert "测试社区计生专干" in str(exc.value.message)
    record = InflowRecord.objects.get()
    assert record.employer == "甲厂" and record.version == 2
    assert AuditEntry.objects.get(action="migrants.inflow.update").data == {"fields": ["employer"]}
    # A second "create" from a page opened before the record existed is stale too.
    with pytest.raises(DomainError) as exc:
        services.inflow_save(actor=clerk, person=person, values=INFLOW, version=None)
    assert exc.value.code == "migrants.stale"


def test_outflow_record_and_residence(world):
    officer = world.actor("assistant")
    person = fresh(world.persons["A1a"])
    bad = OUTFLOW | {"to_region": "12", "contact": "x" * 51}
    with pytest.raises(DomainError) as exc:
        services.outflow_save(actor=officer, person=person, values=bad, version=None)
    assert codes(exc) == {"migrants.to_region": "to_region", "migrants.contact_length": "contact"}
    record = services.outflow_save(
        actor=officer, person=person, values=OUTFLOW, version=None, set_residence=True, person_version=1
    )
    assert record.to_region == "440305" and fresh(person).residence_type == "outflow"
    assert AuditEntry.objects.filter(action="migrants.outflow.create").count() == 1
    assert OutflowRecord.objects.get().version == 1


def test_volunteer_cannot_write(world):
    with pytest.raises(DomainError) as exc:
        services.inflow_save(
            actor=world.actor("building_volunteer"),
            person=fresh(world.persons["A1a-b1"]),
            values=INFLOW,
            version=None,
        )
    assert exc.value.code == "permission.denied"


# --- registering an inflow migrant ----------------------------------------------------------------------


def _person_values(world, **kw):
    born = date(1996, 2, 2)
    from hearth.core import citizen_id

    return {
        "name": "李流入",
        "sex": "F",
        "birth_date": born,
        "id_number": citizen_id.make("411721", born, 62),
        "dwelling": world.dwellings["A1a"],
    } | kw


def test_inflow_register_creates_person_and_record_together(world):
    officer = world.actor("community_officer")
    record = services.inflow_register(
        actor=officer, person_values=_person_values(world), inflow_values=INFLOW
    )
    person = fresh(record.person)
    assert person.residence_type == "inflow" and person.hukou_code == "411721"
    assert LifeEvent.objects.get(person=person).kind == "registered"
    assert LifeEvent.objects.get(person=person).source == "counter"
    assert {"person.create", "migrants.inflow.create"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


def test_inflow_register_bad_input_anywhere_writes_nothing(world):
    officer = world.actor("community_officer")
    persons, audits = Person.objects.for_system().count(), AuditEntry.objects.count()
    with pytest.raises(DomainError) as exc:
        services.inflow_register(
            actor=officer,
            person_values=_person_values(world, name="", dwelling=world.dwellings["A1b"]),
            inflow_values=INFLOW | {"reason": ""},
        )
    assert codes(exc) == {
        "person.name_required": "name",
        "person.dwelling_out_of_scope": "dwelling",
        "migrants.reason": "reason",
    }
    # Only the inflow part wrong: the person is not registered either.
    with pytest.raises(DomainError):
        services.inflow_register(
            actor=officer, person_values=_person_values(world), inflow_values=INFLOW | {"from_region": "abc"}
        )
    assert Person.objects.for_system().count() == persons
    assert AuditEntry.objects.count() == audits and not InflowRecord.objects.exists()


def test_inflow_register_into_a_tenancy(world):
    officer = world.actor("community_officer")
    room = dwelling(world, "A1a-b1", "302室")
    t = tenancy(world, landlord(world), room, declared=1)
    record = services.inflow_register(
        actor=officer, person_values=_person_values(world), inflow_values=INFLOW, tenancy=t
    )
    assert record.person.dwelling == room
    assert list(t.tenants.all()) == [record.person]
    assert selectors.worklist_count(officer) == 1  # the landlord has not signed


# --- landlords ------------------------------------------------------------------------------------------


def test_landlord_create_checks_place_phone_agreement_and_dwellings(world):
    officer = world.actor("community_officer")
    bad = {
        "place": world.places["A1b"],
        "name": "",
        "phone": "12345",
        "agreement_signed": True,
        "dwellings": [world.dwellings["B1a"]],
    }
    with pytest.raises(DomainError) as exc:
        services.landlord_create(actor=officer, values=bad)
    assert codes(exc) == {
        "landlord.place_out_of_scope": "place",
        "migrants.name_required": "name",
        "phone.invalid": "phone",
        "migrants.agreement_date_required": "agreement_date",
        "landlord.dwelling_out_of_scope": "dwellings",
    }
    with pytest.raises(DomainError) as exc:
        services.landlord_create(
            actor=world.actor("subdistrict_officer"), values={"place": world.places["A1"], "name": "甲"}
        )
    assert codes(exc) == {"landlord.place_kind": "place"}
    assert not Landlord.objects.exists()
    owner = services.landlord_create(
        actor=officer,
        values={
            "place": world.places["A1a-b1"],
            "name": "王房东",
            "phone": "138-0013-8000",
            "dwellings": [world.dwellings["A1a-b1"]],
            "person": world.persons["B1a"],
        },
    )
    assert owner.phone == "13800138000" and list(owner.dwellings.all()) == [world.dwellings["A1a-b1"]]
    entry = AuditEntry.objects.get(action="migrants.landlord.create")
    assert "13800138000" not in str(entry.data) and entry.data["dwellings"] == 1
    # A person linked from another district shows masked and not openable.
    assert selectors.person_link(officer, owner.person) == {"id": None, "name": "居****", "openable": False}


def test_landlord_edit_with_a_stale_token_is_refused(world):
    officer, clerk = world.actor("community_officer"), world.actor("data_clerk")
    owner = landlord(world)
    token = services.landlord_token(owner)
    values = {
        "place": owner.place,
        "name": "王房东",
        "phone": "13800138000",
        "agreement_signed": True,
        "agreement_date": date(2024, 2, 1),
    }
    services.landlord_update(actor=officer, landlord=owner, values=values, token=token)
    stale = Landlord.objects.get(pk=owner.pk)
    stale.updated_at = owner.created_at  # what the second officer's page was opened on
    with pytest.raises(DomainError) as exc:
        services.landlord_update(actor=clerk, landlord=stale, values=values | {"name": "李房东"}, token=token)
    assert exc.value.code == "migrants.stale" and "测试社区计生专干" in str(exc.value.message)
    owner.refresh_from_db()
    assert owner.name == "王房东" and owner.agreement_signed
    assert AuditEntry.objects.get(action="migrants.landlord.update").data == {
        "fields": ["agreement_date", "agreement_signed"]
    }
    with pytest.raises(DomainError):
        services.landlord_update(actor=officer, landlord=owner, values=values, token="not a time")


# --- tenancies ------------------------------------------------------------------------------------------


def test_tenancy_create_rules(world):
    officer = world.actor("community_officer")
    owner = landlord(world)
    with pytest.raises(DomainError) as exc:
        services.tenancy_create(
            actor=officer,
            landlord=owner,
            dwelling=world.dwellings["A1b"],
            started_on=time.today() + timedelta(days=1),
            declared_tenants=51,
        )
    assert codes(exc) == {
        "landlord.dwelling_out_of_scope": "dwelling",
        "migrants.started_on_future": "started_on",
        "tenancy.declared_tenants": "declared_tenants",
    }
    room = world.dwellings["A1a-b1"]
    t = services.tenancy_create(
        actor=officer, landlord=owner, dwelling=room, started_on=date(2024, 1, 1), declared_tenants=2
    )
    assert room in owner.dwellings.all()
    assert AuditEntry.objects.get(action="migrants.tenancy.create").object_id == str(t.public_id)
    with pytest.raises(DomainError) as exc:
        services.tenancy_create(
            actor=officer, landlord=owner, dwelling=room, started_on=date(2024, 1, 1), declared_tenants=1
        )
    assert exc.value.code == "tenancy.dwelling_rented"


def test_tenancy_end(world):
    officer = world.actor("community_officer")
    t = tenancy(world, landlord(world), world.dwellings["A1a-b1"], started=date(2024, 3, 1))
    with pytest.raises(DomainError) as exc:
        services.tenancy_end(actor=officer, tenancy=t, ended_on=date(2024, 2, 1))
    assert exc.value.code == "migrants.ended_on_too_early" and exc.value.field == "ended_on"
    services.tenancy_end(actor=officer, tenancy=t, ended_on=date(2024, 6, 1))
    with pytest.raises(DomainError) as exc:
        services.tenancy_end(actor=officer, tenancy=Tenancy.objects.get(pk=t.pk), ended_on=date(2024, 7, 1))
    assert exc.value.code == "tenancy.already_ended"
    assert Tenancy.objects.get(pk=t.pk).ended_on == date(2024, 6, 1)
    with pytest.raises(DomainError):
        services.tenancy_tenants_set(actor=officer, tenancy=t, persons=[])


def test_tenants_must_live_in_the_dwelling_and_be_in_scope(world):
    officer = world.actor("community_officer")
    room = world.dwellings["A1a-b1"]
    t = tenancy(world, landlord(world), room, declared=2)
    with pytest.raises(DomainError) as exc:
        services.tenancy_tenants_set(actor=officer, tenancy=t, persons=[world.persons["A1a"]])
    assert exc.value.code == "tenancy.tenant_elsewhere"
    with pytest.raises(DomainError) as exc:
        services.tenancy_tenants_set(actor=officer, tenancy=t, persons=[world.persons["A1b"]])
    assert exc.value.code == "tenancy.tenant_out_of_scope"
    assert not t.tenants.exists()
    services.tenancy_tenants_set(actor=officer, tenancy=t, persons=[world.persons["A1a-b1"]])
    assert list(t.tenants.all()) == [world.persons["A1a-b1"]]
    assert AuditEntry.objects.get(action="migrants.tenancy.tenants").data == {"added": 1, "removed": 0}
    services.tenancy_tenants_set(actor=officer, tenancy=t, persons=[])
    assert not t.tenants.exists()


def test_tenant_moving_in_from_elsewhere_goes_through_a_dwelling_change_event(world):
    officer = world.actor("community_officer")
    room = dwelling(world, "A1a-b2", "601室")
    t = tenancy(world, landlord(world), room)
    mover = fresh(world.persons["A1a"])
    with pytest.raises(DomainError) as exc:
        services.tenancy_tenant_move_in(
            actor=officer, tenancy=t, person=mover, occurred_on=date(2024, 5, 1), version=5
        )
    assert exc.value.code == "person.stale"
    assert fresh(mover).dwelling != room and not t.tenants.exists()
    services.tenancy_tenant_move_in(
        actor=officer, tenancy=t, person=mover, occurred_on=date(2024, 5, 1), version=mover.version
    )
    mover = fresh(mover)
    assert mover.dwelling == room and mover.place_path == room.place.path
    event = LifeEvent.objects.get(person=mover, kind="dwelling_change")
    assert event.occurred_on == date(2024, 5, 1)
    assert list(t.tenants.all()) == [mover]
    with pytest.raises(DomainError) as exc:
        services.tenancy_tenant_move_in(
            actor=officer,
            tenancy=t,
            person=fresh(world.persons["A1b"]),
            occurred_on=date(2024, 5, 1),
            version=1,
        )
    assert exc.value.code == "tenancy.tenant_out_of_scope"


# --- the worklist ---------------------------------------------------------------------------------------


def test_worklist_rows_say_why(world):
    officer = world.actor("community_officer")
    signed, unsigned = landlord(world, signed=True, name="甲"), landlord(world, name="乙")
    empty_room = dwelling(world, "A1a-b1", "101室")
    short_room = dwelling(world, "A1a-b1", "102室")
    full_room = dwelling(world, "A1a-b1", "103室")
    unsigned_room = dwelling(world, "A1a-b2", "201室")
    ended_room = dwelling(world, "A1a-b2", "202室")
    moved_room = dwelling(world, "A1a-b2", "203室")
    t_empty = tenancy(world, signed, empty_room, declared=0)
    t_short = tenancy(world, signed, short_room, declared=2)
    services.tenancy_tenants_set(actor=SYSTEM, tenancy=t_short, persons=[resident(short_room)])
    t_full = tenancy(world, signed, full_room, declared=1)
    services.tenancy_tenants_set(actor=SYSTEM, tenancy=t_full, persons=[resident(full_room)])
    t_unsigned = tenancy(world, unsigned, unsigned_room, declared=1)
    services.tenancy_tenants_set(actor=SYSTEM, tenancy=t_unsigned, persons=[resident(unsigned_room)])
    t_ended = tenancy(world, unsigned, ended_room)
    services.tenancy_end(actor=SYSTEM, tenancy=t_ended, ended_on=date(2024, 2, 1))
    t_moved = tenancy(world, signed, moved_room, declared=1)
    tenant = resident(moved_room)
    services.tenancy_tenants_set(actor=SYSTEM, tenancy=t_moved, persons=[tenant])
    from hearth.registry.services import record_event

    record_event(
        actor=SYSTEM,
        person=tenant,
        kind="dwelling_change",
        occurred_on=date(2024, 4, 1),
        version=tenant.version,
        details={"dwelling": world.dwellings["A1a"]},
    )
    # In the sibling community: not this officer's.
    tenancy(world, landlord(world, "A1b"), world.dwellings["A1b"])

    rows, total = selectors.worklist(actor=officer, limit=50, offset=0)
    reasons = {r["tenancy"].pk: [x["code"] for x in r["reasons"]] for r in rows}
    assert reasons == {
        t_empty.pk: ["no_tenants"],
        t_short.pk: ["tenants_missing"],
        t_unsigned.pk: ["agreement_unsigned"],
        t_moved.pk: ["no_tenants"],  # the tenant left the dwelling: no longer registered there
    }
    assert total == 4 == selectors.worklist_count(officer)
    short = next(r for r in rows if r["tenancy"].pk == t_short.pk)
    assert short["reasons"][0]["text"] == "申报租住 2 人，已登记 1 人"
    assert AuditEntry.objects.get(action="migrants.rental_worklist").row_count == 4
    [todo] = rental_todos(officer)
    assert todo.count == 4 and todo.url == "/landlords/worklist/"
    assert selectors.worklist_count(world.actor("subdistrict_officer")) == 5


def test_worklist_count_is_one_query(world, django_assert_num_queries):
    officer = world.actor("community_officer")
    for i in range(3):
        tenancy(world, landlord(world), dwelling(world, "A1a-b1", f"9{i}室"))
    with django_assert_num_queries(1):
        assert selectors.worklist_count(officer) == 3


@pytest.mark.parametrize("role", ["building_volunteer", "clinic_staff", "system_admin", "auditor"])
def test_who_sees_none_of_it(world, role):
    actor = world.actor(role)
    tenancy(world, landlord(world), world.dwellings["A1a-b1"])
    assert selectors.worklist_count(actor) == 0 and rental_todos(actor) == []
    assert not selectors.landlords_visible(actor).exists()
    with pytest.raises(Http404):
        selectors.landlord_search(actor=actor, q="", limit=10, offset=0)


def test_person_by_document_uses_the_blind_index(world):
    person = world.persons["B1a"]
    found = selectors.person_by_document("resident_id", identity.reveal(person))
    assert found == person
    with pytest.raises(DomainError) as exc:
        selectors.person_by_document("resident_id", "4101", field="id_number")
    assert exc.value.field == "id_number"
