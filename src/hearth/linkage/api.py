"""API for partner-list matching (/linkage…): upload, mapping and start, status, rows, decisions, facts,
contacts, worklists, registry duplicates.

Same permissions (person.link; person.change to decide or apply; person.merge for duplicates), scoping and
audit as the pages. Matching is a background task: poll GET /linkage/lists/{id} until `status` is not linking.
"""

from datetime import date, datetime
from uuid import UUID

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core.api import Paging
from hearth.core.errors import DomainError
from hearth.places.models import Place
from hearth.registry.api import PersonIn
from hearth.registry.models import Person
from hearth.registry.selectors import dwelling_in_scope

from . import services
from .models import (
    MATCHED,
    DuplicatePair,
    DuplicateStatus,
    FactProposal,
    PartnerList,
    PartnerRecord,
    ProposalStatus,
    RecordStatus,
)

router = Router(tags=["linkage"])


class ListOut(Schema):
    id: str
    kind: str
    source: str
    filename: str
    place_id: str
    status: str
    status_display: str
    stage: str
    progress_total: int
    header: list[str]
    mapping: dict[str, int]
    counts: dict[str, int]
    candidate_pairs: dict[str, int]
    stage_seconds: dict[str, float]
    message: str
    file_sha256: str
    created_at: datetime
    linked_at: datetime | None = None


class ListPage(Schema):
    items: list[ListOut]
    count: int


class Explanation(Schema):
    comparison: str
    level: str
    weight: float


class RecordOut(Schema):
    list_id: str
    row: int
    name: str
    sex: str
    birth_date: date | None
    id_masked: str
    address: str
    phone: str
    event_date: date | None
    status: str
    person_id: str | None
    match_weight: float | None
    match_probability: float | None
    explanation: list[Explanation]
    disagreements: dict[str, list[str | None]]
    candidates: list[dict] = []


class RecordPage(Schema):
    items: list[RecordOut]
    count: int


class MappingIn(Schema):
    mapping: dict[str, int | None] = Field(
        description="{field: column index (0-based)}; see GET /linkage/fields"
    )
    start: bool = True


class DecisionIn(Schema):
    person_id: UUID
    decision: str = Field(description="same | different")


class ProposalOut(Schema):
    id: str
    person_id: str
    kind: str
    occurred_on: date
    status: str
    list_id: str
    row: int


class ProposalsIn(Schema):
    ids: list[UUID]
    action: str = Field("confirm", description="confirm | dismiss")


class DuplicateOut(Schema):
    id: str
    first_id: str
    second_id: str
    match_weight: float
    match_probability: float
    explanation: list[Explanation]
    status: str


class FindIn(Schema):
    place_id: UUID


def _list_out(p: PartnerList) -> dict:
    return {
        "id": str(p.public_id), "kind": p.kind, "source": p.source, "filename": p.filename,
        "place_id": str(p.place.public_id), "status": p.status, "status_display": p.get_status_display(),
        "stage": p.stage, "progress_total": p.progress_total, "header": p.header, "mapping": p.mapping,
        "counts": p.counts, "candidate_pairs": p.candidate_pairs, "stage_seconds": p.stage_seconds,
        "message": p.message, "file_sha256": p.file_sha256, "created_at": p.created_at, "linked_at": p.linked_at,
    }  # fmt: skip


def _record_out(r: PartnerRecord, actor, *, candidates: bool = False) -> dict:
    visible = set(
        Person.objects.visible_to(actor)
        .filter(pk__in=[r.person_id, *([c.person_id for c in r.candidates.all()] if candidates else [])])
        .values_list("pk", "public_id")
    )
    public = dict(visible)
    out = {
        "list_id": str(r.partner_list.public_id), "row": r.row, "name": r.name, "sex": r.sex,
        "birth_date": r.birth_date, "id_masked": r.id_masked, "address": r.address, "phone": r.phone,
        "event_date": r.event_date, "status": r.status,
        "person_id": str(public[r.person_id]) if r.person_id in public else None,
        "match_weight": r.match_weight, "match_probability": r.match_probability,
        "explanation": r.explanation, "disagreements": r.disagreements,
    }  # fmt: skip
    if candidates:
        out["candidates"] = [
            {
                "person_id": str(public[c.person_id]),
                "match_weight": c.match_weight,
                "explanation": c.explanation,
            }
            for c in r.candidates.all()
            if c.person_id in public
        ]
    return out


def _list(request, list_id: UUID) -> PartnerList:
    request.actor.require(Perm.PERSON_LINK)
    return get_visible_or_404(
        PartnerList.objects.select_related("place", "created_by__user"), request.actor, list_id
    )


@router.get("/linkage/fields", response=dict[str, str])
def link_fields(request):
    """The fields a column can be mapped to: {field: its Chinese header}. name is required."""
    request.actor.require(Perm.PERSON_LINK)
    return services.field_labels()


