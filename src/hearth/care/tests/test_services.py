"""The catalogue's checks, recording contacts (once, with consent, field by field) and what each role sees."""

import uuid
from datetime import timedelta

import pytest

from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.care import catalogue as cat
from hearth.care import services
from hearth.care.models import Outcome, ServiceRecord, ServiceTypeVersion
from hearth.core import time
from hearth.core.errors import DomainError, as_list

pytestmark = pytest.mark.django_db


def _codes(exc) -> dict[str, str]:
    return {e.field: e.code for e in as_list(exc.value)}


def _definition(**over) -> dict:
    base = {
        "name": "测试服务", "condition": {"v": 1, "sex": "F"}, "schedule": "interval", "interval_months": 6,
        "roles": [Role.COMMUNITY_OFFICER], "form": [{"name": "ok", "label": "完成", "type": "bool"}],
    }  # fmt: skip
    return base | over


def test_shipped_catalogue_passes_its_own_checks(catalogue):
    assert set(catalogue) == {d["code"] for d in cat.DEFAULTS}
    for s in catalogue.values():
        cat.check_definition({k: v for k, v in cat.snapshot(s).items() if k != "code"})
        assert not cat._uses(s.condition, "marital")  # services are never rationed by marital status
        assert s.versions.count() == 1


def test_every_problem_named_at_once(world):
    admin = world.actor(Role.DISTRICT_ADMIN)
    bad = _definition(
        name="", schedule="interval", interval_months=0, roles=["auditor"], lead_days=-1,
        condition={"v": 1, "marital": ["20"]}, form=[{"name": "1x", "label": "x", "type": "text"}],
    )  # fmt: skip
    with pytest.raises(DomainError) as exc:
        services.service_type_create(actor=admin, code="Bad Code", values=bad)
    assert _codes(exc) == {
        "code": "care.code", "name": "care.name_required", "interval_months": "care.interval",
        "roles": "care.roles", "lead_days": "care.lead_days", "condition": "care.condition_marital",
        "form": "care.form",
    }  # fmt: skip
    messages = {e.field: e.message for e in as_list(exc.value)}
    assert messages["condition"].startswith("服务对象条件：") and "婚姻" in messages["condition"]
    assert messages["form"].startswith("记录项目：第1项")


def test_event_windows_checked(world):
    admin = world.actor(Role.DISTRICT_ADMIN)
    for windows in ([], [[7, 3]], [[3, 7], [5, 9]], [["3", 7]], [[3, 7]] * 7):
        with pytest.raises(DomainError) as exc:
            services.service_type_create(
                actor=admin, code="ev", values=_definition(schedule="event", event_kind="childbirth",
                                                           event_windows=windows),
            )  # fmt: skip
        assert _codes(exc) == {"event_windows": "care.event_windows"}, windows


def test_create_then_update_keeps_versions_and_audits(world, django_capture_on_commit_callbacks):
    admin = world.actor(Role.DISTRICT_ADMIN)
    s = services.service_type_create(actor=admin, code="test_service", values=_definition())
    assert s.version == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.service_type_update(
            actor=admin, service=s, values=_definition(interval_months=12), version=1
        )
    assert s.version == 2 and s.interval_months == 12
    assert list(ServiceTypeVersion.objects.filter(service=s).values_list("version", flat=True)) == [2, 1]
    entry = AuditEntry.objects.filter(action="care.service_update").get()
    assert entry.data["before"]["interval_months"] == 6 and entry.data["now"]["interval_months"] == 12
    with pytest.raises(DomainError) as exc:  # another officer's edit from version 1
        services.service_type_update(actor=admin, service=s, values=_definition(), version=1)
    assert _codes(exc) == {"version": "care.stale"}


def test_only_managers_change_the_catalogue(world):
    with pytest.raises(DomainError) as exc:
        services.service_type_create(
            actor=world.actor(Role.COMMUNITY_OFFICER), code="x", values=_definition()
        )
    assert exc.value.code == "permission.denied"


def test_record_is_once_per_token_and_per_day(world, catalogue):
    officer = world.actor(Role.COMMUNITY_OFFICER)
    person, service = world.persons["A1a"], catalogue["childcare_guidance"]
    token = uuid.uuid4()
    first, created = services.record_contact(
        actor=officer, person=person, service=service, outcome=Outcome.DONE, client_token=token,
        data={"topics": "喂养"},
    )  # fmt: skip
    again, created_again = services.record_contact(
        actor=officer, person=person, service=service, outcome=Outcome.DONE, client_token=token,
        data={"topics": "喂养"},
    )  # fmt: skip
    assert created and not created_again and again.pk == first.pk
    # Without a token: the same person, service and day is the same visit.
    third, created_third = services.record_contact(
        actor=officer, person=person, service=service, outcome=Outcome.DONE, data={"topics": "喂养"}
    )
    assert not created_third and third.pk == first.pk
    assert ServiceRecord.objects.for_system().count() == 1
    assert AuditEntry.objects.filter(action="care.record").count() == 1


def test_record_refusals_name_their_fields(world, catalogue):
    officer = world.actor(Role.COMMUNITY_OFFICER)
    person, service = world.persons["A1a"], catalogue["health_check"]  # consent required, clinical
    with pytest.raises(DomainError) as exc:
        services.record_contact(
            actor=officer, person=person, service=service, outcome=Outcome.DONE,
            occurred_on=time.today() + timedelta(days=1), data={"result": "很好", "extra": 1},
        )  # fmt: skip
    assert _codes(exc) == {
        "occurred_on": "care.date_future", "consent": "care.consent", "data.result": "care.data_choice",
        "data": "care.data_unknown",
    }  # fmt: skip
    with pytest.raises(DomainError) as exc:
        services.record_contact(
            actor=officer,
            person=person,
            service=service,
            outcome=Outcome.DECLINED,
            data={"result": "未见异常"},
        )
    assert _codes(exc) == {"data": "care.data_not_given"}
    assert not ServiceRecord.objects.for_system().exists()
    # Declining needs no consent and records nothing else.
    record, _created = services.record_contact(
        actor=officer, person=person, service=service, outcome=Outcome.DECLINED
    )
    assert record.data == {} and record.consent is None


