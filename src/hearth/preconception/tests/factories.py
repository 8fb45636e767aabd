"""Fixture enrolments of the pre-pregnancy check, made unscoped (test data, not an action)."""

from datetime import timedelta

from hearth.accounts.roles import Role
from hearth.core import time
from hearth.preconception.models import IN_PROGRESS, Enrolment, Examination, Risk, Status

# What the leak tests look for: none of it may reach anyone without the clinical permission.
SECRET_VALUE = "血红蛋白92g/L偏低"
SECRET_ADVICE = "建议补充铁剂一个月后复查血常规"
SECRET_NOTE = "已电话告知复查时间并解读结果"


def enrolment(world, person=None, *, examined: bool = False, abnormal: bool = True, outcome_consent: bool = False,
              man_consent: bool = True, facility=None) -> Enrolment:  # fmt: skip
    """An enrolment of `person` (default the woman of 祥和社区) at the fixture station; with `examined`, her
    results entered and assessed (abnormal: one item abnormal, high risk, with advice)."""
    person = person or world.persons["A1a"]
    found = Enrolment.objects.for_system().filter(woman=person, status__in=IN_PROGRESS).first()
    if found is not None:
        return found
    now = time.now()
    e = Enrolment.objects.create(
        woman=person, man_name="张伟", man_id_masked="**************1234", woman_consent=True,
        woman_consent_at=now, man_consent=man_consent, man_consent_at=now if man_consent else None,
        outcome_consent=outcome_consent, outcome_consent_at=now if outcome_consent else None,
        facility=facility or world.facility, agreed_on=time.today() + timedelta(days=7),
        place_path=person.place_path, created_by=world.grants[Role.COMMUNITY_OFFICER],
    )  # fmt: skip
    if examined:
        items = {
            "education": {"value": "", "abnormal": False},
            "blood_routine": {"value": SECRET_VALUE if abnormal else "正常", "abnormal": abnormal},
        }
        Examination.objects.create(
            enrolment=e, who="woman", person=person, items=items,
            risk=Risk.HIGH if abnormal else Risk.GENERAL, advice=SECRET_ADVICE if abnormal else "",
            needs_follow_up=abnormal, examined_on=time.today(), examined_by=world.grants[Role.CLINIC_STAFF],
            place_path=e.place_path,
        )  # fmt: skip
        e.status = Status.ASSESSED if not man_consent else Status.EXAMINED
        e.save(update_fields=["status"])
    return e
