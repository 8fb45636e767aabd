"""Clinic staff reach persons only through their facility: referrals, enrolments, services given there."""

import pytest

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.care import referrals, schedule, services
from hearth.care.models import Due, Outcome, ServiceRecord
from hearth.core.errors import DomainError, as_list
from hearth.registry import identity
from hearth.registry.models import LifeEvent, Person

pytestmark = pytest.mark.django_db


def _codes(exc) -> dict[str, str]:
    return {e.field: e.code for e in as_list(exc.value)}


@pytest.fixture
def clinic(world):
    return world.actor(Role.CLINIC_STAFF)


def test_clinic_staff_see_nobody_until_a_person_is_referred(world, clinic, catalogue):
    person = world.persons["A1a"]
    schedule.recompute(catalogue["health_check"])
    assert not Person.objects.visible_to(clinic).exists()
    assert not Due.objects.visible_to(clinic).exists()
    referral, created = referrals.refer(
        actor=world.actor(Role.COMMUNITY_OFFICER), person=person, facility=world.facility,
        service=catalogue["health_check"], reason="本人预约康检", consent=True,
    )  # fmt: skip
    assert created and AuditEntry.objects.filter(action="care.referral").exists()
    assert list(Person.objects.visible_to(clinic)) == [person]
    assert set(Due.objects.visible_to(clinic).values_list("person_id", flat=True)) == {person.pk}
    # Nothing else of the registry comes with it: events are not theirs to read.
    assert not LifeEvent.objects.visible_to(clinic).exists()
    # Closing the referral ends the reach (nothing was done at the facility).
    referrals.close(actor=clinic, referral=referral)
    assert not Person.objects.visible_to(clinic).exists()


def test_a_service_given_at_the_facility_keeps_the_person_in_reach(world, clinic, catalogue):
    person = world.persons["A1a"]
    referral, _ = referrals.refer(
        actor=world.actor(Role.COMMUNITY_OFFICER), person=person, facility=world.facility, consent=True
    )
    record, _ = services.record_contact(
        actor=clinic, person=person, service=catalogue["health_check"], outcome=Outcome.DONE, consent=True,
        data={"result": "未见异常"},
    )  # fmt: skip
    assert record.facility == world.facility
    referrals.close(actor=world.actor(Role.COMMUNITY_OFFICER), referral=referral)
    assert list(Person.objects.visible_to(clinic)) == [person]
    assert services.record_view(clinic, record)["data"] == {"result": "未见异常"}


def test_referral_needs_consent_and_a_facility_serving_the_place(world, catalogue):
    officer = world.actor(Role.SUBDISTRICT_OFFICER)
    with pytest.raises(DomainError) as exc:
        referrals.refer(actor=officer, person=world.persons["A1a"], facility=world.facility, consent=False,
                        reason="x" * 201)  # fmt: skip
    assert _codes(exc) == {"consent": "care.referral_consent", "reason": "care.referral_reason"}
    from hearth.places.services import facility_create
    from hearth.testing import SYSTEM

    other = facility_create(actor=SYSTEM, name="学苑社区服务站", kind="station", place=world.places["A1b"],
                            served_places=[world.places["A1b"]])  # fmt: skip
    with pytest.raises(DomainError) as exc:  # 祥和社区 is not served by 学苑社区服务站
        referrals.refer(actor=officer, person=world.persons["A1a"], facility=other, consent=True)
    assert _codes(exc) == {"facility": "care.referral_facility"}
    assert list(referrals.facilities_for(world.persons["A1a"])) == [world.facility]
    assert set(referrals.facilities_for(world.persons["A1b"])) == {other, world.facility}
    assert not referrals.facilities_for(world.persons["A2a"]).exists()
    # A repeat returns the open referral.
    first, created = referrals.refer(actor=officer, person=world.persons["A1a"], facility=world.facility,
                                     consent=True)  # fmt: skip
    again, created_again = referrals.refer(actor=officer, person=world.persons["A1a"], facility=world.facility,
                                           consent=True)  # fmt: skip
    assert created and not created_again and again.pk == first.pk


def test_out_of_scope_person_cannot_be_referred(world):
    with pytest.raises(DomainError) as exc:
        referrals.refer(actor=world.actor(Role.COMMUNITY_OFFICER), person=world.persons["A1b"],
                        facility=world.facility, consent=True)  # fmt: skip
    assert exc.value.code == "permission.denied"