def test_roles_that_do_not_deliver_a_service_cannot_record_it(world, catalogue):
    person = world.persons["A1a-b1"]
    volunteer = world.actor(Role.BUILDING_VOLUNTEER)
    with pytest.raises(DomainError) as exc:
        services.record_contact(actor=volunteer, person=person, service=catalogue["health_check"],
                                outcome=Outcome.DONE, consent=True)  # fmt: skip
    assert exc.value.code == "permission.denied"
    record, created = services.record_contact(
        actor=volunteer, person=person, service=catalogue["household_visit"], outcome=Outcome.DONE,
        data={"members_present": True},
    )  # fmt: skip
    assert created and record.data == {"members_present": True}
    # Out of scope: a person of another community.
    with pytest.raises(DomainError):
        services.record_contact(actor=world.actor(Role.COMMUNITY_OFFICER), person=world.persons["A1b"],
                                service=catalogue["childcare_guidance"], outcome=Outcome.DONE)  # fmt: skip


def test_clinical_results_hidden_without_the_clinical_permission(world, catalogue):
    officer = world.actor(Role.COMMUNITY_OFFICER)
    person, service = world.persons["A1a"], catalogue["health_check"]
    record, _ = services.record_contact(
        actor=officer, person=person, service=service, outcome=Outcome.FOLLOW_UP, consent=True,
        data={"result": "需进一步检查", "advice": "复查"}, note="预约下周",
    )  # fmt: skip
    shown = services.record_view(officer, record)
    assert shown["data"] is None and shown["clinical_hidden"] and shown["note"] == ""
    assert shown["outcome_label"] == "已服务，需随访"
    clinic = world.actor(Role.CLINIC_STAFF)
    assert services.record_view(clinic, record)["data"] == {"result": "需进一步检查", "advice": "复查"}
    # A service that is not clinical shows its values to whoever sees the record.
    plain, _ = services.record_contact(
        actor=officer, person=person, service=catalogue["childcare_guidance"], outcome=Outcome.DONE,
        data={"topics": "睡眠"},
    )  # fmt: skip
    assert services.record_view(officer, plain)["data"] == {"topics": "睡眠"}


def test_check_data_types():
    form = cat.check_form(
        [
            {"name": "n", "label": "次数", "type": "number", "min": 0, "max": 10, "required": True},
            {"name": "d", "label": "日期", "type": "date"},
            {"name": "b", "label": "是否", "type": "bool"},
        ]
    )
    assert cat.check_data(form, {"n": "3", "d": "2026-01-31", "b": "是"}) == {
        "n": 3.0, "d": "2026-01-31", "b": True,
    }  # fmt: skip
    with pytest.raises(DomainError) as exc:
        cat.check_data(form, {"n": "11", "d": "31/01/2026", "b": "maybe"})
    assert _codes(exc) == {
        "data.n": "care.data_range",
        "data.d": "care.data_date",
        "data.b": "care.data_bool",
    }
    with pytest.raises(DomainError) as exc:
        cat.check_data(form, {"n": "nan"})
    assert _codes(exc) == {"data.n": "care.data_number"}


def test_codes_the_pages_use_are_reserved(world):
    with pytest.raises(DomainError) as exc:
        services.service_type_create(
            actor=world.actor(Role.DISTRICT_ADMIN), code="catalogue", values=_definition()
        )
    assert _codes(exc) == {"code": "care.code_reserved"}


def test_contraceptive_method_is_recorded_and_seen_only_by_clinic_staff(world, catalogue):
    """Counselling and free supplies are ordinary records; which method a person uses is clinical."""
    from hearth.care import referrals

    service = catalogue["contraceptive_counselling"]
    person = world.persons["A1a"]
    officer = world.actor(Role.COMMUNITY_OFFICER)
    with pytest.raises(DomainError) as exc:
        services.record_contact(actor=officer, person=person, service=service, outcome=Outcome.DONE,
                                data={"supplies": "避孕套", "quantity": 10, "method": "x"})  # fmt: skip
    assert _codes(exc) == {"data.method": "care.data_clinical"}
    record, _ = services.record_contact(
        actor=officer, person=person, service=service, outcome=Outcome.DONE,
        data={"supplies": "避孕套", "quantity": 10, "follow_up_agreed": False},
    )  # fmt: skip
    assert services.record_view(officer, record)["data"] == {
        "supplies": "避孕套", "quantity": 10, "follow_up_agreed": False,
    }  # fmt: skip
    clinic = world.actor(Role.CLINIC_STAFF)
    referrals.refer(actor=officer, person=person, facility=world.facility, consent=True)
    later, _ = services.record_contact(
        actor=clinic, person=person, service=service, outcome=Outcome.DONE,
        occurred_on=time.today() - timedelta(days=1), data={"method": "本人选择的方法"},
    )  # fmt: skip
    assert services.record_view(clinic, later)["data"] == {"method": "本人选择的方法"}
    shown = services.record_view(officer, later)
    assert shown["data"] == {} and "本人选择的方法" not in str(shown)
