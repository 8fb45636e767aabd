"""API of check days (集中康检日): /api/v1/care/checkdays/…

Same scoping and permissions as the pages: a day is seen by those who see its service's worklist and the
community (clinic staff: the days held at their facility); planning needs care.record, a role delivering the
service and a place grant; attendance needs care.record and a role delivering the service. Anything else — a day,
a community or a person out of scope — is a 404.

Attendance is idempotent: send a `client_token` (a UUID made once per tap) and a retry answers 200 with the
invitation unchanged instead of 201; the same answer again (two officers tapping the same person) is also a 200.
"""

from datetime import date, datetime
from uuid import UUID

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.api import Paging
from hearth.core.errors import DomainError
from hearth.places.models import Facility, Place

from . import checkdays, services
from .models import CheckDay, Invitation, ServiceType

router = Router(tags=["care"])


# --------------------------------------------------------------------------------------------- schemas


class CheckDayRatesOut(Schema):
    invited: int
    declined: int
    base: int = Field(description="invited who did not decline: the rates' denominator")
    attended_same_day: int
    attended_after_makeup: int
    absent: int
    pending: int
    same_day_rate: float | None = None
    same_day_target: float
    after_makeup_rate: float | None = None
    after_makeup_target: float


class CheckDayOut(Schema):
    id: str
    service: str
    service_name: str
    place_id: str
    place_name: str
    held_on: date
    location: str
    facility_id: str | None = None
    facility_name: str | None = None
    status: str
    makeup_of: str | None = Field(None, description="the day this one is the make-up (补检) of")
    rates: CheckDayRatesOut = Field(description="of the chain: the first day and its make-up days")


class CheckDayPage(Schema):
    items: list[CheckDayOut]
    count: int


class InvitationOut(Schema):
    person_id: str
    name: str
    address: str
    status: str
    status_display: str
    reason: str
    reason_display: str
    note: str
    recorded_at: datetime | None = None


class CheckDayCounts(Schema):
    invited: int
    attended: int
    absent: int
    declined: int
    pending: int


class CheckDayDetailOut(CheckDayOut):
    counts: CheckDayCounts = Field(description="this day's own sheet")
    invitations: list[InvitationOut]


class CheckDayIn(Schema):
    service: str = Field(max_length=60, description="a periodic service's code, e.g. health_check")
    place_id: UUID = Field(description="a community (社区/村) in the caller's scope")
    held_on: date
    location: str = Field(max_length=2000)
    facility_id: UUID | None = None


class CheckDayMakeupIn(Schema):
    held_on: date
    location: str = Field(max_length=2000)
    facility_id: UUID | None = None


class AttendanceIn(Schema):
    person_id: UUID
    status: str = Field(max_length=20, description="attended | absent")
    reason: str = Field("", max_length=20, description="when absent: away | ill | health | declined | other")
    note: str = Field("", max_length=2000)
    client_token: UUID | None = Field(
        None, description="one per tap: a retry returns the invitation unchanged"
    )


# --------------------------------------------------------------------------------------------- helpers


def _day_out(day: CheckDay, rates: checkdays.Rates) -> dict:
    return {
        "id": str(day.public_id), "service": day.service.code, "service_name": day.service.name,
        "place_id": str(day.place.public_id), "place_name": day.place.name, "held_on": day.held_on,
        "location": day.location, "facility_id": str(day.facility.public_id) if day.facility else None,
        "facility_name": day.facility.name if day.facility else None, "status": day.status,
        "makeup_of": str(day.makeup_of.public_id) if day.makeup_of else None, "rates": rates.as_dict(),
    }  # fmt: skip


def _invitation_out(inv: Invitation) -> dict:
    person = inv.person
    return {
        "person_id": str(person.public_id), "name": person.name,
        "address": str(person.dwelling) if person.dwelling_id and person.dwelling else "",
        "status": inv.status, "status_display": str(inv.get_status_display()), "reason": inv.reason,
        "reason_display": str(inv.get_reason_display()) if inv.reason else "", "note": inv.note,
        "recorded_at": inv.recorded_at,
    }  # fmt: skip


def _days(actor):
    return checkdays.days_for(actor).select_related("service", "place", "facility", "makeup_of")


def _facility(raw: UUID | None) -> Facility | None:
    if raw is None:
        return None
    found = Facility.objects.filter(public_id=raw).first()
    if found is None:
        raise DomainError("care.checkday_facility", _("服务机构：编号无效。"), "facility_id")
    return found


# --------------------------------------------------------------------------------------------- endpoints