@router.get("/linkage/lists", response=ListPage)
def link_lists(request, paging: Query[Paging]):
    request.actor.require(Perm.PERSON_LINK)
    qs = PartnerList.objects.visible_to(request.actor).select_related("place")
    return {
        "items": [_list_out(p) for p in qs[paging.offset : paging.offset + paging.limit]],
        "count": qs.count(),
    }


@router.post("/linkage/lists", response={201: ListOut})
def link_upload(request, file: File[UploadedFile], kind: Form[str], source: Form[str], place_id: Form[UUID]):
    """Upload a partner list (multipart); the header is found and a mapping suggested. Nothing is matched yet."""
    actor = request.actor
    actor.require(Perm.PERSON_LINK)
    place = Place.objects.visible_to(actor).filter(public_id=place_id).first()
    if place is None:
        raise DomainError("link.place_scope", _("所选地区不存在或不在您的管辖范围内。"), "place_id")
    plist = services.list_upload(
        actor=actor, data=file.read(), filename=file.name or "upload", kind=kind, source=source, place=place
    )
    return 201, _list_out(plist)


@router.get("/linkage/lists/{list_id}", response=ListOut)
def link_list_get(request, list_id: UUID):
    plist = _list(request, list_id)
    audit.record(actor=request.actor, action="link.view", target=plist, data={"api": True})
    return _list_out(plist)


@router.post("/linkage/lists/{list_id}/mapping", response=ListOut)
def link_set_mapping(request, list_id: UUID, body: MappingIn):
    """Confirm the columns and (by default) start matching, as a background task."""
    plist = _list(request, list_id)
    services.list_set_mapping(actor=request.actor, plist=plist, mapping=body.mapping)
    if body.start:
        services.list_start(actor=request.actor, plist=plist)
    plist.refresh_from_db()
    return _list_out(plist)


@router.get("/linkage/lists/{list_id}/records", response=RecordPage)
def link_records(request, list_id: UUID, paging: Query[Paging], status: str = ""):
    plist = _list(request, list_id)
    qs = (
        PartnerRecord.objects.visible_to(request.actor)
        .filter(partner_list=plist)
        .select_related("partner_list")
    )
    if status:
        if status not in RecordStatus.values:
            raise DomainError("link.status", _("比对结果的取值无效。"), "status")
        qs = qs.filter(status=status)
    rows = list(qs[paging.offset : paging.offset + paging.limit])
    audit.record(
        actor=request.actor, action="link.records_view", target=plist, row_count=len(rows), data={"api": True}
    )
    return {"items": [_record_out(r, request.actor) for r in rows], "count": qs.count()}


def _record(request, list_id: UUID, row: int) -> PartnerRecord:
    plist = _list(request, list_id)
    rec = PartnerRecord.objects.visible_to(request.actor).filter(partner_list=plist, row=row).first()
    if rec is None:
        raise Http404
    return rec


@router.get("/linkage/lists/{list_id}/records/{row}", response=RecordOut)
def link_record(request, list_id: UUID, row: int):
    """One row with its candidates and the weight of each comparison."""
    rec = _record(request, list_id, row)
    audit.record(actor=request.actor, action="link.review_view", target=rec.partner_list, data={"row": row})
    return _record_out(rec, request.actor, candidates=True)


@router.post("/linkage/lists/{list_id}/records/{row}/decision", response=RecordOut)
def link_decide(request, list_id: UUID, row: int, body: DecisionIn):
    """Same person or not; remembered for later lists."""
    rec = _record(request, list_id, row)
    person = Person.objects.visible_to(request.actor).filter(public_id=body.person_id).first()
    rec = services.decide(actor=request.actor, record=rec, person=person, decision=body.decision)
    return _record_out(rec, request.actor, candidates=True)


@router.post("/linkage/lists/{list_id}/records/{row}/register", response=RecordOut)
def link_register(request, list_id: UUID, row: int, body: PersonIn):
    """补登: register the person of a 漏档 row (status unmatched). The body is the person-create body; when the
    row had an ID number, `id_number` must be that number (typed from the ID card). The row becomes
    `registered`, with the new person's id."""
    actor = request.actor
    actor.require(Perm.PERSON_LINK)
    actor.require(Perm.PERSON_CREATE)
    rec = services.missing_row(actor, list_id, row)
    if rec is None:
        raise Http404
    dwelling = dwelling_in_scope(actor, body.dwelling_id)
    services.register_missing(actor=actor, record=rec, values=body.dict() | {"dwelling": dwelling})
    return _record_out(rec, actor)


@router.post("/linkage/lists/{list_id}/apply-contacts", response=dict[str, int])
def link_apply_contacts(request, list_id: UUID):
    """Phones and dwellings from sure and accepted matches, recorded as events with the list as source."""
    return services.apply_contacts(actor=request.actor, plist=_list(request, list_id))


