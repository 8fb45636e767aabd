from datetime import date
from uuid import UUID

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.core.api import Paging
from hearth.core.errors import DomainError
from hearth.places.models import Dwelling
from hearth.places.tree import subtree_q

from . import selectors, services
from .models import Person, ResidenceType, Sex

router = Router(tags=["persons"])


class PersonOut(Schema):
    id: str
    name: str
    sex: str
    dwelling: str
    residence_type: str
    age: int | None = None
    age_band: str | None = None
    id_number_masked: str | None = None
    birth_date: date | None = None
    dwelling_id: str | None = None
    version: int | None = None


class PersonPage(Schema):
    items: list[PersonOut]
    count: int


class PersonIn(Schema):
    name: str = Field(max_length=50)
    sex: Sex
    birth_date: date
    id_number: str | None = Field(None, max_length=40)
    dwelling_id: UUID
    residence_type: ResidenceType = ResidenceType.HUKOU_RESIDENT


class PersonPatch(Schema):
    version: int
    name: str | None = Field(None, max_length=50)
    sex: Sex | None = None
    birth_date: date | None = None
    id_number: str | None = Field(None, max_length=40)
    dwelling_id: UUID | None = None
    residence_type: ResidenceType | None = None


class IdSearch(Schema):
    id_number: str = Field(max_length=40)


class RevealIn(Schema):
    reason: str = Field(max_length=300)


class RevealOut(Schema):
    id: str
    id_number: str


def _dwelling(actor, public_id: UUID | None):
    if public_id is None:
        return None
    found = Dwelling.objects.filter(
        subtree_q("place__path", actor.scope_path or "x"), public_id=public_id
    ).first()
    if found is None:
        raise DomainError(
            "person.dwelling_out_of_scope", _("所选房屋不存在或不在您的管辖范围内。"), "dwelling_id"
        )
    return found


def _page(request, flt, paging):
    actor = request.actor
    actor.require(Perm.PERSON_VIEW)
    rows, total = selectors.person_search(actor=actor, flt=flt, limit=paging.limit, offset=paging.offset)
    return {"items": [selectors.person_row(p, actor) for p in rows], "count": total}


@router.get("", response=PersonPage, exclude_none=True)
def list_persons(request, paging: Query[Paging], q: str = ""):
    return _page(request, selectors.PersonFilter(q=q[:50]), paging)


@router.post("/search", response=PersonPage, exclude_none=True)
def search_persons(request, body: IdSearch, paging: Query[Paging]):
    """Search by ID number (full or last 4–6 characters). POST, so the number is never in a URL."""
    return _page(request, selectors.PersonFilter(id_number=body.id_number), paging)


@router.post("", response={201: PersonOut}, exclude_none=True)
def create_person(request, body: PersonIn):
    actor = request.actor
    actor.require(Perm.PERSON_CREATE)
    values = body.dict() | {"dwelling": _dwelling(actor, body.dwelling_id)}
    person = services.person_register(actor=actor, values=values)
    return 201, selectors.person_row(person, actor, detail=True)


@router.get("/{uuid:person_id}", response=PersonOut, exclude_none=True)
def get_person(request, person_id: UUID):
    actor = request.actor
    person = selectors.person_open(actor=actor, public_id=person_id, via_api=True)
    return selectors.person_row(person, actor, detail=True)


@router.patch("/{uuid:person_id}", response=PersonOut, exclude_none=True)
def update_person(request, person_id: UUID, body: PersonPatch):
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, person_id)
    values = body.dict(exclude_unset=True)
    version = values.pop("version")
    if "dwelling_id" in values:
        values["dwelling"] = _dwelling(actor, values.pop("dwelling_id"))
    person = services.person_update(actor=actor, person=person, values=values, version=version)
    return selectors.person_row(person, actor, detail=True)


@router.post("/{uuid:person_id}/reveal", response=RevealOut)
def reveal_id(request, person_id: UUID, body: RevealIn):
    actor = request.actor
    if not actor.can(Perm.PERSON_REVEAL_ID):
        raise Http404
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, person_id)
    number = services.person_reveal_id(actor=actor, person=person, reason=body.reason)
    return {"id": str(person.public_id), "id_number": number}
