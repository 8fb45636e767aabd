"""Attach the actor (user + active grant + permissions) to each request, and hold the login gates."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from .actor import Actor, actor_for
from .models import Grant

# Pages that must stay reachable while a login is incomplete (grant not chosen, second factor pending).
_OPEN_PREFIXES = ("/static/", "/i18n/", "/api/")


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def active_grant(request):
    user = request.user
    grant_id = request.session.get("grant_id")
    grants = Grant.objects.active().filter(user=user).select_related("user", "place", "facility__place")
    if grant_id:
        grant = grants.filter(pk=grant_id).first()
        if grant is not None:
            return grant
    only = list(grants[:2])
    if len(only) == 1:
        request.session["grant_id"] = only[0].pk
        return only[0]
    return None


def needs_second_factor(actor: Actor) -> bool:
    from .roles import Perm

    if actor.user is None or actor.user.is_demo:
        return False
    return actor.can(Perm.REQUIRE_2FA) or actor.can(Perm.PERSON_REVEAL_ID)


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ip = client_ip(request)
        request.actor = Actor.anonymous(ip)
        if request.user.is_authenticated:
            grant = active_grant(request)
            if grant is not None:
                request.actor = actor_for(grant, ip=ip)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(_OPEN_PREFIXES) or not getattr(view_func, "login_required", True):
            return None
        if not request.user.is_authenticated:
            return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.path}")
        if getattr(view_func, "grant_optional", False):
            return None
        actor = request.actor
        if actor.grant is None:
            return redirect("accounts:choose_grant")
        if needs_second_factor(actor) and not request.user.is_verified():
            return redirect("accounts:otp")
        return None


def grant_optional(view_func):
    """Reachable by a logged-in user before a grant is chosen or the second factor is given."""
    view_func.grant_optional = True
    return view_func
