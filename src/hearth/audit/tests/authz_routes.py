from hearth.audit.models import ExportRequest
from tests.authz import AUDITORS, EXPORT_APPROVERS, EXPORTERS, RouteCase, allow


def _pending_export_at_location(ctx):
    """A pending export requested by a grant at the target place (approvable only from strictly above)."""
    place = ctx.place
    grant = ctx.world.grants["community_officer"]
    req = ExportRequest.objects.create(
        kind="persons",
        params={"q": ""},
        row_count=5000,
        reason="matrix",
        requested_by=grant,
        place_path=place.path,
    )
    return {"public_id": req.public_id}


def _approver_below(role, where):
    return 302 if role in EXPORT_APPROVERS and where == "child" else 404


ROUTES = [
    RouteCase("audit:log", expect=allow(AUDITORS)),
    RouteCase("audit:export", method="post", data=lambda ctx: {}, expect=allow(AUDITORS)),
    RouteCase("audit:export_list", expect=allow(EXPORTERS | EXPORT_APPROVERS)),
    RouteCase(
        "audit:export_decide",
        method="post",
        kwargs=_pending_export_at_location,
        data=lambda ctx: {"decision": "approve"},
        expect=_approver_below,
    ),
    RouteCase("api:list_audit", expect=allow(AUDITORS), anonymous=401),
]
