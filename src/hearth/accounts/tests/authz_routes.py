from hearth.accounts.actor import Actor
from hearth.accounts.models import User
from hearth.accounts.services import grant_create, token_create
from tests.authz import (
    ACCOUNT_MANAGERS,
    AUDITORS,
    GRANT_MANAGERS,
    SETTINGS_MANAGERS,
    RouteCase,
    allow,
    everyone,
)

SYSTEM = Actor.system("authz matrix")


def _own_token(ctx):
    token, _secret = token_create(actor=SYSTEM, grant=ctx.world.grants[ctx.role], name="matrix")
    return {"public_id": token.public_id}


def _grant_at_location(ctx):
    """A fresh grant at the target place, for the revoke route."""
    user = User.objects.create_user(username=f"g_{ctx.role}_{ctx.where}", password="x-unused-Pw-123")
    place = ctx.place
    role = "community_officer" if place.kind in {"community", "building", "unit"} else "district_admin"
    return {"public_id": grant_create(actor=SYSTEM, user=user, role=role, place=place).public_id}


def _grant_manager_in_scope(role, where):
    # The security administrator's grant is at district A: A and A1 are in scope, district B is not.
    return 302 if role in GRANT_MANAGERS and where in {"own", "child"} else 404


ROUTES = [
    RouteCase("core:home", expect=everyone()),
    RouteCase("accounts:login", expect=everyone(), anonymous=200),
    RouteCase("accounts:logout", method="post", expect=everyone(302), anonymous=302),
    RouteCase("accounts:choose_grant", expect=everyone()),
    RouteCase("accounts:otp", expect=everyone()),
    # Already enrolled (the fixture users have a confirmed device): back to the home page.
    RouteCase("accounts:otp_enrol", expect=everyone(302)),
    RouteCase(
        "accounts:switch_grant",
        method="post",
        data=lambda ctx: {"grant": str(ctx.world.grants[ctx.role].public_id)},
        expect=everyone(302),
    ),
    RouteCase("accounts:tokens", expect=everyone()),
    RouteCase("accounts:token_revoke", method="post", kwargs=_own_token, expect=everyone(302)),
    RouteCase("accounts:user_list", expect=allow(ACCOUNT_MANAGERS | GRANT_MANAGERS)),
    RouteCase(
        "accounts:user_detail",
        kwargs=lambda ctx: {"public_id": ctx.world.users["community_officer"].public_id},
        expect=allow(ACCOUNT_MANAGERS | GRANT_MANAGERS),
    ),
    RouteCase(
        "accounts:grant_revoke", method="post", kwargs=_grant_at_location, expect=_grant_manager_in_scope
    ),
    RouteCase("accounts:permissions", expect=allow(GRANT_MANAGERS | ACCOUNT_MANAGERS | AUDITORS)),
    RouteCase("accounts:settings", expect=allow(SETTINGS_MANAGERS)),
    RouteCase(
        "set_language",
        method="post",
        data=lambda ctx: {"language": "en"},
        expect=everyone(302),
        anonymous=302,
    ),
    # API
    RouteCase("api:me", expect=everyone(), anonymous=401),
    RouteCase("api:list_tokens", expect=everyone(), anonymous=401),
    RouteCase(
        "api:revoke_token",
        method="post",
        kwargs=lambda ctx: {"token_id": _own_token(ctx)["public_id"]},
        expect=everyone(),
        anonymous=401,
    ),
    RouteCase("api:openapi-json", expect=everyone(), anonymous=200),
    RouteCase("api:openapi-view", expect=everyone(), anonymous=200),
]
