from uuid import UUID

from django.http import Http404
from ninja import Query, Router, Schema

from hearth.accounts.roles import Perm
from hearth.core.api import Paging

from .models import Place

router = Router(tags=["places"])


class PlaceOut(Schema):
    id: str
    kind: str
    name: str
    code: str
    parent_id: str | None
    valid_from: str | None
    valid_to: str | None


class PlacePage(Schema):
    items: list[PlaceOut]
    count: int


def _out(p: Place, parent_ids: dict) -> dict:
    return {
        "id": str(p.public_id),
        "kind": p.kind,
        "name": p.name,
        "code": p.code,
        "parent_id": parent_ids.get(p.parent_id),
        "valid_from": p.valid_from.isoformat() if p.valid_from else None,
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
    }


@router.get("", response=PlacePage)
def list_places(request, paging: Query[Paging], kind: str = "", parent: UUID | None = None):
    request.actor.require(Perm.PLACE_VIEW)
    qs = Place.objects.visible_to(request.actor).select_related("parent")
    if kind:
        qs = qs.filter(kind=kind)
    if parent:
        qs = qs.filter(parent__public_id=parent)
    total = qs.count()
    rows = list(qs.order_by("path")[paging.offset : paging.offset + paging.limit])
    return {
        "items": [_out(p, {p.parent_id: str(p.parent.public_id) if p.parent else None}) for p in rows],
        "count": total,
    }


@router.get("/{uuid:place_id}", response=PlaceOut)
def get_place(request, place_id: UUID):
    request.actor.require(Perm.PLACE_VIEW)
    p = Place.objects.visible_to(request.actor).select_related("parent").filter(public_id=place_id).first()
    if p is None:
        raise Http404
    return _out(p, {p.parent_id: str(p.parent.public_id) if p.parent else None})
