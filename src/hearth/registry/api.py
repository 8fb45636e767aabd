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

from . import merge, selectors, services
from .codes import DocumentType, Education, Ethnicity, MaritalStatus
from .models import EventKind, EventSource, LifeEvent, Person, PersonMerge, ResidenceType, Sex

router = Router(tags=["persons"])
events_router = Router(tags=["events"])
merges_router = Router(tags=["persons"])


class PersonOut(Schema):
    id: str
    name: str
    sex: str
    dwelling: str
    residence_type: str
    status: str | None = None
    age: int | None = None
    age_band: str | None = None
    id_type: str | None = None
    id_number_masked: str | None = None
    id_unverified: bool | None = None
    phone_masked: str | None = None
    birth_date: date | None = None
    dwelling_id: str | None = None
    version: int | None = None
    former_names: list[str] | None = None
    pinyin: str | None = None
    ethnicity: str | None = None
    hukou_code: str | None = None
    marital_status: str | None = None
    education: str | None = None
    occupation: str | None = None
    phone: str | None = None
    notes: str | None = None
    status_since: date | None = None
    household_id: str | None = None
    relation_to_head: str | None = None


class PersonPage(Schema):
    items: list[PersonOut]
    count: int


class PersonIn(Schema):
    name: str = Field(max_length=50)
    sex: Sex
    birth_date: date
    ethnicity: Ethnicity = Ethnicity.HAN
    id_type: DocumentType = DocumentType.RESIDENT_ID
    id_number: str | None = Field(None, max_length=40)
    hukou_code: str = Field("", max_length=6)
    dwelling_id: UUID
    residence_type: ResidenceType = ResidenceType.HUKOU_RESIDENT
    marital_status: MaritalStatus = MaritalStatus.UNSTATED
    education: Education | None = None
    occupation: str = Field("", max_length=50)
    phone: str = Field("", max_length=20)
    notes: str = Field("", max_length=500)


class PersonPatch(Schema):
    """Details only; address, marital status and status change through /events."""

    version: int
    correction: bool = False
    name: str | None = Field(None, max_length=50)
    sex: Sex | None = None
    birth_date: date | None = None
    ethnicity: Ethnicity | None = None
    id_type: DocumentType | None = None
    id_number: str | None = Field(None, max_length=40)
    hukou_code: str | None = Field(None, max_length=6)
    residence_type: ResidenceType | None = None
    education: Education | None = None
    occupation: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=20)
    notes: str | None = Field(None, max_length=500)


class IdSearch(Schema):
    id_number: str = Field(max_length=40)


class RevealIn(Schema):
    reason: str = Field(max_length=300)


class RevealOut(Schema):
    id: str
    id_number: str


def _page(request, flt, paging):
    actor = request.actor
    actor.require(Perm.PERSON_VIEW)
    rows, total = selectors.person_search(actor=actor, flt=flt, limit=paging.limit, offset=paging.offset)
    return {"items": [selectors.person_row(p, actor) for p in rows], "count": total}


@router.get("", response=PersonPage, exclude_none=True)
def list_persons(
    request, paging: Query[Paging], q: str = "", dwelling_id: UUID | None = None, all: bool = False
):
    """Search by name (exact or partial), pinyin or initials, or phone; filter by dwelling."""
    flt = selectors.PersonFilter(q=q[:50], dwelling=str(dwelling_id or ""), include_inactive=all)
    return _page(request, flt, paging)


@router.post("/search", response=PersonPage, exclude_none=True)
def search_persons(request, body: IdSearch, paging: Query[Paging]):
    """Search by ID number (full or last 4–6 characters). POST, so the number is never in a URL."""
    return _page(request, selectors.PersonFilter(id_number=body.id_number), paging)


@router.post("", response={201: PersonOut}, exclude_none=True)
def create_person(request, body: PersonIn):
    actor = request.actor
    actor.require(Perm.PERSON_CREATE)
    values = body.dict() | {"dwelling": selectors.dwelling_in_scope(actor, body.dwelling_id)}
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
    merge.refuse_if_merged(person)
    values = body.dict(exclude_unset=True)
    version = values.pop("version")
    correction = values.pop("correction", False)
    person = services.person_update(
        actor=actor, person=person, values=values, version=version, correction=correction
    )
    return selectors.person_row(person, actor, detail=True)


