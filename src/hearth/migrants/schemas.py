from datetime import date
from uuid import UUID

from ninja import Schema
from pydantic import Field

from hearth.registry.api import PersonIn, PersonOut
from hearth.registry.codes import DocumentType

from .models import Housing, InflowReason


class InflowIn(Schema):
    from_region: str = Field(max_length=6)
    since: date
    reason: InflowReason
    employer: str = Field("", max_length=100)
    housing: Housing
    # Legacy facts kept for the seeds' figures; no certificate is issued or required here.
    certificate_held: bool = False
    certificate_checked_on: date | None = None
    agreement_signed: bool = False
    agreement_date: date | None = None


class InflowPut(InflowIn):
    version: int | None = Field(None, description="The record's version; null when creating it.")
    set_residence: bool = Field(False, description="Also set the person's residence type to inflow.")
    person_version: int | None = Field(None, description="The person's version; needed with set_residence.")


class InflowOut(Schema):
    id: str
    person_id: str
    from_region: str
    from_region_display: str
    since: date
    reason: str
    employer: str
    housing: str
    certificate_held: bool
    certificate_checked_on: date | None = None
    agreement_signed: bool
    agreement_date: date | None = None
    version: int


class OutflowIn(Schema):
    to_region: str = Field(max_length=6)
    to_address: str = Field("", max_length=150)
    since: date
    contact: str = Field("", max_length=50)
    informed: str = Field("", max_length=100)


class OutflowPut(OutflowIn):
    version: int | None = None
    set_residence: bool = False
    person_version: int | None = None


class OutflowOut(Schema):
    id: str
    person_id: str
    to_region: str
    to_region_display: str
    to_address: str
    since: date
    contact: str
    informed: str
    version: int


class InflowRegisterIn(Schema):
    """A new inflow migrant: the person (residence type is always inflow) and the inflow record."""

    person: PersonIn
    inflow: InflowIn


class InflowRegisterOut(Schema):
    person: PersonOut
    inflow: InflowOut


class LinkedPerson(Schema):
    id: str | None = None
    name: str
    openable: bool


class LandlordIn(Schema):
    name: str = Field(max_length=50)
    phone: str = Field("", max_length=20)
    place_id: UUID
    agreement_signed: bool = False
    agreement_date: date | None = None
    notes: str = Field("", max_length=300)
    dwelling_ids: list[UUID] = Field(default_factory=list, max_length=500)
    # A registry person to link, named by document number (POST body only, never a URL).
    person_id_type: DocumentType = DocumentType.RESIDENT_ID
    person_id_number: str = Field("", max_length=40)


class LandlordPut(LandlordIn):
    token: str = Field(max_length=64, description="`token` from GET /landlords/{id}; refused if stale.")
    unlink_person: bool = False


class LandlordRow(Schema):
    id: str
    name: str
    phone_masked: str
    place: str
    agreement_signed: bool
    agreement_date: date | None = None
    dwellings: int | None = None
    open_tenancies: int | None = None


class LandlordPage(Schema):
    items: list[LandlordRow]
    count: int


class TenantOut(Schema):
    id: str | None = None
    name: str
    openable: bool
    lives_here: bool
    sex: str | None = None
    age: int | None = None
    id_number_masked: str | None = None
    residence_type: str | None = None


class Reason(Schema):
    code: str
    text: str


class TenancyOut(Schema):
    id: str
    dwelling_id: str
    dwelling: str
    landlord_id: str
    started_on: date
    ended_on: date | None = None
    declared_tenants: int
    registered: int | None = None
    tenants: list[TenantOut] | None = None
    reasons: list[Reason] | None = None


class DwellingOut(Schema):
    id: str
    address: str


class LandlordOut(Schema):
    id: str
    name: str
    phone: str
    place_id: str
    place: str
    agreement_signed: bool
    agreement_date: date | None = None
    notes: str
    person: LinkedPerson | None = None
    dwellings: list[DwellingOut]
    tenancies: list[TenancyOut]
    token: str


class TenancyIn(Schema):
    dwelling_id: UUID
    started_on: date
    declared_tenants: int = Field(1, ge=0, le=50)


class TenancyEndIn(Schema):
    ended_on: date


class TenantsIn(Schema):
    person_ids: list[UUID] = Field(max_length=200)


class MoveInIn(Schema):
    person_id: UUID
    occurred_on: date
    version: int


class WorklistPage(Schema):
    items: list[TenancyOut]
    count: int
