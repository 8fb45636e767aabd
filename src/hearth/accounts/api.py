from uuid import UUID

from django.http import Http404
from ninja import Router, Schema

from . import services
from .models import ApiToken

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    role: str
    place: str | None
    facility: str | None
    permissions: list[str]


class TokenOut(Schema):
    id: str
    name: str
    grant: str
    created_at: str
    last_used_at: str | None
    revoked: bool


class TokenPage(Schema):
    items: list[TokenOut]
    count: int


@router.get("/me", response=MeOut)
def me(request):
    a = request.actor
    return {
        "username": a.user.username,
        "role": a.role,
        "place": a.grant.place.name if a.grant.place_id else None,
        "facility": a.facility.name if a.facility else None,
        "permissions": sorted(a.permissions),
    }


def _token_out(t: ApiToken) -> dict:
    return {
        "id": str(t.public_id),
        "name": t.name,
        "grant": str(t.grant),
        "created_at": t.created_at.isoformat(),
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        "revoked": t.revoked_at is not None,
    }


@router.get("/tokens", response=TokenPage)
def list_tokens(request):
    rows = list(
        ApiToken.objects.filter(user=request.actor.user)
        .select_related("grant__place", "grant__facility")
        .order_by("-created_at")[:500]
    )
    return {"items": [_token_out(t) for t in rows], "count": len(rows)}


@router.post("/tokens/{uuid:token_id}/revoke", response=TokenOut)
def revoke_token(request, token_id: UUID):
    token = (
        ApiToken.objects.filter(user=request.actor.user, public_id=token_id)
        .select_related("grant__place", "grant__facility")
        .first()
    )
    if token is None:
        raise Http404
    return _token_out(services.token_revoke(actor=request.actor, token=token))