@router.post("/{uuid:person_id}/reveal", response=RevealOut)
def reveal_id(request, person_id: UUID, body: RevealIn):
    actor = request.actor
    if not actor.can(Perm.PERSON_REVEAL_ID):
        raise Http404
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, person_id)
    number = services.person_reveal_id(actor=actor, person=person, reason=body.reason)
    return {"id": str(person.public_id), "id_number": number}


# --- life events: the feed later services and exchanges read ------------------------------------------


class EventOut(Schema):
    id: str
    person_id: str
    kind: str
    occurred_on: date
    source: str
    reporter: str
    changes: list[str]
    corrects: str | None = None
    recorded_at: str


class EventPage(Schema):
    items: list[EventOut]
    count: int


class EventIn(Schema):
    person_id: UUID
    kind: EventKind
    occurred_on: date
    version: int
    source: EventSource = EventSource.COUNTER
    reporter: str = Field("", max_length=100)
    dwelling_id: UUID | None = None
    spouse_id: UUID | None = None
    hukou_code: str = Field("", max_length=6)
    residence_type: ResidenceType | None = None
    to_region: str = Field("", max_length=6)
    to_address: str = Field("", max_length=150)


class CorrectIn(Schema):
    reason: str = Field(max_length=300)
    version: int | None = None


def _event_out(event: LifeEvent) -> dict:
    return {
        "id": str(event.public_id),
        "person_id": str(event.person.public_id),
        "kind": event.kind,
        "occurred_on": event.occurred_on,
        "source": event.source,
        "reporter": event.reporter,
        # Field names only: values stay on the person's page.
        "changes": sorted(event.data.get("changes", {})),
        "corrects": str(event.corrects.public_id) if event.corrects_id else None,
        "recorded_at": event.created_at.isoformat(),
    }


@events_router.get("", response=EventPage)
def list_events(
    request,
    paging: Query[Paging],
    person_id: UUID | None = None,
    kind: EventKind | None = None,
    since: date | None = None,
):
    """Events in scope, oldest first: filter by person, kind, and occurred on or after `since`."""
    from hearth.audit import services as audit

    actor = request.actor
    actor.require(Perm.PERSON_VIEW_FULL)
    qs = LifeEvent.objects.visible_to(actor).select_related("person", "corrects")
    if person_id:
        qs = qs.filter(person__public_id=person_id)
    if kind:
        qs = qs.filter(kind=kind)
    if since:
        qs = qs.filter(occurred_on__gte=since)
    total = qs.count()
    rows = list(qs.order_by("occurred_on", "id")[paging.offset : paging.offset + paging.limit])
    audit.record(
        actor=actor,
        action="event.list",
        object_type="registry.lifeevent",
        row_count=total,
        data={k: str(v) for k, v in {"person": person_id, "kind": kind, "since": since}.items() if v},
    )
    return {"items": [_event_out(e) for e in rows], "count": total}


@events_router.post("", response={201: EventOut})
def create_event(request, body: EventIn):
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    person = get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, body.person_id)
    merge.refuse_if_merged(person)
    spouse = None
    if body.spouse_id:
        spouse = Person.objects.for_system().filter(public_id=body.spouse_id).first()
        if spouse is None:
            raise DomainError("event.spouse_unknown", _("配偶编号不存在。"), "spouse_id")
    details = {
        "dwelling": selectors.dwelling_in_scope(actor, body.dwelling_id),
        "spouse": spouse,
        "hukou_code": body.hukou_code,
        "residence_type": body.residence_type,
        "to_region": body.to_region,
        "to_address": body.to_address,
    }
    event = services.record_event(
        actor=actor,
        person=person,
        kind=body.kind,
        occurred_on=body.occurred_on,
        version=body.version,
        source=body.source,
        reporter=body.reporter,
        details=details,
    )
    return 201, _event_out(event)


