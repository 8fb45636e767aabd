"""The pre-pregnancy check's actions: consent rules, clinic-only results, delivery rules, follow-ups, outcomes
only with consent, withdrawal at any time, the station's reach, and audit rows that never hold results."""

from datetime import timedelta

import pytest

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.care import referrals
from hearth.core import citizen_id, time
from hearth.core.errors import DomainError, as_list
from hearth.places.services import facility_create
from hearth.preconception import selectors, services
from hearth.preconception.models import Enrolment, FollowUp, Status
from hearth.registry.models import Person
from hearth.testing import SYSTEM

from .factories import SECRET_ADVICE, SECRET_NOTE, SECRET_VALUE, enrolment

pytestmark = pytest.mark.django_db

ABNORMAL = {
    "education": {"value": "", "abnormal": False},
    "blood_routine": {"value": "Hb 92", "abnormal": True},
}
NORMAL = {
    "education": {"value": "", "abnormal": False},
    "blood_routine": {"value": "正常", "abnormal": False},
}


def _codes(exc) -> dict[str, str]:
    return {e.field: e.code for e in as_list(exc.value)}


@pytest.fixture
def officer(world):
    return world.actor(Role.COMMUNITY_OFFICER)


@pytest.fixture
def clinic(world):
    return world.actor(Role.CLINIC_STAFF)


def _enrol(world, officer, **over):
    values = {"woman": world.persons["A1a"], "man_name": "张伟", "facility": world.facility,
              "woman_consent": True} | over  # fmt: skip
    return services.enrol(actor=officer, **values)


# --------------------------------------------------------------------------------------------- enrol


def test_enrol_needs_the_womans_consent_and_names_every_problem(world, officer):
    with pytest.raises(DomainError) as exc:
        services.enrol(actor=officer, woman=world.persons["A1a"], man_name="", man_id_masked="12",
                       facility=None, agreed_on=time.today() - timedelta(days=1))  # fmt: skip
    assert _codes(exc) == {
        "woman_consent": "precon.consent",
        "man_name": "precon.man_name",
        "man_id_masked": "precon.man_id",
        "facility": "precon.facility",
        "agreed_on": "precon.agreed_past",
    }
    assert all("：" in str(e.message) for e in as_list(exc.value))
    assert not Enrolment.objects.for_system().exists()


def test_enrol_at_a_station_serving_her_place_and_a_repeat_returns_it(world, officer):
    other = facility_create(actor=SYSTEM, name="建设路服务站", kind="station", place=world.places["B1a"],
                            served_places=[world.places["B1a"]])  # fmt: skip
    with pytest.raises(DomainError) as exc:
        _enrol(world, officer, facility=other)
    assert _codes(exc) == {"facility": "precon.facility"}
    e, created = _enrol(world, officer, man_id_masked="410103199001011234", agreed_on=time.today())
    assert created and e.status == Status.ENROLLED and e.place_path == world.persons["A1a"].place_path
    # The man's full number is never kept: only its last four.
    assert e.man_id_masked == "**************1234"
    assert e.woman_consent_at is not None and not e.man_consent and e.man_consent_at is None
    again, created_again = _enrol(world, officer)
    assert again == e and not created_again
    entry = AuditEntry.objects.get(action="preconception.enrol")
    assert "410103199001011234" not in str(entry.data)


def test_the_man_on_the_registry_must_be_a_man_the_actor_sees(world, officer):
    with pytest.raises(DomainError) as exc:
        _enrol(world, officer, man=world.persons["A1a-b1"])  # a woman
    assert _codes(exc) == {"man": "precon.man_sex"}
    with pytest.raises(DomainError) as exc:
        _enrol(world, officer, woman=world.persons["A1a-b1"], man=world.persons["B1a"])  # out of scope
    assert _codes(exc) == {"man": "precon.man"}


def test_mask_id_text():
    assert services.mask_id_text("") == ""
    assert services.mask_id_text("1234") == "**************1234"
    assert services.mask_id_text("****123x") == "**************123X"
    assert (
        services.mask_id_text(citizen_id.make("410103", time.today().replace(year=1990), 3))[:14] == "*" * 14
    )
    for bad in ("12", "abcd1234", "4101031990"):
        with pytest.raises(DomainError):
            services.mask_id_text(bad)


def test_who_may_enrol(world):
    for role in (Role.BUILDING_VOLUNTEER, Role.DATA_CLERK, Role.ASSOCIATION_OFFICER, Role.SUBDISTRICT_OFFICER,
                 Role.DISTRICT_ADMIN):  # fmt: skip
        with pytest.raises(DomainError) as exc:
            _enrol(world, world.actor(role))
        assert exc.value.code == "permission.denied", role
    with pytest.raises(DomainError) as exc:  # out of scope
        _enrol(world, world.actor(Role.COMMUNITY_OFFICER), woman=world.persons["A1b"])
    assert exc.value.code == "permission.denied"


