"""补登: registering the person of a 漏档 row, by service, page and API; the typed ID number must fit the row."""

from datetime import date

import pytest

from hearth.accounts.models import RolePermission
from hearth.accounts.roles import Perm, Role
from hearth.audit.models import AuditEntry
from hearth.core import citizen_id
from hearth.core.errors import DomainError, as_list
from hearth.linkage import services
from hearth.linkage.models import ListStatus, PartnerList, PartnerRecord, RecordStatus
from hearth.linkage.tests.test_linkage_flow import ABSENT_ID, _linked, _rows
from hearth.registry import identity
from hearth.registry.models import EventKind, EventSource, LifeEvent, Person

BORN = date(1991, 4, 5)
OTHER_ID = citizen_id.make("410103", BORN, 23)


def _missing(world, *, at: str = "A1a", id_number: str | None = ABSENT_ID, row: int = 6) -> PartnerRecord:
    """A linked list at `at` with one 漏档 row, built directly (the matching itself is test_linkage_flow's)."""
    plist = PartnerList.objects.create(
        place=world.places[at], created_by=world.grants[Role.COMMUNITY_OFFICER], kind="police_hukou",
        source="幸福派出所", filename="名单.csv", file_sha256="0" * 64, file_size=1, header=["姓名"],
        mapping={"name": 0}, status=ListStatus.LINKED,
    )  # fmt: skip
    return PartnerRecord.objects.create(
        partner_list=plist, row=row, name="孙悟空", sex="M", birth_date=BORN, phone="13900000009",
        id_index=identity.index_of("resident_id", id_number) if id_number else None,
        id_masked=citizen_id.mask(id_number) if id_number else "", place_path=world.places[at].path,
        dwelling=world.dwellings[at], fingerprint="f" * 32, status=RecordStatus.UNMATCHED,
    )  # fmt: skip


def _values(world, id_number: str | None = ABSENT_ID, at: str = "A1a") -> dict:
    return {
        "name": "孙悟空",
        "sex": "M",
        "birth_date": BORN,
        "id_number": id_number,
        "dwelling": world.dwellings[at],
    }


def _post(world, id_number: str = ABSENT_ID, at: str = "A1a") -> dict:
    return {
        "name": "孙悟空",
        "sex": "M",
        "birth_date": BORN.isoformat(),
        "id_type": "resident_id",
        "id_number": id_number,
        "dwelling": str(world.dwellings[at].public_id),
        "residence_type": "hukou_resident",
        "ethnicity": "01",
    }


def _api_body(world, id_number: str = ABSENT_ID, at: str = "A1a") -> dict:
    return {
        "name": "孙悟空",
        "sex": "M",
        "birth_date": BORN.isoformat(),
        "id_number": id_number,
        "dwelling_id": str(world.dwellings[at].public_id),
    }


def _codes(exc: pytest.ExceptionInfo) -> set[str]:
    return {e.code for e in as_list(exc.value)}


def _persons() -> int:
    return Person.objects.for_system().count()


def test_a_missing_row_is_registered_with_the_list_as_source(world, officer):
    plist = _linked(world, officer)
    rec = _rows(plist)[6]
    assert rec.status == RecordStatus.UNMATCHED and rec.id_index
    person = services.register_missing(actor=officer, record=rec, values=_values(world))
    assert person.name == "孙悟空" and person.id_index == rec.id_index
    event = LifeEvent.objects.for_system().get(person=person)
    assert event.kind == EventKind.REGISTERED
    assert event.source == EventSource.PARTNER_LIST and event.reporter == "幸福派出所"
    rec.refresh_from_db()
    assert rec.status == RecordStatus.REGISTERED and rec.person_id == person.pk
    assert rec.decided_by_id == officer.grant.pk and rec.decided_at is not None
    entry = AuditEntry.objects.get(action="link.register")
    assert entry.object_id == str(plist.public_id) and entry.data == {"row": 6}
    assert AuditEntry.objects.filter(action="person.create", object_id=str(person.public_id)).exists()


