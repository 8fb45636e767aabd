"""Check days (集中康检日): planning a day for a community, inviting its eligible, recording attendance with one tap,
make-up days (补检) for those who could not come, and the attendance rates against seed 001's targets.

- Whom a day invites: the service's worklist rows of the community whose status on the day is actionable (never
  offered, overdue or due), persons still on the register, not already invited to another pending day of the
  service. One bulk insert.
- Attendance is one tap: attended (the person's consent to the check; the clinic records results later), or
  absent with a coded reason. Each tap writes the contact (`services.record_contact`) and the invitation in one
  transaction, the invitation row locked, so a double tap, a retry or two officers tapping the same person
  record once. A tap may be corrected on the day itself only, audited as a correction (更正).
- "Declined" (本人谢绝) is respected: it is recorded as a declined contact, which closes the person's cycle (the
  worklist row moves to the next cycle), and the person is not invited to the make-up day.
- Rates: same-day attendance and attendance after make-up, both over the invited who did not decline (on the day
  or on a make-up day of the chain). Seed 001: at least 95% on the day and 100% after make-up.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors
from hearth.places.models import Facility, Place, PlaceKind
from hearth.places.tree import ancestor_paths, subtree_q
from hearth.registry.models import PersonStatus

from . import services, worklists
from .models import (
    AbsenceReason,
    CheckDay,
    CheckDayStatus,
    Due,
    Invitation,
    InvitationStatus,
    Outcome,
    Schedule,
    ServiceRecord,
    ServiceType,
)

# Seed 001 (五大系列服务): at least 95% of the invited who did not decline attend on the day, all after make-up.
SAME_DAY_TARGET = 0.95
AFTER_MAKEUP_TARGET = 1.0
LOCATION_MAX = 200
NOTE_MAX = 300
PLAN_AHEAD_DAYS = 366
# The services a check day can be held for: periodic ones (a worklist that comes round again).
PLANNABLE = (Schedule.INTERVAL,)


def _deny(message: str | None = None) -> DomainError:
    return DomainError("permission.denied", message or _("您没有此操作的权限。"))


# --------------------------------------------------------------------------------------------- reads


def days_for(actor) -> QuerySet[CheckDay]:
    """The check days the actor sees: in scope (clinic staff: those held at their facility), of a service whose
    worklist the actor sees (a volunteer does not see who was invited to a health check)."""
    return CheckDay.objects.visible_to(actor).filter(service__in=services.services_for(actor))


def plannable_services(actor) -> QuerySet[ServiceType]:
    """The periodic services the actor delivers and may hold a check day for (officers with a place grant)."""
    if actor.facility is not None or not actor.can(Perm.CARE_RECORD) or not actor.sees_personal_data:
        return ServiceType.objects.none()
    qs = ServiceType.objects.filter(active=True, schedule__in=PLANNABLE)
    return qs.filter(pk__in=[s.pk for s in qs if services.can_deliver(actor, s)])


def communities_for(actor) -> QuerySet[Place]:
    """The communities (社区/村) in the actor's scope, for planning."""
    if actor.facility is not None:
        return Place.objects.none()
    return Place.objects.visible_to(actor).current().filter(kind=PlaceKind.COMMUNITY).order_by("path")


def can_plan(actor) -> bool:
    return plannable_services(actor).exists() and communities_for(actor).exists()


def facilities_serving(place: Place) -> QuerySet[Facility]:
    """Facilities that serve the place: one of their served places is it or above it (a facility with none set
    serves the place it stands in and below)."""
    paths = ancestor_paths(place.path)
    return (
        Facility.objects.filter(
            Q(served_places__path__in=paths) | Q(served_places__isnull=True, place__path__in=paths)
        )
        .distinct()
        .order_by("name")
    )


def facilities_for(actor) -> QuerySet[Facility]:
    """The facilities a planner may choose: those serving any place in the actor's scope."""
    scope = actor.scope_path
    if not scope or actor.facility is not None:
        return Facility.objects.none()
    above = ancestor_paths(scope)
    return (
        Facility.objects.filter(
            Q(served_places__path__in=above)
            | subtree_q("served_places__path", scope)
            | Q(served_places__isnull=True, place__path__in=above)
            | (Q(served_places__isnull=True) & subtree_q("place__path", scope))
        )
        .distinct()
        .order_by("name")
    )


def may_record(actor, day: CheckDay) -> bool:
    """Whether the actor may tap attendance on the day: a role delivering the service, the day come (or past,
    for a paper sheet typed in later) and its absent not yet passed on to a make-up day."""
    return (
        services.can_deliver(actor, day.service)
        and day.service.active
        and day.held_on <= time.today()
        and day.status != CheckDayStatus.CLOSED
    )


