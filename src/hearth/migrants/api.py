"""API for 流动人口与以房管人, mounted at the API root: /migrants/… and /landlords/…, /tenancies/….

Same rules as the pages: records outside the actor's scope are 404; bad input is 422 with the field named;
every write and every read of personal data is audited.
"""

from uuid import UUID

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.core.api import Paging
from hearth.core.errors import DomainError
from hearth.registry.codes import region_label
from hearth.registry.models import Person
from hearth.registry.selectors import dwellings_in_scope, person_row

from . import selectors, services
from .models import InflowRecord, Landlord, OutflowRecord, Tenancy
from .schemas import (
    InflowOut,
    InflowPut,
    InflowRegisterIn,
    InflowRegisterOut,
    LandlordIn,
    LandlordOut,
    LandlordPage,
    LandlordPut,
    MoveInIn,
    OutflowOut,
    OutflowPut,
    TenancyEndIn,
    TenancyIn,
    TenancyOut,
    TenantsIn,
    WorklistPage,
)

router = Router(tags=["migrants"])


def _inflow_out(record: InflowRecord) -> dict:
    return {
        "id": str(record.public_id),
        "person_id": str(record.person.public_id),
        "from_region_display": region_label(record.from_region),
        "version": record.version,
        **{f: getattr(record, f) for f in services.INFLOW_FIELDS},
    }


def _outflow_out(record: OutflowRecord) -> dict:
    return {
        "id": str(record.public_id),
        "person_id": str(record.person.public_id),
        "to_region_display": region_label(record.to_region),
        "version": record.version,
        **{f: getattr(record, f) for f in services.OUTFLOW_FIELDS},
    }


def _person_for_change(actor, person_id: UUID) -> Person:
    selectors.require_write(actor)
    return get_visible_or_404(Person.objects.select_related("dwelling__place"), actor, person_id)


def _put(body, fields) -> tuple[dict, dict]:
    data = body.dict()
    return {f: data[f] for f in fields}, {
        "version": data["version"],
        "set_residence": data["set_residence"],
        "person_version": data["person_version"],
    }


# --- inflow and outflow records ------------------------------------------------------------------------


@router.get("/migrants/{uuid:person_id}/inflow", response=InflowOut)
def get_inflow(request, person_id: UUID):
    """A person's inflow record (404 if the person has none)."""
    person = selectors.person_open(
        actor=request.actor, public_id=person_id, action="migrants.inflow.view", via_api=True
    )
    record = selectors.inflow_of(person)
    if record is None:
        raise Http404
    return _inflow_out(record)


@router.put("/migrants/{uuid:person_id}/inflow", response=InflowOut)
def put_inflow(request, person_id: UUID, body: InflowPut):
    """Create (version null) or update (the version read) a person's inflow record."""
    actor = request.actor
    person = _person_for_change(actor, person_id)
    values, opts = _put(body, services.INFLOW_FIELDS)
    record = services.inflow_save(actor=actor, person=person, values=values, **opts)
    return _inflow_out(record)


@router.get("/migrants/{uuid:person_id}/outflow", response=OutflowOut)
def get_outflow(request, person_id: UUID):
    person = selectors.person_open(
        actor=request.actor, public_id=person_id, action="migrants.outflow.view", via_api=True
    )
    record = selectors.outflow_of(person)
    if record is None:
        raise Http404
    return _outflow_out(record)


@router.put("/migrants/{uuid:person_id}/outflow", response=OutflowOut)
def put_outflow(request, person_id: UUID, body: OutflowPut):
    actor = request.actor
    person = _person_for_change(actor, person_id)
    values, opts = _put(body, services.OUTFLOW_FIELDS)
    record = services.outflow_save(actor=actor, person=person, values=values, **opts)
    return _outflow_out(record)


def _dwelling(actor, public_id: UUID, field: str):
    found = dwellings_in_scope(actor).select_related("place").filter(public_id=public_id).first()
    if found is None:
        raise DomainError("dwelling.out_of_scope", _("所选房屋不存在或不在您的管辖范围内。"), field)
    return found