def test_clinic_staff_enrol_only_persons_they_reach_at_their_own_station(world, officer, clinic):
    with pytest.raises(DomainError) as exc:
        _enrol(world, clinic, facility=None)
    assert exc.value.code == "permission.denied"
    referrals.refer(actor=officer, person=world.persons["A1a"], facility=world.facility, consent=True)
    e, created = _enrol(world, clinic, facility=None)
    assert created and e.facility == world.facility


def test_the_station_reaches_the_couple_until_they_withdraw(world, officer, clinic):
    assert not Person.objects.visible_to(clinic).exists()
    e, _ = _enrol(world, officer)
    assert list(Person.objects.visible_to(clinic)) == [world.persons["A1a"]]
    assert list(selectors.enrolments_for(clinic)) == [e]
    services.withdraw(actor=officer, enrolment=e)
    assert not Person.objects.visible_to(clinic).exists()


# --------------------------------------------------------------------------------------------- results


def test_only_clinic_staff_enter_results(world, officer):
    e, _ = _enrol(world, officer)
    with pytest.raises(DomainError) as exc:
        services.record_examination(actor=officer, enrolment=e, who="woman", items=NORMAL, risk="general")
    assert exc.value.code == "permission.denied"


def test_each_partner_is_examined_only_with_their_own_consent(world, officer, clinic):
    e, _ = _enrol(world, officer)
    with pytest.raises(DomainError) as exc:
        services.record_examination(actor=clinic, enrolment=e, who="man", items=NORMAL)
    assert _codes(exc) == {"man_consent": "precon.consent"}
    services.consent_set(actor=officer, enrolment=e, who="man", given=True)
    e.refresh_from_db()
    assert e.man_consent and e.man_consent_at
    # The man's items are the nine that apply to men.
    with pytest.raises(DomainError) as exc:
        services.record_examination(actor=clinic, enrolment=e, who="man", items=NORMAL)
    assert _codes(exc) == {"items": "precon.item_unknown"}
    exam, created = services.record_examination(
        actor=clinic, enrolment=e, who="man", items={"urine_routine": {"value": "", "abnormal": False}}
    )
    assert created and exam.person is None and not exam.needs_follow_up


def test_results_are_checked_field_by_field(world, officer, clinic):
    e, _ = _enrol(world, officer)
    with pytest.raises(DomainError) as exc:
        services.record_examination(actor=clinic, enrolment=e, who="woman", items={}, risk="maybe",
                                    examined_on=time.today() + timedelta(days=1))  # fmt: skip
    assert _codes(exc) == {
        "items": "precon.items",
        "risk": "precon.risk",
        "examined_on": "precon.date_future",
    }
    with pytest.raises(DomainError) as exc:
        services.record_examination(actor=clinic, enrolment=e, who="woman", items=ABNORMAL, risk="high")
    assert _codes(exc) == {"advice": "precon.advice"}
    with pytest.raises(DomainError) as exc:
        services.record_examination(actor=clinic, enrolment=e, who="woman",
                                    items={"blood_routine": {"value": 3, "abnormal": "yes"}})  # fmt: skip
    assert _codes(exc) == {"items": "precon.item_value"}
    with pytest.raises(DomainError) as exc:
        services.record_examination(actor=clinic, enrolment=e, who="nobody", items=NORMAL)
    assert _codes(exc) == {"who": "precon.who"}


def test_status_follows_examination_assessment_and_delivery(world, officer, clinic):
    e, _ = _enrol(world, officer)
    services.record_examination(actor=clinic, enrolment=e, who="woman", items=NORMAL)
    e.refresh_from_db()
    assert e.status == Status.EXAMINED
    services.record_examination(actor=clinic, enrolment=e, who="woman", items=NORMAL, risk="general",
                                advice="孕前三个月开始补充叶酸")  # fmt: skip
    e.refresh_from_db()
    assert e.status == Status.ASSESSED
    services.deliver(actor=officer, enrolment=e, who="woman", method="kept")
    e.refresh_from_db()
    assert e.status == Status.DELIVERED
    # Delivered: the results can no longer be changed.
    with pytest.raises(DomainError) as exc:
        services.record_examination(actor=clinic, enrolment=e, who="woman", items=ABNORMAL)
    assert _codes(exc) == {"who": "precon.delivered"}


def test_the_man_consenting_keeps_the_couple_in_progress_until_he_is_assessed_and_delivered(
    world, officer, clinic
):
    e, _ = _enrol(world, officer, man_consent=True)
    services.record_examination(actor=clinic, enrolment=e, who="woman", items=NORMAL, risk="general")
    e.refresh_from_db()
    assert e.status == Status.EXAMINED
    services.record_examination(actor=clinic, enrolment=e, who="man",
                                items={"blood_type": {"value": "A Rh+", "abnormal": False}}, risk="general")  # fmt: skip
    e.refresh_from_db()
    assert e.status == Status.ASSESSED