def test_a_number_other_than_the_lists_is_refused_and_nothing_is_written(world, officer):
    rec = _missing(world)
    before = _persons()
    with pytest.raises(DomainError) as exc:
        services.register_missing(actor=officer, record=rec, values=_values(world, OTHER_ID))
    assert exc.value.code == "link.id_mismatch" and exc.value.field == "id_number"
    # Another document type gives another index: not the list's number either.
    with pytest.raises(DomainError) as exc:
        services.register_missing(
            actor=officer, record=rec, values=_values(world, "E12345678") | {"id_type": "passport"}
        )
    assert exc.value.code == "link.id_mismatch"
    with pytest.raises(DomainError) as exc:
        services.register_missing(actor=officer, record=rec, values=_values(world, ""))
    assert exc.value.code == "link.id_required" and exc.value.field == "id_number"
    # A malformed number is the registry's error, on its field.
    with pytest.raises(DomainError) as exc:
        services.register_missing(actor=officer, record=rec, values=_values(world, "41010319910405"))
    assert all(e.field == "id_number" for e in as_list(exc.value))
    assert _persons() == before
    rec.refresh_from_db()
    assert rec.status == RecordStatus.UNMATCHED and rec.person_id is None
    assert not AuditEntry.objects.filter(action="link.register").exists()


def test_the_number_is_normalised_before_it_is_compared(world, officer):
    number = citizen_id.make("410103", BORN, 25)
    rec = _missing(world, id_number=number)
    # Spaces, and full-width digits as some input methods type them.
    spaced = f" {number[:6]} {number[6:14]} {number[14:]} ".lower().replace("1", "１")
    person = services.register_missing(actor=officer, record=rec, values=_values(world, spaced))
    assert person.id_index == rec.id_index


def test_a_row_without_a_number_takes_any_valid_one(world, officer):
    rec = _missing(world, id_number=None)
    person = services.register_missing(actor=officer, record=rec, values=_values(world, OTHER_ID))
    assert person.id_index == identity.index_of("resident_id", OTHER_ID)
    rec.refresh_from_db()
    assert rec.status == RecordStatus.REGISTERED and rec.person_id == person.pk


def test_registry_errors_pass_through_and_leave_the_row_missing(world, officer):
    rec = _missing(world)
    before = _persons()
    with pytest.raises(DomainError) as exc:
        services.register_missing(
            actor=officer, record=rec, values=_values(world) | {"dwelling": None, "name": ""}
        )
    assert {"person.dwelling_required", "person.name_required"} <= _codes(exc)
    # A dwelling outside the officer's community: the registry's own scope check.
    with pytest.raises(DomainError) as exc:
        services.register_missing(actor=officer, record=rec, values=_values(world, at="B1a"))
    assert all(e.field == "dwelling" for e in as_list(exc.value))
    rec.refresh_from_db()
    assert rec.status == RecordStatus.UNMATCHED and _persons() == before


def test_a_second_registration_is_refused(world, officer):
    rec = _missing(world)
    stale = PartnerRecord.objects.for_system().get(pk=rec.pk)  # a second officer's copy, loaded before
    services.register_missing(actor=officer, record=rec, values=_values(world))
    count = _persons()
    with pytest.raises(DomainError) as exc:
        services.register_missing(actor=officer, record=stale, values=_values(world))
    assert exc.value.code == "link.not_missing"
    # The same person on another row (another list): the registry's duplicate, and that row stays missing.
    twin = _missing(world, row=7)
    with pytest.raises(DomainError) as exc:
        services.register_missing(actor=officer, record=twin, values=_values(world))
    assert "id.duplicate" in _codes(exc)
    twin.refresh_from_db()
    assert twin.status == RecordStatus.UNMATCHED
    assert _persons() == count
    assert AuditEntry.objects.filter(action="link.register").count() == 1


def test_roles_without_person_create_are_refused(client, world):
    rec = _missing(world)
    url = f"/linkage/{rec.partner_list.public_id}/rows/{rec.row}/register/"
    volunteer = world.actor(Role.BUILDING_VOLUNTEER)
    with pytest.raises(DomainError) as exc:
        services.register_missing(actor=volunteer, record=rec, values=_values(world))
    assert exc.value.code == "permission.denied"
    # A role that may link but not register (the permission table is data): no button, no page, no API.
    RolePermission.objects.filter(role=Role.DATA_CLERK, permission=Perm.PERSON_CREATE).delete()
    clerk = world.actor(Role.DATA_CLERK)
    with pytest.raises(DomainError) as exc:
        services.register_missing(actor=clerk, record=rec, values=_values(world))
    assert exc.value.code == "permission.denied"
    world.login(client, Role.DATA_CLERK)
    page = client.get("/linkage/missing/").content.decode()
    assert "孙悟空" in page and url not in page
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "孙悟空"}).status_code == 404
    api = f"/api/v1/linkage/lists/{rec.partner_list.public_id}/records/{rec.row}/register"
    body = _api_body(world)
    assert client.post(api, body, content_type="application/json").status_code == 404
    rec.refresh_from_db()
    assert rec.status == RecordStatus.UNMATCHED