@router.post("/migrants/inflow", response={201: InflowRegisterOut}, exclude_none=True)
def register_inflow(request, body: InflowRegisterIn):
    """Register a new inflow migrant: the person and the inflow record in one transaction, or nothing."""
    actor = request.actor
    selectors.require_write(actor, Perm.PERSON_CREATE)
    person_values = body.person.dict()
    person_values["dwelling"] = _dwelling(actor, body.person.dwelling_id, "dwelling_id")
    record = services.inflow_register(
        actor=actor, person_values=person_values, inflow_values=body.inflow.dict()
    )
    return 201, {"person": person_row(record.person, actor, detail=True), "inflow": _inflow_out(record)}


# --- landlords -----------------------------------------------------------------------------------------


@router.get("/landlords", response=LandlordPage)
def list_landlords(request, paging: Query[Paging], q: str = ""):
    """Landlords registered in the actor's subtree; search by name or phone."""
    actor = request.actor
    rows, total = selectors.landlord_search(actor=actor, q=q[:50], limit=paging.limit, offset=paging.offset)
    return {"items": [selectors.landlord_row(r) for r in rows], "count": total}


def _tenancy_out(t: Tenancy, *, registered=None, tenants=None, reasons=None) -> dict:
    return {
        "id": str(t.public_id),
        "dwelling_id": str(t.dwelling.public_id),
        "dwelling": str(t.dwelling),
        "landlord_id": str(t.landlord.public_id),
        "started_on": t.started_on,
        "ended_on": t.ended_on,
        "declared_tenants": t.declared_tenants,
        "registered": registered,
        "tenants": tenants,
        "reasons": reasons,
    }


def _landlord_out(actor, landlord: Landlord) -> dict:
    d = selectors.landlord_detail(actor, landlord)
    return {
        "id": str(landlord.public_id),
        "name": landlord.name,
        "phone": landlord.phone,
        "place_id": str(landlord.place.public_id),
        "place": d.place,
        "agreement_signed": landlord.agreement_signed,
        "agreement_date": landlord.agreement_date,
        "notes": landlord.notes,
        "person": d.person,
        "dwellings": [{"id": str(x.public_id), "address": str(x)} for x in d.dwellings],
        "tenancies": [
            _tenancy_out(r["tenancy"], registered=r["registered"], tenants=r["tenants"], reasons=r["reasons"])
            for r in d.tenancies
        ],
        "token": services.landlord_token(landlord),
    }


def _landlord_values(actor, body: LandlordIn) -> dict:
    place = selectors.landlord_places(actor).filter(public_id=body.place_id).first()
    if place is None:
        raise DomainError(
            "landlord.place_out_of_scope", _("所选登记社区不存在或不在您的管辖范围内。"), "place_id"
        )
    ids = set(body.dwelling_ids)
    dwellings = list(dwellings_in_scope(actor).filter(public_id__in=ids))
    if len(dwellings) != len(ids):
        raise DomainError(
            "landlord.dwelling_out_of_scope", _("所选房屋不存在或不在您的管辖范围内。"), "dwelling_ids"
        )
    values = {
        "place": place,
        "dwellings": dwellings,
        **body.dict(include={"name", "phone", "agreement_signed", "agreement_date", "notes"}),
    }
    if body.person_id_number.strip():
        person = selectors.person_by_document(
            body.person_id_type, body.person_id_number, field="person_id_number"
        )
        if person is None:
            raise DomainError(
                "landlord.person_unknown", _("系统中没有该证件号码的人员，可不填。"), "person_id_number"
            )
        values["person"] = person
    return values


@router.post("/landlords", response={201: LandlordOut}, exclude_none=True)
def create_landlord(request, body: LandlordIn):
    actor = request.actor
    selectors.require_write(actor)
    landlord = services.landlord_create(actor=actor, values=_landlord_values(actor, body))
    return 201, _landlord_out(actor, landlord)


@router.get("/landlords/worklist", response=WorklistPage, exclude_none=True)
def landlord_worklist(request, paging: Query[Paging]):
    """以房管人: open tenancies whose tenants are not registered or whose landlord has not signed; with reasons."""
    actor = request.actor
    rows, total = selectors.worklist(actor=actor, limit=paging.limit, offset=paging.offset)
    return {
        "items": [_tenancy_out(r["tenancy"], registered=r["registered"], reasons=r["reasons"]) for r in rows],
        "count": total,
    }


