"""Authorization matrix rows for 流动人口与以房管人: full readers only; volunteers, clinic staff and the
administrative roles get 404 everywhere; records outside the grant's subtree are 404."""

import itertools
from datetime import date

from hearth.accounts.roles import Role
from hearth.core import citizen_id
from hearth.migrants import services
from hearth.migrants.models import InflowRecord, Landlord, OutflowRecord, Tenancy
from hearth.testing import SYSTEM
from tests.authz import PERSON_CREATORS, PERSON_EDITORS, RouteCase, allow, allow_in_scope

# Those who see persons in full through a place grant.
READERS = {
    Role.DISTRICT_ADMIN,
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.DATA_CLERK,
    Role.ASSOCIATION_OFFICER,
}
WRITERS = PERSON_EDITORS
_seq = itertools.count(1)

_person = lambda ctx: {"public_id": ctx.person.public_id}  # noqa: E731
_api_person = lambda ctx: {"person_id": ctx.person.public_id}  # noqa: E731


def _landlord(ctx) -> Landlord:
    """A landlord registered where the target person lives (a community or below, at the target location)."""
    return services.landlord_create(
        actor=SYSTEM,
        values={"place": ctx.person.dwelling.place, "name": "矩阵房东", "phone": "13800138000"},
    )


def _tenancy(ctx) -> Tenancy:
    return services.tenancy_create(
        actor=SYSTEM,
        landlord=_landlord(ctx),
        dwelling=ctx.person.dwelling,
        started_on=date(2024, 1, 1),
        declared_tenants=2,
    )


def _with_inflow(ctx):
    InflowRecord.objects.create(
        person=ctx.person, from_region="411721", since=date(2023, 1, 1), reason="work", housing="rented"
    )
    return {"person_id": ctx.person.public_id}


def _with_outflow(ctx):
    OutflowRecord.objects.create(person=ctx.person, to_region="440305", since=date(2023, 1, 1))
    return {"person_id": ctx.person.public_id}


_INFLOW = {"from_region": "411721", "since": "2023-04-01", "reason": "work", "housing": "rented"}


def _register_body(ctx):
    born = date(1992, 3, 3)
    return {
        "person": {
            "name": "流入矩阵",
            "sex": "M",
            "birth_date": born.isoformat(),
            "id_number": citizen_id.make("411721", born, next(_seq) % 400 * 2 + 1),
            "dwelling_id": str(ctx.world.persons["A1a"].dwelling.public_id),
        },
        "inflow": _INFLOW,
    }


def _landlord_put(ctx):
    landlord = Landlord.objects.filter(name="矩阵房东").latest("id")
    return {
        "name": "矩阵房东",
        "place_id": str(landlord.place.public_id),
        "agreement_signed": True,
        "agreement_date": "2024-02-01",
        "token": services.landlord_token(landlord),
    }


ROUTES = [
    RouteCase("migrants:inflow_edit", kwargs=_person, expect=allow_in_scope(WRITERS)),
    RouteCase("migrants:outflow_edit", kwargs=_person, expect=allow_in_scope(WRITERS)),
    RouteCase("migrants:inflow_register", expect=allow(PERSON_CREATORS)),
    RouteCase("migrants:landlord_list", expect=allow(READERS)),
    RouteCase("migrants:landlord_create", expect=allow(WRITERS)),
    RouteCase("migrants:rental_worklist", expect=allow(READERS)),
    RouteCase(
        "migrants:landlord_detail",
        kwargs=lambda ctx: {"public_id": _landlord(ctx).public_id},
        expect=allow_in_scope(READERS),
    ),
    RouteCase(
        "migrants:landlord_edit",
        kwargs=lambda ctx: {"public_id": _landlord(ctx).public_id},
        expect=allow_in_scope(WRITERS),
    ),
    RouteCase(
        "migrants:tenancy_create",
        kwargs=lambda ctx: {"public_id": _landlord(ctx).public_id},
        expect=allow_in_scope(WRITERS),
    ),
    RouteCase(
        "migrants:tenancy_end",
        kwargs=lambda ctx: {"public_id": _tenancy(ctx).public_id},
        expect=allow_in_scope(WRITERS),
    ),
    RouteCase(
        "migrants:tenancy_tenants",
        kwargs=lambda ctx: {"public_id": _tenancy(ctx).public_id},
        expect=allow_in_scope(WRITERS),
    ),
    # API
    RouteCase("api:get_inflow", kwargs=_with_inflow, expect=allow_in_scope(READERS), anonymous=401),
    RouteCase(
        "api:put_inflow",
        method="put",
        json=True,
        kwargs=_api_person,
        data=lambda ctx: _INFLOW | {"version": None},
        expect=allow_in_scope(WRITERS),
        anonymous=401,
    ),
    RouteCase("api:get_outflow", kwargs=_with_outflow, expect=allow_in_scope(READERS), anonymous=401),
    RouteCase(
        "api:put_outflow",
        method="put",
        json=True,
        kwargs=_api_person,
        data=lambda ctx: {"to_region": "440305", "since": "2023-05-01"},
        expect=allow_in_scope(WRITERS),
        anonymous=401,
    ),
    RouteCase(
        "api:register_inflow",
        method="post",
        json=True,
        data=_register_body,
        expect=allow(PERSON_CREATORS, ok=201),
        anonymous=401,
    ),
    RouteCase("api:list_landlords", expect=allow(READERS), anonymous=401),
    RouteCase(
        "api:create_landlord",
        method="post",
        json=True,
        data=lambda ctx: {"name": "新房东", "place_id": str(ctx.world.places["A1a"].public_id)},
        expect=allow(WRITERS, ok=201),
        anonymous=401,
    ),
    RouteCase("api:landlord_worklist", expect=allow(READERS), anonymous=401),
    RouteCase(
        "api:get_landlord",
        kwargs=lambda ctx: {"landlord_id": _landlord(ctx).public_id},
        expect=allow_in_scope(READERS),
        anonymous=401,
    ),
    RouteCase(
        "api:update_landlord",
        method="put",
        json=True,
        kwargs=lambda ctx: {"landlord_id": _landlord(ctx).public_id},
        data=_landlord_put,
        expect=allow_in_scope(WRITERS),
        anonymous=401,
    ),
    RouteCase(
        "api:create_tenancy",
        method="post",
        json=True,
        kwargs=lambda ctx: {"landlord_id": _landlord(ctx).public_id},
        data=lambda ctx: {"dwelling_id": str(ctx.person.dwelling.public_id), "started_on": "2024-03-01"},
        expect=allow_in_scope(WRITERS, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:end_tenancy",
        method="post",
        json=True,
        kwargs=lambda ctx: {"tenancy_id": _tenancy(ctx).public_id},
        data=lambda ctx: {"ended_on": "2024-06-30"},
        expect=allow_in_scope(WRITERS),
        anonymous=401,
    ),
    RouteCase(
        "api:set_tenancy_tenants",
        method="put",
        json=True,
        kwargs=lambda ctx: {"tenancy_id": _tenancy(ctx).public_id},
        data=lambda ctx: {"person_ids": [str(ctx.person.public_id)]},
        expect=allow_in_scope(WRITERS),
        anonymous=401,
    ),
    RouteCase(
        "api:tenancy_move_in",
        method="post",
        json=True,
        kwargs=lambda ctx: {"tenancy_id": _tenancy(ctx).public_id},
        data=lambda ctx: {
            "person_id": str(ctx.person.public_id),
            "occurred_on": "2024-03-01",
            "version": 1,
        },
        expect=allow_in_scope(WRITERS),
        anonymous=401,
    ),
]
