"""API for care services (入户服务), mounted at /api/v1/care: the catalogue, worklists, summaries and records.

Same permissions, scoping and audit as the pages: the catalogue is read by whoever sees care worklists or
maintains the catalogue (care.view or care.manage) and changed only with care.manage; a worklist is open for
the services `services.services_for(actor)` gives, over the rows in the actor's scope; a contact is recorded
by a role that delivers the service, for a person the actor sees. Anything else is a 404, never a 403.

Recording is idempotent: send a `client_token` (a UUID made once per submission) and a retry or double tap
returns the first record with 200 instead of 201; without a token, the same person, service and day is the
same visit.
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.api import Paging
from hearth.core.errors import DomainError
from hearth.places.models import Place
from hearth.registry import conditions
from hearth.registry.lists import parse_as_of
from hearth.registry.models import Person
from hearth.registry.selectors import age_band

from . import services, worklists
from .models import ServiceType, ServiceTypeVersion

router = Router(tags=["care"])


# --------------------------------------------------------------------------------------------- schemas


class CareServiceOut(Schema):
    code: str
    name: str
    description: str
    condition: dict | None
    condition_text: str
    schedule: str
    interval_months: int | None
    event_kind: str
    event_windows: list[list[int]]
    lead_days: int
    roles: list[str]
    facility_kind: str
    form: list[dict]
    consent_required: bool
    clinical: bool
    active: bool
    order: int
    version: int


class CareServiceIn(Schema):
    """A service type's definition; checked field by field by the catalogue (every problem named at once).

    `condition` is a spec in the registry's condition language (an object, or its text form); `form` is the
    record form, e.g. [{"name": "result", "label": "结果", "type": "choice", "choices": ["正常", "异常"]}].
    """

    name: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    # Loosely typed on purpose: the catalogue checks these and names the problem in Chinese.
    condition: dict | str | None = None
    schedule: str = Field("", max_length=20)
    interval_months: int | None = None
    event_kind: str = Field("", max_length=20)
    event_windows: Any = []
    lead_days: int = 14
    roles: Any = []
    facility_kind: str = Field("", max_length=20)
    form: Any = []
    consent_required: bool = False
    clinical: bool = False
    active: bool = True
    order: int = 100


class CareServiceCreate(CareServiceIn):
    code: str = Field(max_length=60)


class CareServiceUpdate(CareServiceIn):
    version: int = Field(description="the version read; a stale one gets 422 on version")


class CareVersionOut(Schema):
    version: int
    changed_at: datetime
    changed_by: str
    snapshot: dict


class CareSummaryItem(Schema):
    code: str
    name: str
    counts: dict[str, int]
    actionable: int


class CareSummaryOut(Schema):
    as_of: date
    items: list[CareSummaryItem]


class CareWorklistRow(Schema):
    person_id: str
    name: str
    sex: str
    # Age on `as_of` for those who see persons in full; an age band (as on person lists) for the others.
    age: int | None = None
    age_band: str | None = None
    address: str
    # Empty: due now (a cycle never closed: never offered, or not yet reached).
    due_on: date | None = None
    window_end: date | None = None
    last_on: date | None = None
    last_outcome: str
    status: str
    status_display: str


class CareWorklistOut(Schema):
    service: str
    as_of: date
    status: str | None = None
    items: list[CareWorklistRow]
    count: int


class CareRecordIn(Schema):
    person_id: UUID
    service: str = Field(max_length=60, description="the service's code")
    occurred_on: date | None = Field(None, description="default today")
    outcome: str = Field(max_length=20, description="done | follow_up | declined | not_reached")
    data: dict | None = Field(None, description="the service form's values (only when the service was given)")
    consent: bool | None = None
    note: str = Field("", max_length=2000)
    client_token: UUID | None = Field(
        None, description="one per submission: a retry returns the first record"
    )


class CareRecordOut(Schema):
    id: str
    service: str
    service_name: str
    occurred_on: date
    outcome: str
    outcome_label: str
    # None (and clinical_hidden true) when the service is clinical and the actor lacks care.clinical.
    data: dict | None = None
    clinical_hidden: bool
    consent: bool | None = None
    note: str


# --------------------------------------------------------------------------------------------- helpers


def _catalogue_reader(actor) -> None:
    """The catalogue is rules, not personal data: those who see worklists or maintain it may read it."""
    if not (actor.can(Perm.CARE_VIEW) or actor.can(Perm.CARE_MANAGE)):
        raise Http404


def _service(actor, code: str) -> ServiceType:
    """A service type by code: inactive ones only for those who maintain the catalogue."""
    found = (
        services.catalogue_list(include_inactive=actor.can(Perm.CARE_MANAGE)).filter(code=code[:60]).first()
    )
    if found is None:
        raise Http404
    return found


def _service_out(s: ServiceType, resolver: conditions.Resolver | None = None) -> dict:
    try:
        text = conditions.describe(s.condition, resolver=resolver) if s.condition else ""
    except DomainError:
        text = ""
    return {
        "code": s.code, "name": s.name, "description": s.description, "condition": s.condition,
        "condition_text": text, "schedule": s.schedule, "interval_months": s.interval_months,
        "event_kind": s.event_kind, "event_windows": s.event_windows, "lead_days": s.lead_days, "roles": s.roles,
        "facility_kind": s.facility_kind, "form": s.form, "consent_required": s.consent_required,
        "clinical": s.clinical, "active": s.active, "order": s.order, "version": s.version,
    }  # fmt: skip


def _values(body: CareServiceIn) -> dict:
    return body.dict(exclude={"code", "version"})


def _place(actor, raw: str | None) -> Place | None:
    """The place filter: a place's public id in the actor's subtree; anything else is a 422 naming it."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        public_id = UUID(raw)
    except ValueError:
        public_id = None
    place = Place.objects.visible_to(actor).filter(public_id=public_id).first() if public_id else None
    if place is None:
        raise DomainError("care.place", _("地区：编号无效，或不在您的管辖范围内。"), "place")
    return place


