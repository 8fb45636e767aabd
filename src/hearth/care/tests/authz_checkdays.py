"""Authorization matrix rows for check days (集中康检日), pages and API: everyone who views care sees the list (of
the days they may see); a day is seen by the roles that see its service's worklist, in scope (health_check: the
supervisors, community officers and assistants; clinic staff only days held at their facility — none here);
planning, make-up days and attendance belong to the roles delivering the service with a place grant in scope.
Anything else, and any day outside the subtree, is 404."""

import uuid
from datetime import timedelta

from hearth.accounts.roles import Role
from hearth.care import schedule
from hearth.care.models import AbsenceReason, CheckDay, Invitation, InvitationStatus, ServiceType
from hearth.core import time
from hearth.places.models import Place, PlaceKind
from hearth.places.tree import ancestor_paths
from tests.authz import RouteCase, allow, allow_in_scope

from .authz_care import CARE_VIEWERS

# Who sees a health_check day in their subtree: the supervisors and the officer roles the service names.
DAY_VIEWERS = {Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER, Role.ASSISTANT}
# Who plans days and takes attendance: care.record, a role delivering the service, a place grant with a
# community in scope (a volunteer's building holds none; clinic staff are granted at a facility).
PLANNERS = {Role.COMMUNITY_OFFICER, Role.ASSISTANT}
RECORDERS = PLANNERS


def _community(person) -> Place:
    return Place.objects.get(path__in=ancestor_paths(person.place_path), kind=PlaceKind.COMMUNITY)


def _day(ctx, *, past: bool = False) -> CheckDay:
    """A health_check day (made unscoped: fixture data) in the target person's community, the person invited;
    a past day has them absent (ill) and still due, so a make-up can be planned."""
    person = ctx.person
    place = _community(person)
    service = ServiceType.objects.get(code="health_check")
    day = CheckDay.objects.create(
        service=service, place=place, place_path=place.path, location="社区卫生服务站",
        held_on=time.today() - timedelta(days=1) if past else time.today(),
        created_by=ctx.world.grants[Role.COMMUNITY_OFFICER],
    )  # fmt: skip
    absent = {"status": InvitationStatus.ABSENT, "reason": AbsenceReason.ILL} if past else {}
    Invitation.objects.create(check_day=day, person=person, place_path=person.place_path, **absent)
    if past:
        schedule.recompute(service, persons=[person.pk])
    return day


_today_day = lambda ctx: {"day_id": _day(ctx).public_id}  # noqa: E731
_past_day = lambda ctx: {"day_id": _day(ctx, past=True).public_id}  # noqa: E731


def _tap(ctx) -> dict:
    # Absent (away): a "not met" contact, which needs no consent and records nothing else.
    return {
        "person_id": str(ctx.person.public_id),
        "status": "absent",
        "reason": "away",
        "client_token": str(uuid.uuid4()),
    }


def _makeup(ctx) -> dict:
    return {"held_on": (time.today() + timedelta(days=7)).isoformat(), "location": "社区卫生服务站"}


def _plan(ctx) -> dict:
    """The target person's community, with their health_check worklist row computed (so someone is invited)."""
    person = ctx.person
    schedule.recompute(ServiceType.objects.get(code="health_check"), persons=[person.pk])
    return {
        "service": "health_check",
        "place_id": str(_community(person).public_id),
        "held_on": time.today().isoformat(),
        "location": "社区卫生服务站",
    }


ROUTES = [
    # Pages
    RouteCase("care:checkday_list", expect=allow(CARE_VIEWERS)),
    RouteCase("care:checkday_new", expect=allow(PLANNERS)),
    RouteCase("care:checkday_detail", kwargs=_today_day, expect=allow_in_scope(DAY_VIEWERS)),
    RouteCase(
        "care:checkday_makeup",
        method="post",
        kwargs=_past_day,
        data=_makeup,
        expect=allow_in_scope(PLANNERS, ok=302),
    ),
    RouteCase(
        "care:attendance",
        method="post",
        kwargs=_today_day,
        data=_tap,
        expect=allow_in_scope(RECORDERS, ok=302),
    ),
    # API
    RouteCase("api:checkday_list", expect=allow(CARE_VIEWERS), anonymous=401, query="limit=10"),
    RouteCase(
        "api:checkday_create",
        method="post",
        json=True,
        data=_plan,
        expect=allow_in_scope(PLANNERS, ok=201),
        anonymous=401,
    ),
    RouteCase("api:checkday_get", kwargs=_today_day, expect=allow_in_scope(DAY_VIEWERS), anonymous=401),
    RouteCase(
        "api:checkday_makeup",
        method="post",
        json=True,
        kwargs=_past_day,
        data=_makeup,
        expect=allow_in_scope(PLANNERS, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:checkday_attendance",
        method="post",
        json=True,
        kwargs=_today_day,
        data=_tap,
        expect=allow_in_scope(RECORDERS, ok=201),
        anonymous=401,
    ),
]
