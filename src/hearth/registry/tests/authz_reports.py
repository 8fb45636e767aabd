"""Authorization matrix rows for change reports and households (see tests/authz.py)."""

from hearth.accounts.roles import Role
from hearth.registry.models import ChangeKind, ChangeReport, Household, Person
from tests.authz import PERSON_EDITORS, PERSON_READERS, RouteCase, allow, allow_in_scope

# Who reports changes, and who decides on them (by role, as issue 5 states it).
REPORTERS = {Role.COMMUNITY_OFFICER, Role.ASSISTANT, Role.BUILDING_VOLUNTEER}
DECIDERS = {Role.COMMUNITY_OFFICER, Role.ASSISTANT}


def _report(ctx) -> ChangeReport:
    """A pending report at the target's dwelling, made by the volunteer (so the volunteer may read it)."""
    return ChangeReport.objects.create(
        dwelling=ctx.person.dwelling,
        kind=ChangeKind.OTHER,
        text="矩阵测试",
        reported_by=ctx.world.grants[Role.BUILDING_VOLUNTEER],
    )


def _household(ctx) -> Household:
    person = ctx.person
    household = Household.objects.create(dwelling=person.dwelling, head=person)
    Person.objects.filter(pk=person.pk).update(household=household, relation_to_head="02")
    return household


def _own_dwelling(ctx):
    key = "A1a-b1" if ctx.role == Role.BUILDING_VOLUNTEER else "A1a"
    return ctx.world.dwellings[key]


_report_kw = lambda ctx: {"public_id": _report(ctx).public_id}  # noqa: E731
_api_report_kw = lambda ctx: {"report_id": _report(ctx).public_id}  # noqa: E731

ROUTES = [
    RouteCase("registry:report_list", expect=allow(REPORTERS)),
    RouteCase("registry:report_create", expect=allow(REPORTERS)),
    RouteCase("registry:report_detail", kwargs=_report_kw, expect=allow_in_scope(REPORTERS)),
    RouteCase(
        "registry:report_confirm",
        method="post",
        kwargs=_report_kw,
        data=lambda ctx: {"note": "矩阵确认"},
        expect=allow_in_scope(DECIDERS, ok=302),
    ),
    RouteCase(
        "registry:report_reject",
        method="post",
        kwargs=_report_kw,
        data=lambda ctx: {"reason": "矩阵退回"},
        expect=allow_in_scope(DECIDERS, ok=302),
    ),
    RouteCase(
        "registry:household_detail",
        kwargs=lambda ctx: {"public_id": _household(ctx).public_id},
        expect=allow_in_scope(PERSON_READERS),
    ),
    RouteCase(
        "registry:dwelling_household",
        kwargs=lambda ctx: {"public_id": ctx.person.dwelling.public_id},
        expect=allow_in_scope(PERSON_EDITORS),
    ),
    RouteCase("api:list_change_reports", expect=allow(REPORTERS), anonymous=401),
    RouteCase(
        "api:create_change_report",
        method="post",
        json=True,
        data=lambda ctx: {"dwelling_id": str(_own_dwelling(ctx).public_id), "kind": "death", "text": "矩阵"},
        expect=allow(REPORTERS, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:get_change_report", kwargs=_api_report_kw, expect=allow_in_scope(REPORTERS), anonymous=401
    ),
    RouteCase(
        "api:reject_change_report",
        method="post",
        json=True,
        kwargs=_api_report_kw,
        data=lambda ctx: {"reason": "矩阵退回"},
        expect=allow_in_scope(DECIDERS),
        anonymous=401,
    ),
    RouteCase(
        "api:confirm_change_report",
        method="post",
        json=True,
        kwargs=_api_report_kw,
        data=lambda ctx: {"note": "矩阵确认"},
        expect=allow_in_scope(DECIDERS),
        anonymous=401,
    ),
    RouteCase(
        "api:get_household",
        kwargs=lambda ctx: {"household_id": _household(ctx).public_id},
        expect=allow_in_scope(PERSON_READERS),
        anonymous=401,
    ),
    RouteCase(
        "api:set_dwelling_household",
        method="put",
        json=True,
        kwargs=lambda ctx: {"dwelling_id": ctx.person.dwelling.public_id},
        data=lambda ctx: {"head_id": str(ctx.person.public_id)},
        expect=allow_in_scope(PERSON_EDITORS),
        anonymous=401,
    ),
]