def may_correct(day: CheckDay) -> bool:
    return day.held_on == time.today() and day.status != CheckDayStatus.CLOSED


def may_plan_makeup(actor, day: CheckDay) -> bool:
    """A make-up day is planned after the day (it is over), once, by one who may plan the service."""
    return (
        day.held_on < time.today()
        and day.status != CheckDayStatus.CLOSED
        and plannable_services(actor).filter(pk=day.service_id).exists()
    )


def reach_invitations(facility: Facility) -> QuerySet:
    """For the scoping providers: persons invited to a check day held at the facility."""
    return Invitation.objects.for_system().filter(check_day__facility=facility).values("person_id")


# --------------------------------------------------------------------------------------------- rates


@dataclass
class Rates:
    """Attendance of a check day and its make-up chain (counted per person of the first day)."""

    invited: int = 0
    declined: int = 0
    attended_same_day: int = 0
    attended_after_makeup: int = 0
    absent: int = 0  # on the first day, not declined
    pending: int = 0  # on the first day, not yet recorded
    same_day_target: float = SAME_DAY_TARGET
    after_makeup_target: float = AFTER_MAKEUP_TARGET
    extra: dict = field(default_factory=dict)

    @property
    def base(self) -> int:
        """The invited who did not decline: the rates' denominator."""
        return self.invited - self.declined

    @property
    def same_day_rate(self) -> float | None:
        return self.attended_same_day / self.base if self.base > 0 else None

    @property
    def after_makeup_rate(self) -> float | None:
        return self.attended_after_makeup / self.base if self.base > 0 else None

    @property
    def same_day_met(self) -> bool | None:
        r = self.same_day_rate
        return None if r is None else r >= self.same_day_target - 1e-9

    @property
    def after_makeup_met(self) -> bool | None:
        r = self.after_makeup_rate
        return None if r is None else r >= self.after_makeup_target - 1e-9

    def as_dict(self) -> dict:
        return {
            "invited": self.invited, "declined": self.declined, "base": self.base,
            "attended_same_day": self.attended_same_day, "attended_after_makeup": self.attended_after_makeup,
            "absent": self.absent, "pending": self.pending,
            "same_day_rate": self.same_day_rate, "same_day_target": self.same_day_target,
            "after_makeup_rate": self.after_makeup_rate, "after_makeup_target": self.after_makeup_target,
        }  # fmt: skip


def _rate_aggregates() -> dict:
    """Counts over one chain's invitations (a person declines or attends once in a chain: counted once)."""
    declined = Q(status=InvitationStatus.ABSENT, reason=AbsenceReason.DECLINED)
    attended = Q(status=InvitationStatus.ATTENDED)
    on_first = Q(check_day__origin_id__isnull=True)
    return {
        "invited": Count("pk", filter=on_first),
        "declined": Count("person_id", filter=declined, distinct=True),
        "attended_same_day": Count("pk", filter=on_first & attended),
        "attended_after_makeup": Count("person_id", filter=attended, distinct=True),
        "absent": Count("pk", filter=on_first & Q(status=InvitationStatus.ABSENT) & ~declined),
        "pending": Count("pk", filter=on_first & Q(status=InvitationStatus.INVITED)),
    }


def rates_for(days: Iterable[CheckDay]) -> dict[int, Rates]:
    """Rates per chain, keyed by the id of each chain's first day, for many days in one query (list pages).

    Counts only, of days the caller opened through `days_for` (their invitations lie in the same community)."""
    roots = {d.origin_id or d.pk for d in days}
    if not roots:
        return {}
    rows = (
        Invitation.objects.for_system()
        .filter(Q(check_day_id__in=roots) | Q(check_day__origin_id__in=roots))
        .annotate(root=Coalesce("check_day__origin_id", "check_day_id"))
        .values("root")
        .annotate(**_rate_aggregates())
        .order_by()
    )
    out = {root: Rates() for root in roots}
    for row in rows:
        root = row.pop("root")
        out[root] = Rates(**row)
    return out


def checkday_rates(day: CheckDay) -> Rates:
    """Same-day attendance and attendance after make-up of the day's chain (a make-up day: of its first day)."""
    root = day.origin_id or day.pk
    return rates_for([day])[root]


