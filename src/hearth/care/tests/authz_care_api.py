"""Authorization matrix rows for the care API (/api/v1/care…): the catalogue is read by those who see care
worklists or maintain the catalogue and changed only by the district administrator; a worklist is open to the
roles its service names (and to the supervising roles); a contact is recorded by a role that delivers the
service, for a person in its subtree; everyone else, and anything outside the subtree, is 404."""

from hearth.accounts.roles import Role
from hearth.care import catalogue
from hearth.care.models import ServiceType
from tests.authz import RouteCase, allow, allow_in_scope

# Written out by hand (not read from the permission table): who holds care.view, care.manage, care.record.
CARE_VIEWERS = {
    Role.DISTRICT_ADMIN,
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.BUILDING_VOLUNTEER,
    Role.DATA_CLERK,
    Role.CLINIC_STAFF,
    Role.ASSOCIATION_OFFICER,
}
CATALOGUE_MANAGERS = {Role.DISTRICT_ADMIN}
# The roles whose worklist of the service below is open: a data clerk delivers no service; clinic staff see
# the health check's worklist (empty: a facility reaches no persons yet).
WORKLIST_READERS = CARE_VIEWERS - {Role.DATA_CLERK}
# Clinic staff reach no persons yet (no enrolments); the rest see records of persons in their subtree.
RECORD_READERS = CARE_VIEWERS - {Role.CLINIC_STAFF}
# Those who deliver the service below to a person they see. A sub-district officer delivers none of the shipped
# services; clinic staff deliver childcare guidance but see nobody.
RECORDERS = {Role.COMMUNITY_OFFICER, Role.ASSISTANT, Role.BUILDING_VOLUNTEER, Role.ASSOCIATION_OFFICER}

# The service each role is tried on where the default would not be one it delivers.
_SERVICE = {Role.BUILDING_VOLUNTEER: "household_visit", Role.ASSOCIATION_OFFICER: "key_family_support"}

_NEW = {
    "code": "matrix_service", "name": "矩阵测试服务", "condition": {"v": 1, "sex": "F"}, "schedule": "interval",
    "interval_months": 6, "roles": [Role.COMMUNITY_OFFICER], "form": [{"name": "ok", "label": "完成", "type": "bool"}],
}  # fmt: skip


def _update(ctx) -> dict:
    s = ServiceType.objects.get(code="childcare_guidance")
    return {k: v for k, v in catalogue.snapshot(s).items() if k != "code"} | {
        "version": s.version,
        "lead_days": 10,
    }


def _record(ctx) -> dict:
    # Declined: needs no consent and records nothing else, so one body fits every service.
    return {
        "person_id": str(ctx.person.public_id),
        "service": _SERVICE.get(ctx.role, "childcare_guidance"),
        "outcome": "declined",
    }


_code = lambda ctx: {"code": "childcare_guidance"}  # noqa: E731
_worklist = lambda ctx: {"code": _SERVICE.get(ctx.role, "health_check")}  # noqa: E731
_person = lambda ctx: {"person_id": ctx.person.public_id}  # noqa: E731


ROUTES = [
    RouteCase("api:care_services", expect=allow(CARE_VIEWERS), anonymous=401),
    RouteCase("api:care_service_get", kwargs=_code, expect=allow(CARE_VIEWERS), anonymous=401),
    RouteCase("api:care_service_versions", kwargs=_code, expect=allow(CARE_VIEWERS), anonymous=401),
    RouteCase(
        "api:care_service_create",
        method="post",
        json=True,
        data=lambda ctx: _NEW,
        expect=allow(CATALOGUE_MANAGERS, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:care_service_update",
        method="put",
        json=True,
        kwargs=_code,
        data=_update,
        expect=allow(CATALOGUE_MANAGERS),
        anonymous=401,
    ),
    RouteCase("api:care_summary", expect=allow(CARE_VIEWERS), anonymous=401),
    RouteCase(
        "api:care_worklist", kwargs=_worklist, expect=allow(WORKLIST_READERS), anonymous=401, query="limit=10"
    ),
    RouteCase(
        "api:care_record_create",
        method="post",
        json=True,
        data=_record,
        expect=allow_in_scope(RECORDERS, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:care_person_records", kwargs=_person, expect=allow_in_scope(RECORD_READERS), anonymous=401
    ),
]