def test_audit_rows_never_hold_results(world, officer, clinic):
    e, _ = _enrol(world, officer)
    services.record_examination(actor=clinic, enrolment=e, who="woman", items=ABNORMAL, risk="high",
                                advice=SECRET_ADVICE)  # fmt: skip
    services.add_follow_up(actor=clinic, enrolment=e, who="woman", note=SECRET_NOTE)
    text = str(list(AuditEntry.objects.values_list("data", flat=True)))
    assert "Hb 92" not in text and SECRET_ADVICE not in text and SECRET_NOTE not in text
    assert AuditEntry.objects.filter(action="preconception.examination").exists()


# --------------------------------------------------------------------------------------------- delivery


def test_abnormal_results_are_delivered_into_the_persons_own_hands(world, officer, clinic):
    e, _ = _enrol(world, officer)
    services.record_examination(actor=clinic, enrolment=e, who="woman", items=ABNORMAL)
    with pytest.raises(DomainError) as exc:  # not yet assessed
        services.deliver(actor=officer, enrolment=e, who="woman", method="self")
    assert _codes(exc) == {"who": "precon.not_assessed"}
    services.record_examination(actor=clinic, enrolment=e, who="woman", items=ABNORMAL, risk="general")
    for method, recipient in (("family", "李母"), ("mail", ""), ("kept", "")):
        with pytest.raises(DomainError) as exc:
            services.deliver(actor=officer, enrolment=e, who="woman", method=method, recipient=recipient)
        assert _codes(exc) == {"method": "precon.delivery_in_person"}, method
    delivery, created = services.deliver(actor=officer, enrolment=e, who="woman", method="self")
    assert created and delivery.recipient == ""
    again, created_again = services.deliver(actor=officer, enrolment=e, who="woman", method="self")
    assert again == delivery and not created_again


def test_normal_results_are_delivered_as_the_person_asks(world, officer, clinic):
    e, _ = _enrol(world, officer)
    services.record_examination(actor=clinic, enrolment=e, who="woman", items=NORMAL, risk="general")
    with pytest.raises(DomainError) as exc:
        services.deliver(actor=officer, enrolment=e, who="woman", method="family",
                         delivered_on=time.today() + timedelta(days=2))  # fmt: skip
    assert _codes(exc) == {"recipient": "precon.recipient", "delivered_on": "precon.date_future"}
    with pytest.raises(DomainError) as exc:
        services.deliver(actor=officer, enrolment=e, who="woman", method="fax")
    assert _codes(exc) == {"method": "precon.method"}
    delivery, _ = services.deliver(actor=officer, enrolment=e, who="woman", method="family", recipient="李母")
    assert delivery.recipient == "李母" and delivery.delivered_by == world.grants[Role.COMMUNITY_OFFICER]
    with pytest.raises(DomainError) as exc:  # the man was not examined
        services.deliver(actor=officer, enrolment=e, who="man", method="self")
    assert _codes(exc) == {"who": "precon.not_examined"}


# --------------------------------------------------------------------------------------------- follow-up, outcome


def test_follow_ups_are_for_abnormal_results_and_a_clinics_note_is_clinical(world, officer, clinic):
    e, _ = _enrol(world, officer)
    services.record_examination(actor=clinic, enrolment=e, who="woman", items=NORMAL, risk="general")
    with pytest.raises(DomainError) as exc:
        services.add_follow_up(actor=officer, enrolment=e, who="woman", note="电话随访")
    assert _codes(exc) == {"who": "precon.no_follow_up"}
    e2 = enrolment(world, world.persons["A1a-b1"], examined=True)
    with pytest.raises(DomainError) as exc:
        services.add_follow_up(actor=officer, enrolment=e2, who="woman", note="")
    assert _codes(exc) == {"note": "precon.note"}
    mine = services.add_follow_up(actor=officer, enrolment=e2, who="woman", note="已入户，本人已去复查")
    theirs = services.add_follow_up(actor=clinic, enrolment=e2, who="woman", note=SECRET_NOTE)
    assert not mine.clinical and theirs.clinical
    seen = selectors.enrolment_view(officer, e2)["follow_ups"]
    assert [f["note"] for f in seen] == ["已入户，本人已去复查", None]
    assert seen[1]["note_hidden"]
    assert [f["note"] for f in selectors.enrolment_view(clinic, e2)["follow_ups"]] == [mine.note, SECRET_NOTE]