@events_router.post("/{uuid:event_id}/correct", response={201: EventOut})
def correct_event(request, event_id: UUID, body: CorrectIn):
    actor = request.actor
    actor.require(Perm.PERSON_CHANGE)
    event = get_visible_or_404(LifeEvent.objects.select_related("person"), actor, event_id)
    merge.refuse_if_merged(event.person)
    correction = services.correct_event(actor=actor, event=event, reason=body.reason, version=body.version)
    return 201, _event_out(correction)


# --- merging duplicate records (registry/merge.py) ------------------------------------------------------


class MergeFieldOut(Schema):
    field: str
    label: str
    keep: str | None = None
    other: str | None = None
    differ: bool
    fill: bool


class MergeProblemOut(Schema):
    code: str
    message: str
    field: str | None = None


class MergePreviewOut(Schema):
    keep: PersonOut
    other: PersonOut
    keep_version: int
    other_version: int
    fields: list[MergeFieldOut]
    moves: list[str]
    problems: list[MergeProblemOut]


class MergeIn(Schema):
    other: UUID
    keep_version: int
    other_version: int
    reason: str = Field(max_length=300)


class MergeUndoIn(Schema):
    reason: str = Field(max_length=300)


class MergeOut(Schema):
    id: str
    keep_id: str
    other_id: str
    status: str
    reason: str
    merged_at: str
    undone_at: str | None = None
    undo_reason: str | None = None
    # Field names filled on the kept record, whether the ID number moved, which references moved.
    fields: list[str]
    id_moved: bool
    references: list[str]


def _merge_out(record: PersonMerge) -> dict:
    moved = record.moved
    return {
        "id": str(record.public_id),
        "keep_id": str(record.keep.public_id),
        "other_id": str(record.other.public_id),
        "status": record.status,
        "reason": record.reason,
        "merged_at": record.merged_at.isoformat(),
        "undone_at": record.undone_at.isoformat() if record.undone_at else None,
        "undo_reason": record.undo_reason or None,
        "fields": sorted(moved.get("keep", {})),
        "id_moved": bool(moved.get("id_swapped")),
        "references": sorted(
            {m["relation"] for m in moved.get("relations", [])} | set(moved.get("pointers", {}))
        ),
    }


def _merge_pair(request, keep_id: UUID, other_id: UUID) -> tuple[Person, Person]:
    actor = request.actor
    actor.require(Perm.PERSON_MERGE)
    persons = Person.objects.select_related("dwelling__place", "household")
    return get_visible_or_404(persons, actor, keep_id), get_visible_or_404(persons, actor, other_id)


@router.get("/{uuid:keep_id}/merge/{uuid:other_id}", response=MergePreviewOut, exclude_none=True)
def merge_preview(request, keep_id: UUID, other_id: UUID):
    """Both records side by side, what differs, what the kept record takes, what blocks the merge."""
    keep, other = _merge_pair(request, keep_id, other_id)
    return merge.merge_preview(actor=request.actor, keep=keep, other=other)


@router.post("/{uuid:keep_id}/merge", response={201: MergeOut})
def merge_persons(request, keep_id: UUID, body: MergeIn):
    """Fold the duplicate `other` into this record; both histories are kept and the merge can be undone."""
    keep, other = _merge_pair(request, keep_id, body.other)
    record = merge.merge_persons(
        actor=request.actor,
        keep=keep,
        other=other,
        keep_version=body.keep_version,
        other_version=body.other_version,
        reason=body.reason,
    )
    return 201, _merge_out(record)


@merges_router.post("/{uuid:merge_id}/undo", response=MergeOut, exclude_none=True)
def undo_merge(request, merge_id: UUID, body: MergeUndoIn):
    """Undo a merge exactly; refused if what it moved has changed since."""
    actor = request.actor
    actor.require(Perm.PERSON_MERGE)
    record = get_visible_or_404(PersonMerge.objects.select_related("keep", "other"), actor, merge_id)
    merge.unmerge(actor=actor, merge=record, reason=body.reason)
    record.refresh_from_db()
    return _merge_out(record)
