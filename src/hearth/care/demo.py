"""Demo contacts (演示服务记录): a year of home visits in 祥和社区, so the worklists show every status."""

import random
from datetime import timedelta

from django.conf import settings

from hearth.accounts.actor import actor_for
from hearth.accounts.models import Grant
from hearth.accounts.roles import Role
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.registry.models import Person, PersonStatus

from . import schedule, services
from .models import Outcome, ServiceRecord, ServiceType


def _actor(username: str, role: str):
    grant = Grant.objects.active().filter(user__username=username, role=role).select_related("place").first()
    return actor_for(grant) if grant else None


def load_demo_care(*, seed: int = 7) -> int:
    """Idempotent: nothing is recorded if the demo has contacts already. Returns the contacts recorded."""
    if not settings.HEARTH_DEMO:
        raise RuntimeError("demo contacts are recorded only when HEARTH_DEMO=1")
    officer = _actor("community_officer", Role.COMMUNITY_OFFICER)
    if officer is None or ServiceRecord.objects.for_system().exists():
        schedule.recompute_all()
        return 0
    rng = random.Random(seed)
    today = time.today()
    catalogue = {s.code: s for s in ServiceType.objects.all()}
    persons = list(
        Person.objects.visible_to(officer).filter(status=PersonStatus.ACTIVE).order_by("pk")[:2000]
    )
    recorded = 0
    plan = [
        ("health_check", {"result": "未见异常"}, 0.35),
        ("childcare_guidance", {"topics": "喂养与睡眠"}, 0.5),
        ("cervical_screening", {"result": "未见异常"}, 0.2),
    ]
    for code, data, share in plan:
        service = catalogue[code]
        eligible = set(
            Person.objects.for_system()
            .filter(pk__in=[p.pk for p in persons])
            .filter(schedule.conditions.compile_q(service.condition, today))
            .values_list("pk", flat=True)
        )
        for p in persons:
            if p.pk not in eligible or rng.random() > share:
                continue
            outcome = rng.choices(
                [Outcome.DONE, Outcome.FOLLOW_UP, Outcome.DECLINED, Outcome.NOT_REACHED], [80, 5, 5, 10]
            )[0]
            given = outcome in (Outcome.DONE, Outcome.FOLLOW_UP)
            oldest = min(540, (today - p.birth_date).days)  # a baby's contacts start after the birth
            if oldest < 1:
                continue
            services.record_contact(
                actor=officer, person=p, service=service, outcome=outcome,
                occurred_on=today - timedelta(days=rng.randint(1, oldest)), data=data if given else None,
                consent=True if given and service.consent_required else None,
            )  # fmt: skip
            recorded += 1
    volunteer = _actor("building_volunteer", Role.BUILDING_VOLUNTEER)
    if volunteer is not None:
        visit = catalogue["household_visit"]
        heads = Person.objects.visible_to(volunteer).filter(
            schedule.conditions.compile_q(visit.condition, today)
        )[:40]
        for p in heads:
            if rng.random() < 0.6:
                services.record_contact(
                    actor=volunteer, person=p, service=visit, outcome=Outcome.DONE,
                    occurred_on=today - timedelta(days=rng.randint(1, 120)), data={"members_present": True},
                )  # fmt: skip
                recorded += 1
    schedule.recompute_all()
    return recorded


def load_demo_checkday(*, seed: int = 11) -> int:
    """Today's check day (集中康检日) in 祥和社区, its sheet part tapped: most came, some away or ill, a few
    declined, the rest not yet called. Idempotent: nothing happens if the demo has a check day. Returns taps."""
    from . import checkdays
    from .models import AbsenceReason, CheckDay, Invitation, InvitationStatus

    if not settings.HEARTH_DEMO:
        raise RuntimeError("demo check days are planned only when HEARTH_DEMO=1")
    officer = _actor("community_officer", Role.COMMUNITY_OFFICER)
    if officer is None or CheckDay.objects.for_system().exists():
        return 0
    rng = random.Random(seed)
    service = ServiceType.objects.get(code="health_check")
    place = officer.scope_place
    facility = checkdays.facilities_serving(place).first()
    try:
        day = checkdays.checkday_plan(
            actor=officer, service=service, place=place, held_on=time.today(), location="祥和社区党群服务中心",
            facility=facility,
        )  # fmt: skip
    except DomainError:
        return 0  # nobody to invite (the demo's contacts covered everyone)
    taps = 0
    for invitation in Invitation.objects.for_system().filter(check_day=day).select_related("person")[:120]:
        roll = rng.random()
        if roll < 0.7:
            status, reason = InvitationStatus.ATTENDED, ""
        elif roll < 0.85:
            status, reason = InvitationStatus.ABSENT, rng.choice([AbsenceReason.AWAY, AbsenceReason.ILL])
        elif roll < 0.9:
            status, reason = InvitationStatus.ABSENT, AbsenceReason.DECLINED
        else:
            continue  # not called yet
        checkdays.attendance_record(actor=officer, invitation=invitation, status=status, reason=reason)
        taps += 1
    return taps
