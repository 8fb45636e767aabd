from uuid import UUID

from django.http import Http404
from ninja import Query, Router, Schema

from hearth.accounts.roles import Perm
from hearth.core.api import Paging

from .models import Dwelling, Facility, Place
from .tree import subtree_q

router = Router(tags=["places"])
facilities_router = Router(tags=["facilities"])


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


class DwellingOut(Schema):
    id: str
    address: str
    full_address: str
    place_id: str


class DwellingPage(Schema):
    items: list[DwellingOut]
    count: int


@router.get("/{uuid:place_id}/dwellings", response=DwellingPage)
def list_dwellings(request, place_id: UUID, paging: Query[Paging]):
    """Dwellings lying in a place and below it (to choose a person's dwelling)."""
    request.actor.require(Perm.PLACE_VIEW)
    place = Place.objects.visible_to(request.actor).filter(public_id=place_id).first()
    if place is None:
        raise Http404
    qs = (
        Dwelling.objects.filter(subtree_q("place__path", place.path))
        .select_related("place")
        .order_by("full_address")
    )
    total = qs.count()
    rows = qs[paging.offset : paging.offset + paging.limit]
    return {
        "items": [
            {
                "id": str(d.public_id),
                "address": d.address,
                "full_address": d.full_address,
                "place_id": str(d.place.public_id),
            }
            for d in rows
        ],
        "count": total,
    }


class FacilityOut(Schema):
    id: str
    name: str
    kind: str
    place_id: str
    served_place_ids: list[str]


@facilities_router.get("", response=list[FacilityOut])
def list_facilities(request):
    request.actor.require(Perm.PLACE_VIEW)
    visible = Place.objects.visible_to(request.actor)
    qs = Facility.objects.filter(place__in=visible).select_related("place").prefetch_related("served_places")
    return [
        {
            "id": str(f.public_id),
            "name": f.name,
            "kind": f.kind,
            "place_id": str(f.place.public_id),
            "served_place_ids": [str(p.public_id) for p in f.served_places.all()],
        }
        for f in qs
    ]