def day_counts(day: CheckDay) -> dict[str, int]:
    """The day's own sheet: invited, attended, absent (of them declined), not yet recorded."""
    declined = Q(status=InvitationStatus.ABSENT, reason=AbsenceReason.DECLINED)
    return (
        Invitation.objects.for_system()
        .filter(check_day=day)
        .aggregate(
            invited=Count("pk"),
            attended=Count("pk", filter=Q(status=InvitationStatus.ATTENDED)),
            absent=Count("pk", filter=Q(status=InvitationStatus.ABSENT)),
            declined=Count("pk", filter=declined),
            pending=Count("pk", filter=Q(status=InvitationStatus.INVITED)),
        )
    )


def pending_counts(days: Iterable[CheckDay]) -> dict[int, int]:
    """Invitations not yet recorded, per day, in one query (the home page's to-do)."""
    ids = [d.pk for d in days]
    if not ids:
        return {}
    rows = (
        Invitation.objects.for_system()
        .filter(check_day_id__in=ids, status=InvitationStatus.INVITED)
        .values("check_day_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r["check_day_id"]: r["n"] for r in rows}


# --------------------------------------------------------------------------------------------- planning


def _check_plan(
    *,
    actor,
    service: ServiceType,
    place: Place,
    held_on: date | None,
    location: str,
    facility: Facility | None,
) -> str:
    """Everything wrong with a day's plan at once, each naming its field; returns the cleaned location."""
    errors: list[DomainError] = []
    today = time.today()
    if service.schedule not in PLANNABLE or not service.active:
        errors.append(
            DomainError("care.checkday_service", _("服务项目：只能为启用中的定期服务安排康检日。"), "service")
        )
    if held_on is None:
        errors.append(DomainError("care.checkday_date", _("康检日期：请填写日期。"), "held_on"))
    elif held_on < today:
        errors.append(DomainError("care.checkday_past", _("康检日期：不能早于今天。"), "held_on"))
    elif held_on > today + timedelta(days=PLAN_AHEAD_DAYS):
        errors.append(DomainError("care.checkday_far", _("康检日期：不能晚于一年以后。"), "held_on"))
    location = (location or "").strip()
    if not location:
        errors.append(DomainError("care.checkday_location", _("地点：请填写康检地点。"), "location"))
    elif len(location) > LOCATION_MAX:
        errors.append(DomainError("care.checkday_location", _("地点：不能超过200个字。"), "location"))
    if facility is not None and not facilities_serving(place).filter(pk=facility.pk).exists():
        errors.append(
            DomainError("care.checkday_facility", _("服务机构：该机构不服务于此社区。"), "facility")
        )
    DomainErrors.raise_if_any(errors)
    return location


def _invite(day: CheckDay, rows: Iterable[tuple[int, str]]) -> int:
    invitations = [Invitation(check_day=day, person_id=pid, place_path=path) for pid, path in rows]
    Invitation.objects.bulk_create(invitations, batch_size=2000)
    return len(invitations)


def _actionable_q(service: ServiceType, as_of: date) -> Q:
    q = Q(pk__in=[])
    for status in worklists.ACTIONABLE:
        q |= worklists.status_q(service, status, as_of)
    return q


def _eligible(actor, service: ServiceType, place: Place, held_on: date) -> QuerySet:
    """(person id, place path) of the community's worklist rows actionable on the day, persons on the register,
    not already invited to another day of the service still to come."""
    pending = Invitation.objects.for_system().filter(
        person_id=OuterRef("person_id"),
        check_day__service=service,
        check_day__held_on__gte=time.today(),
        status=InvitationStatus.INVITED,
    )
    return (
        Due.objects.visible_to(actor)
        .filter(service=service)
        .filter(subtree_q("place_path", place.path))
        .filter(_actionable_q(service, held_on))
        .filter(person__status=PersonStatus.ACTIVE)
        .exclude(Exists(pending))
        .order_by("place_path", "person_id")
        .values_list("person_id", "place_path")
        .distinct()
    )


@transaction.atomic
def checkday_plan(
    *,
    actor,
    service: ServiceType,
    place: Place,
    held_on: date,
    location: str,
    facility: Facility | None = None,
) -> CheckDay:
    """Plan a check day (安排集中康检日) for a community and invite its eligible: those the service's worklist
    lists as never offered, overdue or due on the day."""
    if not services.can_deliver(actor, service) or actor.facility is not None:
        raise _deny(_("您的角色不提供此项服务，不能安排康检日。"))
    if place.kind != PlaceKind.COMMUNITY or place.valid_to is not None:
        raise DomainError("care.checkday_place", _("社区：请选择一个社区（村）。"), "place")
    if not Place.objects.visible_to(actor).filter(pk=place.pk).exists():
        raise DomainError("care.checkday_scope", _("社区：不在您的管辖范围内。"), "place")
    location = _check_plan(
        actor=actor, service=service, place=place, held_on=held_on, location=location, facility=facility
    )
    day = CheckDay.objects.create(
        service=service, place=place, place_path=place.path, held_on=held_on, location=location,
        facility=facility, created_by=actor.grant,
    )  # fmt: skip
    invited = _invite(day, _eligible(actor, service, place, held_on))
    if not invited:
        raise DomainError(
            "care.checkday_nobody", _("社区：该社区目前没有需要邀请参加此项服务的人员。"), "place"
        )
    audit.record(
        actor=actor, action="care.checkday_plan", target=day, row_count=invited,
        data={"service": service.code, "place": str(place.public_id), "held_on": held_on.isoformat(),
              "location": location, "facility": facility.name if facility else None},
    )  # fmt: skip
    return day


@transaction.atomic
def checkday_makeup(
    *,
    actor,
    day: CheckDay,
    held_on: date,
    location: str,
    facility: Facility | None = None,
) -> CheckDay:
    """Plan a make-up day (补检) for the day's absent who did not decline (and those never recorded), still due
    for the service on the new date. The day is then closed: its sheet is final."""
    service = day.service
    if not services.can_deliver(actor, service) or actor.facility is not None:
        raise _deny(_("您的角色不提供此项服务，不能安排补检。"))
    if not days_for(actor).filter(pk=day.pk).exists():
        raise _deny()
    current = CheckDay.objects.select_for_update().get(pk=day.pk)
    if current.held_on >= time.today():
        raise DomainError("care.makeup_early", _("补检：康检日结束后才能安排补检。"), "held_on")
    if current.status == CheckDayStatus.CLOSED or CheckDay.objects.filter(makeup_of=current).exists():
        raise DomainError("care.makeup_exists", _("补检：此康检日已安排过补检。"), "held_on")
    place = current.place
    location = _check_plan(
        actor=actor, service=service, place=place, held_on=held_on, location=location, facility=facility
    )
    still_due = (
        Due.objects.for_system()
        .filter(person_id=OuterRef("person_id"), service=service)
        .filter(_actionable_q(service, held_on))
    )
    rows = list(
        Invitation.objects.visible_to(actor)
        .filter(check_day=current)
        .filter(
            Q(status=InvitationStatus.INVITED)
            | Q(status=InvitationStatus.ABSENT) & ~Q(reason=AbsenceReason.DECLINED)
        )
        .filter(person__status=PersonStatus.ACTIVE)
        .filter(Exists(still_due))
        .order_by("place_path", "person_id")
        .values_list("person_id", "place_path")
    )
    if not rows:
        raise DomainError("care.makeup_nobody", _("补检：没有需要补检的人员（未到场且未谢绝）。"), "held_on")
    makeup = CheckDay.objects.create(
        service=service, place=place, place_path=current.place_path, held_on=held_on, location=location,
        facility=facility, makeup_of=current, origin_id=current.origin_id or current.pk, created_by=actor.grant,
    )  # fmt: skip
    invited = _invite(makeup, rows)
    current.status = CheckDayStatus.CLOSED
    current.save(update_fields=["status", "updated_at"])
    day.status = current.status
    audit.record(
        actor=actor, action="care.checkday_makeup", target=makeup, row_count=invited,
        data={"makeup_of": str(current.public_id), "held_on": held_on.isoformat(), "location": location,
              "facility": facility.name if facility else None},
    )  # fmt: skip
    return makeup


# --------------------------------------------------------------------------------------------- attendance


def _check_tap(status: str, reason: str, note: str) -> tuple[str, str, str]:
    errors: list[DomainError] = []
    reason = (reason or "").strip()
    note = (note or "").strip()
    if status not in (InvitationStatus.ATTENDED, InvitationStatus.ABSENT):
        errors.append(DomainError("care.attendance_status", _("到场情况：请选择到场或未到。"), "status"))
    elif status == InvitationStatus.ABSENT and reason not in AbsenceReason.values:
        labels = "、".join(str(label) for label in AbsenceReason.labels)
        errors.append(
            DomainError("care.attendance_reason", _("未到原因：请选择%(r)s之一。") % {"r": labels}, "reason")
        )
    elif status == InvitationStatus.ATTENDED and reason:
        errors.append(
            DomainError("care.attendance_reason_extra", _("未到原因：到场时不填写未到原因。"), "reason")
        )
    if len(note) > NOTE_MAX:
        errors.append(DomainError("care.note", _("备注：不能超过300个字。"), "note"))
    DomainErrors.raise_if_any(errors)
    return status, (reason if status == InvitationStatus.ABSENT else ""), note


def _outcome(status: str, reason: str) -> str:
    if status == InvitationStatus.ATTENDED:
        return Outcome.DONE
    return Outcome.DECLINED if reason == AbsenceReason.DECLINED else Outcome.NOT_REACHED


def attendance_record(
    *,
    actor,
    invitation: Invitation,
    status: str,
    reason: str = "",
    note: str = "",
    client_token: UUID | None = None,
) -> tuple[Invitation, bool]:
    """One tap on the sheet (点名): attended, or absent with a reason. Returns (invitation, changed).

    Attending is the person's consent to the check: the contact is written as given (the clinic records the
    results later); absent writes "declined" (closing the cycle) or "not met". A repeat — the same token, or the
    same answer again — returns the invitation unchanged; a different answer is a correction, allowed on the day
    itself only and audited as one.
    """
    day = invitation.check_day
    service = day.service
    if not services.can_deliver(actor, service):
        raise _deny(_("您的角色不提供此项服务，不能记录到场情况。"))
    if not days_for(actor).filter(pk=day.pk).exists():
        raise _deny()
    if not Invitation.objects.visible_to(actor).filter(pk=invitation.pk).exists():
        raise _deny()
    status, reason, note = _check_tap(status, reason, note)
    if client_token is not None:
        found = Invitation.objects.for_system().filter(client_token=client_token).first()
        if found is not None:
            if found.pk != invitation.pk:
                raise DomainError(
                    "care.token_reused", _("提交编号已用于另一条记录，请刷新页面后重试。"), "client_token"
                )
            return found, False
    today = time.today()
    if day.held_on > today:
        raise DomainError("care.attendance_early", _("到场情况：康检日还没到，不能记录。"), "status")
    with transaction.atomic():
        current = (
            Invitation.objects.for_system()
            .select_for_update()
            .select_related("person", "check_day")
            .get(pk=invitation.pk)
        )
        if current.status == status and current.reason == reason:
            return current, False  # the same answer again: a double tap, or two officers at once
        locked_day = CheckDay.objects.select_for_update().get(pk=day.pk)
        if locked_day.status == CheckDayStatus.CLOSED:
            raise DomainError(
                "care.attendance_closed", _("到场情况：此康检日已安排补检，不能再记录。"), "status"
            )
        correcting = current.status != InvitationStatus.INVITED
        before = {"status": current.status, "reason": current.reason}
        if correcting:
            if locked_day.held_on != today:
                raise DomainError(
                    "care.attendance_correct_late", _("到场情况：只能在康检日当天更正。"), "status"
                )
            if current.record_id is not None:
                # The contact the first tap wrote was a mistake: it goes, and the new one takes its place.
                old = ServiceRecord.objects.for_system().get(pk=current.record_id)
                before["record"] = {"outcome": old.outcome, "occurred_on": old.occurred_on.isoformat()}
                current.record = None
                current.save(update_fields=["record"])
                old.delete()
        outcome = _outcome(status, reason)
        given = status == InvitationStatus.ATTENDED
        record, created = services.record_contact(
            actor=actor, person=current.person, service=service, occurred_on=locked_day.held_on,
            outcome=outcome, data={} if given else None, consent=True if given else None,
            client_token=client_token, facility=locked_day.facility,
        )  # fmt: skip
        same = (Outcome.DONE, Outcome.FOLLOW_UP) if given else (outcome,)
        if not created and record.outcome not in same:
            # Someone recorded this person's service that day otherwise (a visit at home): check, not overwrite.
            raise DomainError(
                "care.attendance_recorded_otherwise",
                _("到场情况：此人当天已有一条“%(o)s”的服务记录，请核对后再记录。")
                % {"o": Outcome(record.outcome).label},
                "status",
            )
        current.status, current.reason, current.note = status, reason, note
        current.recorded_by, current.recorded_at = actor.grant, time.now()
        current.client_token = client_token
        current.record = record if created else None
        current.save(
            update_fields=["status", "reason", "note", "recorded_by", "recorded_at", "client_token", "record"]
        )
        if locked_day.status == CheckDayStatus.PLANNED:
            locked_day.status = CheckDayStatus.HELD
            locked_day.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor, action="care.checkday_correct" if correcting else "care.checkday_attendance",
            target=current, reason=_("更正") if correcting else "",
            data={"day": str(day.public_id), "person": str(current.person.public_id), "status": status,
                  "reason": reason, **({"before": before} if correcting else {})},
        )  # fmt: skip
    day.status = locked_day.status
    return current, True