def test_a_pregnancy_outcome_is_recorded_only_with_her_consent(world, officer, clinic):
    e, _ = _enrol(world, officer)
    with pytest.raises(DomainError) as exc:
        services.record_outcome(actor=clinic, enrolment=e, kind="live_birth")
    assert _codes(exc) == {"outcome_consent": "precon.outcome_consent"}
    services.consent_set(actor=officer, enrolment=e, who="outcome", given=True)
    e.refresh_from_db()
    with pytest.raises(DomainError) as exc:  # officers do not record it: it is clinical
        services.record_outcome(actor=officer, enrolment=e, kind="live_birth")
    assert exc.value.code == "permission.denied"
    with pytest.raises(DomainError) as exc:
        services.record_outcome(actor=clinic, enrolment=e, kind="boy")
    assert _codes(exc) == {"kind": "precon.outcome_kind"}
    outcome = services.record_outcome(actor=clinic, enrolment=e, kind="live_birth")
    assert outcome.enrolment == e
    assert selectors.enrolment_view(officer, e)["outcomes"] is None
    assert [o["kind"] for o in selectors.enrolment_view(clinic, e)["outcomes"]] == ["live_birth"]
    # Her agreement can be taken back: nothing more is recorded.
    services.consent_set(actor=officer, enrolment=e, who="outcome", given=False)
    e.refresh_from_db()
    with pytest.raises(DomainError):
        services.record_outcome(actor=clinic, enrolment=e, kind="other")


def test_consent_for_the_woman_is_withdrawn_by_withdrawing(world, officer):
    e, _ = _enrol(world, officer)
    with pytest.raises(DomainError) as exc:
        services.consent_set(actor=officer, enrolment=e, who="woman", given=False)
    assert _codes(exc) == {"who": "precon.consent_who"}


# --------------------------------------------------------------------------------------------- withdraw


def test_withdraw_at_any_time_with_nothing_asked_and_nothing_more_recorded(world, officer, clinic):
    e = enrolment(world, examined=True, outcome_consent=True)
    withdrawn = services.withdraw(actor=clinic, enrolment=e)
    assert withdrawn.status == Status.WITHDRAWN and withdrawn.withdrawn_at
    assert not withdrawn.outcome_consent
    assert services.withdraw(actor=officer, enrolment=e).withdrawn_at == withdrawn.withdrawn_at  # idempotent
    e.refresh_from_db()
    attempts = [
        lambda: services.record_examination(actor=clinic, enrolment=e, who="woman", items=NORMAL),
        lambda: services.deliver(actor=officer, enrolment=e, who="woman", method="self"),
        lambda: services.add_follow_up(actor=officer, enrolment=e, who="woman", note="电话随访"),
        lambda: services.record_outcome(actor=clinic, enrolment=e, kind="live_birth"),
        lambda: services.consent_set(actor=officer, enrolment=e, who="man", given=True),
        lambda: services.reschedule(actor=officer, enrolment=e, agreed_on=time.today()),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as exc:
            attempt()
        assert exc.value.code == "precon.withdrawn"
    assert not FollowUp.objects.for_system().exists()
    assert AuditEntry.objects.filter(action="preconception.withdraw").count() == 1
    # She may enrol again later.
    again, created = _enrol(world, officer)
    assert created and again != e


def test_volunteers_neither_withdraw_nor_see(world):
    e = enrolment(world, world.persons["A1a-b1"])
    volunteer = world.actor(Role.BUILDING_VOLUNTEER)
    assert not selectors.enrolments_for(volunteer).exists()
    with pytest.raises(DomainError) as exc:
        services.withdraw(actor=volunteer, enrolment=e)
    assert exc.value.code == "permission.denied"


# --------------------------------------------------------------------------------------------- reading


def test_results_are_read_only_with_the_clinical_permission_and_each_read_is_audited(world, officer, clinic):
    e = enrolment(world, examined=True)
    view = selectors.enrolment_view(officer, e)
    assert view["results_hidden"] and view["examinations"][0]["results"] is None
    assert view["examinations"][0]["summary"] == "需随访"
    assert SECRET_VALUE not in str(view) and SECRET_ADVICE not in str(view)
    assert not AuditEntry.objects.filter(action="preconception.results_view").exists()
    for _ in range(2):
        view = selectors.enrolment_view(clinic, e)
    results = view["examinations"][0]["results"]
    assert results["advice"] == SECRET_ADVICE and results["risk"] == "high"
    blood = next(r for r in results["items"] if r["code"] == "blood_routine")
    assert blood == {"code": "blood_routine", "label": "血常规", "done": True, "value": SECRET_VALUE,
                     "abnormal": True}  # fmt: skip
    assert len(results["items"]) == 19
    assert (
        AuditEntry.objects.filter(action="preconception.results_view", object_id=str(e.public_id)).count()
        == 2
    )
