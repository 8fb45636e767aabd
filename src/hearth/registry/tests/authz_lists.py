"""Derived lists in the authorization matrix: pages and API."""

from hearth.accounts.roles import Role
from hearth.audit.models import ExportRequest
from hearth.registry.models import ListDefinition
from tests.authz import EXPORTERS, RouteCase, allow

# Lists show persons in full (masked ID): officers with a place grant. Volunteers see no full records,
# clinic staff reach persons only through their facility, and the three administrative roles none.
LIST_READERS = {
    Role.DISTRICT_ADMIN,
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.DATA_CLERK,
    Role.ASSOCIATION_OFFICER,
}
LIST_MANAGERS = {Role.DISTRICT_ADMIN}
LIST_EXPORTERS = EXPORTERS & LIST_READERS
CODE = "women_15_49"

_code = lambda ctx: {"code": CODE}  # noqa: E731


def _approved_list_export(ctx):
    grant = ctx.world.grants[ctx.role]
    req = ExportRequest.objects.create(
        kind="list",
        params={
            "list": CODE,
            "as_of": "2025-06-01",
            "version": ListDefinition.objects.get(code=CODE).version,
        },
        row_count=1,
        reason="matrix",
        requested_by=grant,
        place_path=grant.scope_place.path,
        status=ExportRequest.Status.APPROVED,
    )
    return {"public_id": req.public_id}


def _update(ctx):
    definition = ListDefinition.objects.get(code=CODE)
    return {
        "spec": {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 15, "max": 49}}]},
        "name": definition.name,
        "description": "矩阵测试",
        "version": definition.version,
    }


ROUTES = [
    RouteCase("registry:list_index", expect=allow(LIST_READERS)),
    RouteCase("registry:list_detail", kwargs=_code, expect=allow(LIST_READERS), query="as_of=2025-06-01"),
    RouteCase(
        "registry:list_export",
        method="post",
        kwargs=_code,
        data=lambda ctx: {"reason": "矩阵测试", "as_of": "2025-06-01"},
        expect=allow(LIST_EXPORTERS),
    ),
    RouteCase("registry:list_export_download", kwargs=_approved_list_export, expect=allow(LIST_EXPORTERS)),
    RouteCase("registry:list_edit", kwargs=_code, expect=allow(LIST_MANAGERS)),
    RouteCase("api:list_lists", expect=allow(LIST_READERS | LIST_MANAGERS), anonymous=401),
    RouteCase("api:get_list", kwargs=_code, expect=allow(LIST_READERS | LIST_MANAGERS), anonymous=401),
    RouteCase(
        "api:list_list_members", kwargs=_code, expect=allow(LIST_READERS), anonymous=401, query="limit=10"
    ),
    RouteCase(
        "api:update_list",
        method="put",
        json=True,
        kwargs=_code,
        data=_update,
        expect=allow(LIST_MANAGERS),
        anonymous=401,
    ),
]