def test_page_prefills_from_the_row_and_registers(client, world, officer):
    rec = _missing(world)
    world.login(client, Role.COMMUNITY_OFFICER)
    url = f"/linkage/{rec.partner_list.public_id}/rows/{rec.row}/register/"
    assert url in client.get("/linkage/missing/").content.decode()  # the 补登 button
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "请核对身份证后填写证件号码" in html and rec.id_masked in html and "幸福派出所" in html
    assert 'value="孙悟空"' in html and 'value="1991-04-05"' in html and 'value="13900000009"' in html
    assert str(world.dwellings["A1a"].public_id) in html
    assert AuditEntry.objects.filter(action="link.register_view").count() == 1
    # A wrong number: said on the field, nothing written.
    wrong = client.post(url, _post(world, OTHER_ID))
    assert wrong.status_code == 422
    assert (
        "与名单上的号码不一致" in wrong.content.decode()
        and 'data-field="id_number"' in wrong.content.decode()
    )
    rec.refresh_from_db()
    assert rec.status == RecordStatus.UNMATCHED
    done = client.post(url, _post(world))
    rec.refresh_from_db()
    assert rec.status == RecordStatus.REGISTERED
    assert done.status_code == 302 and done["Location"] == f"/persons/{rec.person.public_id}/"
    followed = client.get(done["Location"]).content.decode()
    assert "已补登" in followed
    # Registered: off the worklist, and the page sends the officer back to it.
    assert url not in client.get("/linkage/missing/").content.decode()
    again = client.get(url)
    assert again.status_code == 302 and again["Location"] == "/linkage/missing/"


def test_out_of_scope_rows_are_not_found(client, world, officer):
    rec = _missing(world, at="B1a")
    world.login(client, Role.COMMUNITY_OFFICER)
    url = f"/linkage/{rec.partner_list.public_id}/rows/{rec.row}/register/"
    assert client.get(url).status_code == 404
    assert client.post(url, _post(world, at="A1a")).status_code == 404
    api = f"/api/v1/linkage/lists/{rec.partner_list.public_id}/records/{rec.row}/register"
    body = _post(world) | {"dwelling_id": str(world.dwellings["A1a"].public_id)}
    assert client.post(api, body, content_type="application/json").status_code == 404
    missing_row = f"/linkage/{rec.partner_list.public_id}/rows/99/register/"
    assert client.get(missing_row).status_code == 404
    rec.refresh_from_db()
    assert rec.status == RecordStatus.UNMATCHED


def test_a_community_registers_its_row_of_a_subdistricts_list(client, world, officer):
    """The worklist is per community: the row is scoped by its own place, not the list's."""
    rec = _missing(world)
    PartnerList.objects.filter(pk=rec.partner_list_id).update(place=world.places["A1"])
    world.login(client, Role.COMMUNITY_OFFICER)
    url = f"/linkage/{rec.partner_list.public_id}/rows/{rec.row}/register/"
    assert client.get(url).status_code == 200
    assert client.post(url, _post(world)).status_code == 302


def test_api_registers_and_answers_422(client, world, officer):
    rec = _missing(world)
    world.login(client, Role.COMMUNITY_OFFICER)
    api = f"/api/v1/linkage/lists/{rec.partner_list.public_id}/records/{rec.row}/register"
    wrong = client.post(api, _api_body(world, OTHER_ID), content_type="application/json")
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == [
        {
            "loc": ["body", "id_number"],
            "msg": "证件号码：与名单上的号码不一致，请核对身份证。",
            "type": "link.id_mismatch",
        }
    ]
    outside = client.post(api, _api_body(world, at="B1a"), content_type="application/json")
    assert outside.status_code == 422
    assert outside.json()["detail"][0]["type"] == "person.dwelling_out_of_scope"
    bad = client.post(api, {"name": "孙悟空"}, content_type="application/json")
    assert bad.status_code == 422  # the schema's own errors, in the same shape
    assert _persons() == len(world.persons)
    done = client.post(api, _api_body(world), content_type="application/json")
    assert done.status_code == 200, done.content
    body = done.json()
    person = Person.objects.for_system().get(id_index=rec.id_index)
    assert body["status"] == "registered" and body["person_id"] == str(person.public_id)
    assert body["row"] == rec.row and body["id_masked"] == rec.id_masked
    again = client.post(api, _api_body(world), content_type="application/json")
    assert again.status_code == 422 and again.json()["detail"][0]["type"] == "link.not_missing"
    assert _persons() == len(world.persons) + 1
