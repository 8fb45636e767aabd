"""Demo enrolments of the free pre-pregnancy check (演示孕前优生): three couples of 祥和社区 at the station — one
waiting for the check, one examined with general risk and the assessment signed for, one with an abnormal item,
high risk and a follow-up — so the list, the enrolment page and the clinic's results form all show something."""

from datetime import timedelta

from django.conf import settings

from hearth.accounts.actor import actor_for
from hearth.accounts.models import Grant
from hearth.accounts.roles import Role
from hearth.core import time
from hearth.registry.models import Person, PersonStatus, Sex

from . import services
from .items import items_for
from .models import DeliveryMethod, Enrolment, Partner, Risk


def _actor(username: str, role: str):
    grant = Grant.objects.active().filter(user__username=username, role=role).first()
    return actor_for(grant) if grant else None


def load_demo_preconception() -> int:
    """Idempotent: nothing happens if the demo has an enrolment. Returns the enrolments made."""
    if not settings.HEARTH_DEMO:
        raise RuntimeError("demo enrolments are made only when HEARTH_DEMO=1")
    officer = _actor("community_officer", Role.COMMUNITY_OFFICER)
    clinic = _actor("clinic_staff", Role.CLINIC_STAFF)
    if officer is None or clinic is None or Enrolment.objects.for_system().exists():
        return 0
    today = time.today()
    women = list(
        Person.objects.visible_to(officer)
        .filter(status=PersonStatus.ACTIVE, sex=Sex.FEMALE, birth_date__lte=today - timedelta(days=365 * 22),
                birth_date__gte=today - timedelta(days=365 * 35))
        .order_by("pk")[:3]
    )  # fmt: skip
    made = 0
    for i, woman in enumerate(women):
        enrolment, _ = services.enrol(
            actor=officer, woman=woman, man_name="张伟" if i != 1 else "李强", man_id_masked="****1234",
            facility=clinic.facility, agreed_on=today + timedelta(days=7), woman_consent=True,
            man_consent=i != 2, outcome_consent=i == 1,
        )  # fmt: skip
        made += 1
        if i == 0:
            continue
        normal = {item.code: {"value": "", "abnormal": False} for item in items_for(Partner.WOMAN)}
        if i == 2:
            normal["blood_routine"] = {"value": "血红蛋白偏低", "abnormal": True}
        services.record_examination(
            actor=clinic, enrolment=enrolment, who=Partner.WOMAN, items=normal,
            risk=Risk.GENERAL if i == 1 else Risk.HIGH,
            advice="" if i == 1 else "建议补充铁剂，一个月后复查血常规。", examined_on=today,
        )  # fmt: skip
        if i == 1:
            services.deliver(
                actor=officer,
                enrolment=enrolment,
                who=Partner.WOMAN,
                method=DeliveryMethod.SELF,
                delivered_on=today,
            )
    return made