@router.get("/landlords/{uuid:landlord_id}", response=LandlordOut, exclude_none=True)
def get_landlord(request, landlord_id: UUID):
    actor = request.actor
    landlord = selectors.landlord_open(actor=actor, public_id=landlord_id, via_api=True)
    return _landlord_out(actor, landlord)


@router.put("/landlords/{uuid:landlord_id}", response=LandlordOut, exclude_none=True)
def update_landlord(request, landlord_id: UUID, body: LandlordPut):
    """Replace a landlord's details; `token` must be the one last read. The linked person is kept unless
    a document number names another or `unlink_person` is set."""
    actor = request.actor
    landlord = selectors.landlord_for_change(actor=actor, public_id=landlord_id)
    values = _landlord_values(actor, body)
    if body.unlink_person and "person" not in values:
        values["person"] = None
    landlord = services.landlord_update(actor=actor, landlord=landlord, values=values, token=body.token)
    return _landlord_out(actor, landlord)


@router.post("/landlords/{uuid:landlord_id}/tenancies", response={201: TenancyOut}, exclude_none=True)
def create_tenancy(request, landlord_id: UUID, body: TenancyIn):
    actor = request.actor
    landlord = selectors.landlord_for_change(actor=actor, public_id=landlord_id)
    tenancy = services.tenancy_create(
        actor=actor,
        landlord=landlord,
        dwelling=_dwelling(actor, body.dwelling_id, "dwelling_id"),
        started_on=body.started_on,
        declared_tenants=body.declared_tenants,
    )
    return 201, _tenancy_out(tenancy)


# --- tenancies -----------------------------------------------------------------------------------------


@router.post("/tenancies/{uuid:tenancy_id}/end", response=TenancyOut, exclude_none=True)
def end_tenancy(request, tenancy_id: UUID, body: TenancyEndIn):
    actor = request.actor
    tenancy = selectors.tenancy_open(actor=actor, public_id=tenancy_id)
    tenancy = services.tenancy_end(actor=actor, tenancy=tenancy, ended_on=body.ended_on)
    return _tenancy_out(tenancy)


@router.put("/tenancies/{uuid:tenancy_id}/tenants", response=TenancyOut, exclude_none=True)
def set_tenancy_tenants(request, tenancy_id: UUID, body: TenantsIn):
    """The tenants within the actor's scope are exactly `person_ids`; tenants outside it are kept."""
    actor = request.actor
    tenancy = selectors.tenancy_open(actor=actor, public_id=tenancy_id)
    ids = set(body.person_ids)
    chosen = list(Person.objects.visible_to(actor).filter(public_id__in=ids))
    if len(chosen) != len(ids):
        raise DomainError(
            "tenancy.tenant_out_of_scope", _("所选人员不存在或不在您的管辖范围内。"), "person_ids"
        )
    visible = Person.objects.visible_to(actor).filter(tenancies=tenancy).values("pk")
    chosen += list(tenancy.tenants.exclude(pk__in=visible))
    services.tenancy_tenants_set(actor=actor, tenancy=tenancy, persons=chosen)
    return _tenancy_out(tenancy)


@router.post("/tenancies/{uuid:tenancy_id}/move-in", response=TenancyOut, exclude_none=True)
def tenancy_move_in(request, tenancy_id: UUID, body: MoveInIn):
    """A person of the actor's scope moves into the rented dwelling (a dwelling_change event) as a tenant."""
    actor = request.actor
    tenancy = selectors.tenancy_open(actor=actor, public_id=tenancy_id)
    person = (
        Person.objects.visible_to(actor)
        .select_related("dwelling__place")
        .filter(public_id=body.person_id)
        .first()
    )
    if person is None:
        raise DomainError(
            "tenancy.tenant_out_of_scope", _("所选人员不存在或不在您的管辖范围内。"), "person_id"
        )
    services.tenancy_tenant_move_in(
        actor=actor, tenancy=tenancy, person=person, occurred_on=body.occurred_on, version=body.version
    )
    return _tenancy_out(tenancy)