def _status(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if raw not in worklists.STATUSES:
        labels = "、".join(f"{k}（{v}）" for k, v in worklists.STATUSES.items())
        raise DomainError("care.status", _("状态：应为%(s)s之一。") % {"s": labels}, "status")
    return raw


def _worklist_service(actor, code: str) -> ServiceType:
    found = services.services_for(actor).filter(code=code[:60]).first()
    if found is None:
        raise Http404
    return found


# --------------------------------------------------------------------------------------------- catalogue


@router.get("/services", response=list[CareServiceOut])
def care_services(request):
    """The catalogue, in its order (inactive services too, for those who maintain it)."""
    actor = request.actor
    _catalogue_reader(actor)
    resolver = conditions.Resolver()
    qs = services.catalogue_list(include_inactive=actor.can(Perm.CARE_MANAGE))
    return [_service_out(s, resolver) for s in qs]


@router.post("/services", response={201: CareServiceOut})
def care_service_create(request, body: CareServiceCreate):
    """A new service type (新增服务项目); its first version is kept and audited."""
    actor = request.actor
    actor.require(Perm.CARE_MANAGE)
    service = services.service_type_create(actor=actor, code=body.code, values=_values(body))
    return 201, _service_out(service)


@router.get("/services/{code}", response=CareServiceOut)
def care_service_get(request, code: str):
    actor = request.actor
    _catalogue_reader(actor)
    return _service_out(_service(actor, code))


@router.put("/services/{code}", response=CareServiceOut)
def care_service_update(request, code: str, body: CareServiceUpdate):
    """Replace a service type's definition (修改服务项目); worklists follow at their recomputation, started here."""
    actor = request.actor
    actor.require(Perm.CARE_MANAGE)
    service = _service(actor, code)
    service = services.service_type_update(
        actor=actor, service=service, values=_values(body), version=body.version
    )
    return _service_out(service)


@router.get("/services/{code}/versions", response=list[CareVersionOut])
def care_service_versions(request, code: str):
    """Every version of a service type, newest first, as it read from that change on."""
    actor = request.actor
    _catalogue_reader(actor)
    service = _service(actor, code)
    versions = ServiceTypeVersion.objects.filter(service=service).select_related("changed_by__user")
    return [
        {
            "version": v.version,
            "changed_at": v.changed_at,
            "changed_by": (v.changed_by.user.full_name or v.changed_by.user.username) if v.changed_by else "",
            "snapshot": v.snapshot,
        }
        for v in versions.order_by("-version")
    ]


# --------------------------------------------------------------------------------------------- worklists


@router.get("/summary", response=CareSummaryOut)
def care_summary(request, as_of: str = "", place: str = ""):
    """Per service the actor's worklists cover: how many rows are in each status on `as_of` (default today)."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    day = parse_as_of(as_of)
    where = _place(actor, place)
    items = [
        {"code": s.service.code, "name": s.service.name, "counts": s.counts, "actionable": s.actionable}
        for s in worklists.summaries(actor, services.services_for(actor), as_of=day, place=where)
    ]
    return {"as_of": day, "items": items}


@router.get("/services/{code}/worklist", response=CareWorklistOut)
def care_worklist(
    request, code: str, paging: Query[Paging], status: str = "", place: str = "", as_of: str = ""
):
    """Whom to offer the service to, in the actor's scope: due date first. Filter by status and by place (a
    place's id, its subtree). One audit row per request."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    service = _worklist_service(actor, code)
    day = parse_as_of(as_of)
    wanted = _status(status)
    where = _place(actor, place)
    qs = worklists.rows(actor, service, as_of=day, status=wanted, place=where)
    page = list(qs[paging.offset : paging.offset + paging.limit])
    total = qs.count()
    full = actor.can(Perm.PERSON_VIEW_FULL)
    items = []
    for row in page:
        person = row.person
        age = time.age_on(person.birth_date, day)
        state = worklists.status_of(row, service, day)
        items.append(
            {
                "person_id": str(person.public_id), "name": person.name, "sex": person.sex,
                "age": age if full else None, "age_band": None if full else age_band(age),
                "address": str(row.dwelling) if row.dwelling_id and row.dwelling else "",
                "due_on": row.due_on, "window_end": row.window_end, "last_on": row.last_on,
                "last_outcome": row.last_outcome, "status": state, "status_display": str(worklists.STATUSES[state]),
            }
        )  # fmt: skip
    audit.record(
        actor=actor, action="care.worklist_view", target=service, row_count=len(items),
        data={"api": True, "status": wanted or "", "place": str(where.public_id) if where else "",
              "as_of": day.isoformat()},
    )  # fmt: skip
    return {"service": service.code, "as_of": day, "status": wanted, "items": items, "count": total}


# --------------------------------------------------------------------------------------------- records


@router.post("/records", response={200: CareRecordOut, 201: CareRecordOut})
def care_record_create(request, body: CareRecordIn):
    """Record one contact (服务记录): 201 when written, 200 with the first record when it is a repeat (same
    client_token, or the same person, service and day). 404 for a person out of scope or a service the
    actor's role does not deliver."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    service = ServiceType.objects.filter(code=body.service[:60], active=True).first()
    if service is None or not services.can_deliver(actor, service):
        raise Http404
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, body.person_id)
    record, created = services.record_contact(
        actor=actor, person=person, service=service, occurred_on=body.occurred_on, outcome=body.outcome,
        data=body.data, consent=body.consent, note=body.note, client_token=body.client_token,
    )  # fmt: skip
    return (201 if created else 200), services.record_view(actor, record)


@router.get("/persons/{uuid:person_id}/records", response=list[CareRecordOut])
def care_person_records(request, person_id: UUID):
    """A person's contacts, newest first (up to 200); clinical values only for those with care.clinical."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    rows = services.person_records(actor, person)
    audit.record(
        actor=actor, action="care.records_view", target=person, row_count=len(rows), data={"api": True}
    )
    return rows
