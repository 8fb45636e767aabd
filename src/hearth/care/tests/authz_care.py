"""Authorization matrix rows for 入户服务 pages: every role that may view care sees the overview and the
catalogue; a service's worklist belongs to the supervisors and the roles the service names; recording needs
the record permission, a role that delivers the service, and the person in scope; the catalogue is edited
only by those who manage it. Anything else, and any person outside the subtree, is 404."""

import uuid

from hearth.accounts.roles import Role
from hearth.core import time
from tests.authz import RouteCase, allow, allow_in_scope

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
# health_check names community officers, assistants and clinic staff; the supervisors see every service.
HEALTH_CHECK_VIEWERS = {
    Role.DISTRICT_ADMIN,
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.CLINIC_STAFF,
}
# Clinic staff deliver it too, but reach persons only through their facility (none enrolled here): 404.
HEALTH_CHECK_RECORDERS = {Role.COMMUNITY_OFFICER, Role.ASSISTANT}
CARE_MANAGERS = {Role.DISTRICT_ADMIN}
# Those who view care and read persons by place (clinic staff read nobody yet).
PERSON_CARE_READERS = CARE_VIEWERS - {Role.CLINIC_STAFF}

_person = lambda ctx: {"person_id": ctx.person.public_id}  # noqa: E731


def _declined(ctx) -> dict:
    """A contact that records nothing but the outcome: the person declined (no consent, no data needed)."""
    return {
        "outcome": "declined",
        "occurred_on": time.today().isoformat(),
        "client_token": str(uuid.uuid4()),
    }


# Exporting a worklist: those who export personal data and see the service's worklist.
WORKLIST_EXPORTERS = {Role.DISTRICT_ADMIN, Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER}


def _approved_export(ctx) -> dict:
    from hearth.audit.models import ExportRequest

    grant = ctx.world.grants[ctx.role]
    req = ExportRequest.objects.create(
        kind="care.worklist", params={"service": "health_check", "status": "", "as_of": time.today().isoformat(),
                                      "place": ""},
        row_count=1, reason="matrix", requested_by=grant, status=ExportRequest.Status.APPROVED,
        place_path=getattr(grant.scope_place, "path", ""),
    )  # fmt: skip
    return {"public_id": req.public_id}


ROUTES = [
    RouteCase(
        "care:worklist_export",
        method="post",
        kwargs=lambda ctx: {"code": "health_check"},
        data=lambda ctx: {"reason": "矩阵测试"},
        expect=allow(WORKLIST_EXPORTERS),
    ),
    RouteCase("care:worklist_export_download", kwargs=_approved_export, expect=allow(WORKLIST_EXPORTERS)),
    RouteCase("care:index", expect=allow(CARE_VIEWERS)),
    RouteCase("care:catalogue", expect=allow(CARE_VIEWERS | CARE_MANAGERS)),
    RouteCase("care:service_create", expect=allow(CARE_MANAGERS)),
    RouteCase("care:service_edit", kwargs=lambda ctx: {"code": "health_check"}, expect=allow(CARE_MANAGERS)),
    RouteCase(
        "care:worklist", kwargs=lambda ctx: {"code": "health_check"}, expect=allow(HEALTH_CHECK_VIEWERS)
    ),
    RouteCase(
        "care:record",
        method="post",
        kwargs=lambda ctx: {"code": "health_check", "person_id": ctx.person.public_id},
        data=_declined,
        expect=allow_in_scope(HEALTH_CHECK_RECORDERS, ok=302),
    ),
    RouteCase("care:person_services", kwargs=_person, expect=allow_in_scope(PERSON_CARE_READERS)),
]