@router.get("", response=CheckDayPage)
def checkday_list(request, paging: Query[Paging], when: str = "", service: str = ""):
    """Check days in scope: `when=upcoming` (today on, soonest first) or `when=past` (latest first); all by
    default, latest first. Each with the attendance rates of its chain."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    today = time.today()
    qs = _days(actor)
    when = (when or "").strip()
    if when == "upcoming":
        qs = qs.filter(held_on__gte=today).order_by("held_on", "id")
    elif when == "past":
        qs = qs.filter(held_on__lt=today).order_by("-held_on", "-id")
    elif when:
        raise DomainError(
            "care.checkday_when", _("时间：应为 upcoming（即将举行）或 past（已举行）。"), "when"
        )
    else:
        qs = qs.order_by("-held_on", "-id")
    if service:
        qs = qs.filter(service__code=service[:60])
    days = list(qs[paging.offset : paging.offset + paging.limit])
    rates = checkdays.rates_for(days)
    items = [_day_out(d, rates[d.origin_id or d.pk]) for d in days]
    return {"items": items, "count": qs.count()}


@router.post("", response={201: CheckDayDetailOut})
def checkday_create(request, body: CheckDayIn):
    """Plan a check day (安排集中康检日) and invite the community's eligible: 201 with the invitations. 404 for
    a community out of scope or a service the caller's role does not deliver."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    service = ServiceType.objects.filter(code=body.service[:60]).first()
    if service is None:
        raise DomainError("care.checkday_service", _("服务项目：没有此服务项目。"), "service")
    if not services.can_deliver(actor, service):
        raise Http404
    place = Place.objects.visible_to(actor).filter(public_id=body.place_id).first()
    if place is None or actor.facility is not None:
        raise Http404
    day = checkdays.checkday_plan(
        actor=actor, service=service, place=place, held_on=body.held_on, location=body.location,
        facility=_facility(body.facility_id),
    )  # fmt: skip
    return 201, _detail(actor, _days(actor).get(pk=day.pk))


def _detail(actor, day: CheckDay) -> dict:
    invitations = list(
        Invitation.objects.visible_to(actor)
        .filter(check_day=day)
        .select_related("person", "person__dwelling")
        .order_by("place_path", "person__dwelling__full_address", "person_id")
    )
    return _day_out(day, checkdays.checkday_rates(day)) | {
        "counts": checkdays.day_counts(day),
        "invitations": [_invitation_out(i) for i in invitations],
    }


@router.get("/{uuid:day_id}", response=CheckDayDetailOut)
def checkday_get(request, day_id: UUID):
    """A check day with its sheet (every invitation the caller sees), counts and rates. Audited as a read."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    day = get_visible_or_404(_days(actor), actor, day_id)
    out = _detail(actor, day)
    audit.record(
        actor=actor, action="care.checkday_view", target=day, row_count=len(out["invitations"]),
        data={"api": True},
    )  # fmt: skip
    return out


@router.post("/{uuid:day_id}/makeup", response={201: CheckDayDetailOut})
def checkday_makeup(request, day_id: UUID, body: CheckDayMakeupIn):
    """Plan a make-up day (补检) for the day's absent who did not decline; the day's sheet is then final."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    day = get_visible_or_404(_days(actor), actor, day_id)
    if not services.can_deliver(actor, day.service) or actor.facility is not None:
        raise Http404
    makeup = checkdays.checkday_makeup(
        actor=actor,
        day=day,
        held_on=body.held_on,
        location=body.location,
        facility=_facility(body.facility_id),
    )
    return 201, _detail(actor, _days(actor).get(pk=makeup.pk))


@router.post("/{uuid:day_id}/attendance", response={200: InvitationOut, 201: InvitationOut})
def checkday_attendance(request, day_id: UUID, body: AttendanceIn):
    """One tap (点名): 201 when recorded (or corrected, on the day itself), 200 with the invitation unchanged for
    a repeat (the same client_token, or the same answer again)."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    day = get_visible_or_404(_days(actor), actor, day_id)
    if not services.can_deliver(actor, day.service):
        raise Http404
    invitation = (
        Invitation.objects.visible_to(actor)
        .filter(check_day=day, person__public_id=body.person_id)
        .select_related("person", "person__dwelling")
        .first()
    )
    if invitation is None:
        raise Http404
    invitation, changed = checkdays.attendance_record(
        actor=actor, invitation=invitation, status=body.status, reason=body.reason, note=body.note,
        client_token=body.client_token,
    )  # fmt: skip
    return (201 if changed else 200), _invitation_out(invitation)
