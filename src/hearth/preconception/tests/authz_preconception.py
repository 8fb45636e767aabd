"""Authorization matrix rows for the free pre-pregnancy check (孕前优生).

Who works with it follows the catalogue's `prepregnancy_check` (community officers, assistants, clinic staff)
plus the supervisors who see every service (district admin, sub-district and community officers): they see
enrolments in their scope; the station's staff see the station's enrolments wherever the couple lives.
Enrolling, delivering, follow-ups, consents, dates and withdrawals: the roles the service names (officers in
scope, the station's staff). Results and outcomes: clinic staff only. Volunteers, data clerks and association
officers do not see the programme at all. Anything else is 404.
"""

from datetime import timedelta

from hearth.accounts.roles import Role
from hearth.core import time
from tests.authz import RouteCase, allow, allow_in_scope

from .factories import enrolment

VIEWERS = {
    Role.DISTRICT_ADMIN,
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.CLINIC_STAFF,
}
PLACE_ACTORS = {Role.COMMUNITY_OFFICER, Role.ASSISTANT}


def _viewing(ok: int = 200):
    def expect(role: str, where: str) -> int:
        if role == Role.CLINIC_STAFF:  # the fixture enrolment is made with their station
            return ok
        return allow_in_scope(VIEWERS - {Role.CLINIC_STAFF}, ok=ok)(role, where)

    return expect


def _acting(ok: int):
    def expect(role: str, where: str) -> int:
        if role == Role.CLINIC_STAFF:
            return ok
        return allow_in_scope(PLACE_ACTORS, ok=ok)(role, where)

    return expect


def _plain(ctx) -> dict:
    return {"public_id": enrolment(ctx.world, ctx.person).public_id}


def _examined(ctx) -> dict:
    return {"public_id": enrolment(ctx.world, ctx.person, examined=True).public_id}


def _consented(ctx) -> dict:
    return {"public_id": enrolment(ctx.world, ctx.person, outcome_consent=True).public_id}


def _api(kwargs):
    return lambda ctx: {"enrolment_id": kwargs(ctx)["public_id"]}


def _week(ctx) -> dict:
    return {"agreed_on": (time.today() + timedelta(days=14)).isoformat()}


ROUTES = [
    RouteCase("preconception:enrolment_list", expect=allow(VIEWERS)),
    RouteCase(
        "preconception:enrol",
        kwargs=lambda ctx: {"person_id": ctx.person.public_id},
        expect=allow_in_scope(PLACE_ACTORS),
    ),
    RouteCase("preconception:enrolment_detail", kwargs=_examined, expect=_viewing()),
    RouteCase("preconception:card", kwargs=_plain, expect=_viewing()),
    RouteCase(
        "preconception:examine",
        kwargs=lambda ctx: _plain(ctx) | {"who": "woman"},
        expect=allow({Role.CLINIC_STAFF}),
    ),
    RouteCase(
        "preconception:deliver",
        method="post",
        kwargs=_examined,
        data=lambda ctx: {"who": "woman", "method": "self"},
        expect=_acting(302),
    ),
    RouteCase(
        "preconception:follow_up",
        method="post",
        kwargs=_examined,
        data=lambda ctx: {"who": "woman", "note": "电话随访"},
        expect=_acting(302),
    ),
    RouteCase(
        "preconception:outcome",
        method="post",
        kwargs=_consented,
        data=lambda ctx: {"kind": "live_birth"},
        expect=allow({Role.CLINIC_STAFF}, ok=302),
    ),
    RouteCase(
        "preconception:consent",
        method="post",
        kwargs=_plain,
        data=lambda ctx: {"who": "outcome", "given": "on"},
        expect=_acting(302),
    ),
    RouteCase("preconception:reschedule", method="post", kwargs=_plain, data=_week, expect=_acting(302)),
    RouteCase("preconception:withdraw", method="post", kwargs=_plain, expect=_acting(302)),
]


def _enrol_body(ctx) -> dict:
    return {
        "woman_id": str(ctx.person.public_id),
        "facility_id": str(ctx.world.facility.public_id),
        "man_name": "张伟",
        "woman_consent": True,
    }


def _exam_body(ctx) -> dict:
    return {"who": "woman", "items": {"education": {"value": "", "abnormal": False}}, "risk": "general"}


ROUTES += [
    RouteCase("api:precon_enrolment_list", expect=allow(VIEWERS), anonymous=401),
    RouteCase(
        "api:precon_enrolment_create",
        method="post",
        json=True,
        data=_enrol_body,
        # The station's staff reach nobody here until someone is enrolled with or referred to the station.
        expect=allow_in_scope(PLACE_ACTORS, ok=201),
        anonymous=401,
    ),
    RouteCase("api:precon_enrolment_get", kwargs=_api(_examined), expect=_viewing(), anonymous=401),
    RouteCase(
        "api:precon_examination_create",
        method="post",
        json=True,
        kwargs=_api(_plain),
        data=_exam_body,
        expect=allow({Role.CLINIC_STAFF}, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:precon_delivery_create",
        method="post",
        json=True,
        kwargs=_api(_examined),
        data=lambda ctx: {"who": "woman", "method": "self"},
        expect=_acting(201),
        anonymous=401,
    ),
    RouteCase(
        "api:precon_follow_up_create",
        method="post",
        json=True,
        kwargs=_api(_examined),
        data=lambda ctx: {"who": "woman", "note": "电话随访"},
        expect=_acting(201),
        anonymous=401,
    ),
    RouteCase(
        "api:precon_outcome_create",
        method="post",
        json=True,
        kwargs=_api(_consented),
        data=lambda ctx: {"kind": "live_birth"},
        expect=allow({Role.CLINIC_STAFF}, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:precon_consent",
        method="post",
        json=True,
        kwargs=_api(_plain),
        data=lambda ctx: {"who": "man", "given": False},
        expect=_acting(200),
        anonymous=401,
    ),
    RouteCase(
        "api:precon_reschedule",
        method="post",
        json=True,
        kwargs=_api(_plain),
        data=_week,
        expect=_acting(200),
        anonymous=401,
    ),
    RouteCase("api:precon_withdraw", method="post", kwargs=_api(_plain), expect=_acting(200), anonymous=401),
]