@router.get("/linkage/missing", response=RecordPage)
def link_missing(request, paging: Query[Paging]):
    """漏档: on a partner list, not on file anywhere."""
    request.actor.require(Perm.PERSON_LINK)
    qs = (
        PartnerRecord.objects.visible_to(request.actor)
        .filter(status=RecordStatus.UNMATCHED)
        .select_related("partner_list")
    )
    rows = list(qs.order_by("place_path", "id")[paging.offset : paging.offset + paging.limit])
    audit.record(actor=request.actor, action="link.missing_view", row_count=len(rows), data={"api": True})
    return {"items": [_record_out(r, request.actor) for r in rows], "count": qs.count()}


@router.get("/linkage/disagreements", response=RecordPage)
def link_disagreements(request, paging: Query[Paging]):
    request.actor.require(Perm.PERSON_LINK)
    qs = (
        PartnerRecord.objects.visible_to(request.actor)
        .filter(status__in=MATCHED)
        .exclude(disagreements={})
        .select_related("partner_list")
    )
    rows = list(qs.order_by("place_path", "id")[paging.offset : paging.offset + paging.limit])
    audit.record(
        actor=request.actor, action="link.disagreements_view", row_count=len(rows), data={"api": True}
    )
    return {"items": [_record_out(r, request.actor) for r in rows], "count": qs.count()}


def _proposal_out(fp: FactProposal) -> dict:
    return {
        "id": str(fp.public_id), "person_id": str(fp.person.public_id), "kind": fp.kind,
        "occurred_on": fp.occurred_on, "status": fp.status, "list_id": str(fp.record.partner_list.public_id),
        "row": fp.record.row,
    }  # fmt: skip


@router.get("/linkage/facts", response=list[ProposalOut])
def link_facts(request, paging: Query[Paging]):
    """Life facts (death, marriage) proposed by partner lists, waiting for an officer."""
    request.actor.require(Perm.PERSON_LINK)
    qs = (
        FactProposal.objects.visible_to(request.actor)
        .filter(status=ProposalStatus.PROPOSED)
        .select_related("person", "record__partner_list")
    )
    rows = list(qs[paging.offset : paging.offset + paging.limit])
    audit.record(actor=request.actor, action="link.facts_view", row_count=len(rows), data={"api": True})
    return [_proposal_out(fp) for fp in rows]


@router.post("/linkage/facts", response=dict[str, int])
def link_decide_facts(request, body: ProposalsIn):
    """Confirm (record as events) or dismiss proposals, all or none."""
    request.actor.require(Perm.PERSON_LINK)
    chosen = list(
        FactProposal.objects.visible_to(request.actor)
        .filter(public_id__in=body.ids, status=ProposalStatus.PROPOSED)
        .select_related("record__partner_list")
    )
    if len(chosen) != len(set(body.ids)):
        raise DomainError("link.facts_unknown", _("部分事件不存在、已处理或不在您的管辖范围内。"), "ids")
    if body.action == "dismiss":
        return {"dismissed": services.dismiss_facts(actor=request.actor, proposals=chosen)}
    if body.action != "confirm":
        raise DomainError("link.facts_action", _("操作只能是 confirm 或 dismiss。"), "action")
    return {"confirmed": services.confirm_facts(actor=request.actor, proposals=chosen)}


def _duplicate_out(p: DuplicatePair) -> dict:
    return {
        "id": str(p.public_id), "first_id": str(p.first.public_id), "second_id": str(p.second.public_id),
        "match_weight": p.match_weight, "match_probability": p.match_probability, "explanation": p.explanation,
        "status": p.status,
    }  # fmt: skip


@router.get("/linkage/duplicates", response=list[DuplicateOut])
def link_duplicates(request, paging: Query[Paging]):
    request.actor.require(Perm.PERSON_MERGE)
    qs = (
        DuplicatePair.objects.visible_to(request.actor)
        .filter(status=DuplicateStatus.OPEN)
        .select_related("first", "second")
    )
    rows = list(qs[paging.offset : paging.offset + paging.limit])
    audit.record(actor=request.actor, action="link.duplicates_view", row_count=len(rows), data={"api": True})
    return [_duplicate_out(p) for p in rows]


@router.post("/linkage/duplicates/find", response=dict[str, int])
def link_find_duplicates(request, body: FindIn):
    """Score the registry below a place against itself; new likely pairs are listed (merge: /persons/…/merge)."""
    request.actor.require(Perm.PERSON_MERGE)
    place = Place.objects.visible_to(request.actor).filter(public_id=body.place_id).first()
    if place is None:
        raise DomainError("link.place_scope", _("所选地区不存在或不在您的管辖范围内。"), "place_id")
    return {"found": services.find_duplicates(actor=request.actor, place=place)}


@router.post("/linkage/duplicates/{pair_id}/dismiss", response=DuplicateOut)
def link_dismiss_duplicate(request, pair_id: UUID):
    request.actor.require(Perm.PERSON_MERGE)
    pair = get_visible_or_404(DuplicatePair.objects.select_related("first", "second"), request.actor, pair_id)
    services.dismiss_duplicate(actor=request.actor, pair=pair)
    return _duplicate_out(pair)
