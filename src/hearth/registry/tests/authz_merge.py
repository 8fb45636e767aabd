"""Merging duplicate persons: sub-district and community officers (person.merge), both records in scope."""

from hearth.accounts.actor import Actor
from hearth.accounts.roles import Role
from hearth.registry import merge
from hearth.registry.models import Person
from hearth.registry.services import person_register
from tests.authz import RouteCase, allow_in_scope

MERGERS = {Role.SUBDISTRICT_OFFICER, Role.COMMUNITY_OFFICER}
_SYSTEM = Actor.system("matrix")


def _keep(ctx) -> Person:
    return Person.objects.get(pk=ctx.person.pk)


def _duplicate(ctx) -> Person:
    """A second record of the target person at the same dwelling: both in scope or both out of it."""
    target = _keep(ctx)
    return person_register(
        actor=_SYSTEM,
        values={
            "name": target.name,
            "sex": target.sex,
            "birth_date": target.birth_date,
            "dwelling": target.dwelling,
        },
    )


def _merged(ctx):
    keep, other = _keep(ctx), _duplicate(ctx)
    return merge.merge_persons(
        actor=_SYSTEM,
        keep=keep,
        other=other,
        keep_version=keep.version,
        other_version=other.version,
        reason="矩阵测试",
    )


def _merge_body(ctx) -> dict:
    other = _duplicate(ctx)
    return {
        "other": str(other.public_id),
        "keep_version": _keep(ctx).version,
        "other_version": other.version,
        "reason": "矩阵测试",
    }


ROUTES = [
    RouteCase(
        "registry:person_merge",
        kwargs=lambda ctx: {"public_id": ctx.person.public_id, "other_id": _duplicate(ctx).public_id},
        expect=allow_in_scope(MERGERS),
    ),
    RouteCase(
        "registry:merge_undo",
        method="post",
        kwargs=lambda ctx: {"public_id": _merged(ctx).public_id},
        data=lambda ctx: {"reason": "矩阵测试"},
        expect=allow_in_scope(MERGERS, ok=302),
    ),
    RouteCase(
        "api:merge_preview",
        kwargs=lambda ctx: {"keep_id": ctx.person.public_id, "other_id": _duplicate(ctx).public_id},
        expect=allow_in_scope(MERGERS),
        anonymous=401,
    ),
    RouteCase(
        "api:merge_persons",
        method="post",
        json=True,
        kwargs=lambda ctx: {"keep_id": ctx.person.public_id},
        data=_merge_body,
        expect=allow_in_scope(MERGERS, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:undo_merge",
        method="post",
        json=True,
        kwargs=lambda ctx: {"merge_id": _merged(ctx).public_id},
        data=lambda ctx: {"reason": "矩阵测试"},
        expect=allow_in_scope(MERGERS),
        anonymous=401,
    ),
]
