"""Authorization matrix rows for referrals (转介与登记): everyone who views care sees the list (their scope's, or
their facility's); officers in scope refer a person and end a referral; clinic staff enrol by ID card on the list
page and end their facility's referrals. Out of scope: 404."""

from hearth.accounts.roles import Role
from hearth.care.models import Referral, ReferralKind
from tests.authz import RouteCase, allow, allow_in_scope

from .authz_care import CARE_VIEWERS

# Roles with care.record and a place grant (clinic staff refer nobody: they enrol on their own list page).
REFERRERS = {
    Role.SUBDISTRICT_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.ASSISTANT,
    Role.BUILDING_VOLUNTEER,
    Role.ASSOCIATION_OFFICER,
}


def _referral(ctx) -> dict:
    """An open referral of the target person to the fixture world's station (made unscoped: fixture data)."""
    person = ctx.person
    referral = Referral.objects.for_system().filter(person=person, closed_at__isnull=True).first()
    if referral is None:
        referral = Referral.objects.create(
            person=person, facility=ctx.world.facility, kind=ReferralKind.REFERRAL, consent=True,
            place_path=person.place_path, made_by=ctx.world.grants[Role.COMMUNITY_OFFICER],
        )  # fmt: skip
    return {"public_id": referral.public_id}


def _close_expect(role: str, where: str) -> int:
    # The station's staff may end their facility's referrals wherever the person lives.
    if role == Role.CLINIC_STAFF:
        return 302
    return allow_in_scope(REFERRERS, ok=302)(role, where)


ROUTES = [
    RouteCase("care:referral_list", expect=allow(CARE_VIEWERS)),
    RouteCase(
        "care:refer", kwargs=lambda ctx: {"person_id": ctx.person.public_id}, expect=allow_in_scope(REFERRERS)
    ),
    RouteCase("care:referral_close", method="post", kwargs=_referral, expect=_close_expect),
]


def _refer_body(ctx) -> dict:
    return {"person_id": str(ctx.person.public_id), "facility_id": str(ctx.world.facility.public_id),
            "consent": True}  # fmt: skip


def _refer_expect(role: str, where: str) -> int:
    # The station serves 祥和社区 and 学苑社区 only: a person in scope elsewhere is refused on the facility field.
    if role not in REFERRERS or where not in ("own", "child"):
        return 404
    return 201


def _enrol_body(ctx) -> dict:
    from hearth.registry import identity

    return {"id_number": identity.reveal(ctx.world.persons["A1a"]), "consent": True}


def _close_api_expect(role: str, where: str) -> int:
    return 200 if _close_expect(role, where) == 302 else 404


ROUTES += [
    RouteCase("api:referral_list", expect=allow(CARE_VIEWERS), anonymous=401),
    RouteCase(
        "api:referral_create", method="post", json=True, data=_refer_body, expect=_refer_expect, anonymous=401
    ),
    RouteCase(
        "api:referral_enrol",
        method="post",
        json=True,
        data=_enrol_body,
        expect=allow({Role.CLINIC_STAFF}, ok=201),
        anonymous=401,
    ),
    RouteCase(
        "api:referral_close",
        method="post",
        kwargs=lambda ctx: {"referral_id": _referral(ctx)["public_id"]},
        expect=_close_api_expect,
        anonymous=401,
    ),
]