def test_clinic_staff_enrol_by_id_card_only_in_their_area(world, clinic):
    person = world.persons["A1b"]
    number = identity.reveal(person)
    referral, created = referrals.enrol(actor=clinic, id_number=number, consent=True, reason="来站咨询")
    assert created and referral.person == person and referral.kind == "enrolment"
    assert list(Person.objects.visible_to(clinic)) == [person]
    # A resident of a place the station does not serve gets the same answer as an unknown number.
    with pytest.raises(DomainError) as exc:
        referrals.enrol(actor=clinic, id_number=identity.reveal(world.persons["B1a"]), consent=True)
    assert _codes(exc) == {"id_number": "care.enrol_not_found"}
    with pytest.raises(DomainError) as exc:
        referrals.enrol(actor=clinic, id_number="123", consent=False)
    assert set(_codes(exc)) == {"id_number", "consent"}
    with pytest.raises(DomainError):
        referrals.enrol(actor=world.actor(Role.COMMUNITY_OFFICER), id_number=number, consent=True)


def test_clinic_staff_worklists_hold_only_their_persons(world, clinic, catalogue):
    service = catalogue["health_check"]
    schedule.recompute(service)
    referrals.enrol(actor=clinic, id_number=identity.reveal(world.persons["A1a"]), consent=True)
    assert service in services.services_for(clinic)
    assert set(
        Due.objects.visible_to(clinic).filter(service=service).values_list("person_id", flat=True)
    ) == {world.persons["A1a"].pk}
    assert not ServiceRecord.objects.visible_to(clinic).exists()


# --- pages and API ----------------------------------------------------------------------------------------


def test_refer_page_and_clinic_list(world, client, login, catalogue):
    person = world.persons["A1a"]
    login(world, Role.COMMUNITY_OFFICER)
    url = f"/care/persons/{person.public_id}/refer/"
    page = client.get(url)
    assert page.status_code == 200 and "大学路社区卫生服务站" in page.content.decode()
    bad = client.post(url, {"facility": world.facility.pk})
    assert bad.status_code == 422 and "本人同意" in bad.content.decode()
    ok = client.post(
        url, {"facility": world.facility.pk, "service": catalogue["health_check"].pk, "consent": "on"}
    )
    assert ok.status_code == 302
    client.logout()
    login(world, Role.CLINIC_STAFF)
    listing = client.get("/care/referrals/")
    assert listing.status_code == 200 and person.name in listing.content.decode()
    assert client.get(f"/persons/{person.public_id}/").status_code == 200
    assert client.get(f"/persons/{world.persons['A1b'].public_id}/").status_code == 404


def test_clinic_enrols_on_the_list_page(world, client, login):
    login(world, Role.CLINIC_STAFF)
    person = world.persons["A1b"]
    bad = client.post("/care/referrals/", {"id_number": identity.reveal(person)})
    assert bad.status_code == 422 and "本人同意" in bad.content.decode()
    ok = client.post("/care/referrals/", {"id_number": identity.reveal(person), "consent": "on"})
    assert ok.status_code == 302 and ok["Location"] == f"/persons/{person.public_id}/"


def test_referral_api(world, client, login):
    import json

    login(world, Role.COMMUNITY_OFFICER)
    body = {"person_id": str(world.persons["A1a"].public_id), "facility_id": str(world.facility.public_id)}
    r = client.post("/api/v1/care/referrals", json.dumps(body), content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "consent"]
    body["consent"] = True
    first = client.post("/api/v1/care/referrals", json.dumps(body), content_type="application/json")
    again = client.post("/api/v1/care/referrals", json.dumps(body), content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    listed = client.get("/api/v1/care/referrals").json()
    assert [r["id"] for r in listed] == [first.json()["id"]]
    closed = client.post(f"/api/v1/care/referrals/{first.json()['id']}/close")
    assert closed.status_code == 200 and closed.json()["closed_at"]
    assert client.get("/api/v1/care/referrals").json() == []


def test_record_page_shows_the_method_field_to_clinic_staff_only(world, client, login, catalogue):
    person = world.persons["A1a"]
    referrals.refer(actor=world.actor(Role.COMMUNITY_OFFICER), person=person, facility=world.facility,
                    consent=True)  # fmt: skip
    url = f"/care/contraceptive_counselling/persons/{person.public_id}/record/"
    login(world, Role.COMMUNITY_OFFICER)
    page = client.get(url).content.decode()
    assert "免费药具" in page and "本人选择的方法" not in page
    client.logout()
    login(world, Role.CLINIC_STAFF)
    assert "本人选择的方法" in client.get(url).content.decode()
