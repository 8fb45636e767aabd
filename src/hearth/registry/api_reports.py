"""API for change reports (/change-reports…) and households (/households…, /dwellings/{id}/household).

Mounted at the API root. Same scoping, permissions and audit as the pages.
"""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.core.api import Paging
from hearth.core.errors import DomainError, as_list

from . import households, reports, services
from .api import PersonOut
from .codes import DocumentType, Ethnicity, RelationToHead
from .models import ChangeKind, ChangeReport, ChangeStatus, ResidenceType, Sex

router = Router(tags=["change-reports"])


class ChangeReportOut(Schema):
    id: str
    dwelling_id: str
    dwelling: str
    kind: str
    kind_display: str
    text: str
    status: str
    status_display: str
    reported_by: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str = ""
    # From report to decision; the indicator of confirmation time reads it for confirmed reports.
    lead_time_seconds: int | None = None
    events: list[str] | None = None


class ChangeReportPage(Schema):
    items: list[ChangeReportOut]
    count: int


class ChangeReportIn(Schema):
    dwelling_id: UUID
    kind: ChangeKind
    text: str = Field("", max_length=500)


class RejectIn(Schema):
    reason: str = Field(max_length=300)


class ConfirmIn(Schema):
    """The page's choices. moved_in: mode new (name, sex, birth_date, id_number…) or existing (id_number);
    moved_out / death / marriage: person_id (a resident); birth: mother_id and the child's fields."""

    occurred_on: date | None = None
    note: str = Field("", max_length=300)
    mode: Literal["new", "existing"] = "new"
    id_type: DocumentType = DocumentType.RESIDENT_ID
    id_number: str = Field("", max_length=40)
    name: str = Field("", max_length=50)
    sex: Sex | None = None
    birth_date: date | None = None
    ethnicity: Ethnicity | None = None
    residence_type: ResidenceType | None = None
    hukou_code: str = Field("", max_length=6)
    phone: str = Field("", max_length=20)
    person_id: UUID | None = None
    mother_id: UUID | None = None
    spouse_id: UUID | None = None
    spouse_id_number: str = Field("", max_length=40)
    to_region: str = Field("", max_length=6)
    to_address: str = Field("", max_length=150)


# The services name the page's fields; the API's carry an _id suffix.
_API_FIELDS = {"dwelling": "dwelling_id", "person": "person_id", "mother": "mother_id", "spouse": "spouse_id"}


def _renamed(exc: DomainError) -> DomainError:
    for err in as_list(exc):
        err.field = _API_FIELDS.get(err.field, err.field)
    exc.field = _API_FIELDS.get(exc.field, exc.field)
    return exc


def _name(grant) -> str | None:
    if grant is None:
        return None
    return grant.user.full_name or grant.user.username


def _report_out(report: ChangeReport, events: list | None = None) -> dict:
    lead = getattr(report, "lead_time", None) or reports.lead_time(report)
    return {
        "id": str(report.public_id),
        "dwelling_id": str(report.dwelling.public_id),
        "dwelling": str(report.dwelling),
        "kind": report.kind,
        "kind_display": report.get_kind_display(),
        "text": report.text,
        "status": report.status,
        "status_display": report.get_status_display(),
        "reported_by": _name(report.reported_by),
        "created_at": report.created_at,
        "decided_by": _name(report.decided_by),
        "decided_at": report.decided_at,
        "decision_reason": report.decision_reason,
        "lead_time_seconds": int(lead.total_seconds()) if lead is not None else None,
        "events": [str(e.public_id) for e in events] if events is not None else None,
    }


@router.get("/change-reports", response=ChangeReportPage, exclude_none=True)
def list_change_reports(request, paging: Query[Paging], status: ChangeStatus | None = None):
    """Deciders: reports in scope, pending first. Volunteers: their own reports, with rejection reasons."""
    rows, total = reports.change_report_list(
        actor=request.actor, status=status or "", limit=paging.limit, offset=paging.offset
    )
    return {"items": [_report_out(r) for r in rows], "count": total}


@router.post("/change-reports", response={201: ChangeReportOut}, exclude_none=True)
def create_change_report(request, body: ChangeReportIn):
    actor = request.actor
    actor.require(Perm.CHANGE_REPORT_CREATE)
    dwelling = reports.report_dwellings(actor).filter(public_id=body.dwelling_id).first()
    if dwelling is None:
        raise DomainError(
            "report.dwelling_out_of_scope", _("所选房屋不存在或不在您负责的范围内。"), "dwelling_id"
        )
    try:
        report = reports.change_report_create(actor=actor, dwelling=dwelling, kind=body.kind, text=body.text)
    except DomainError as exc:
        raise _renamed(exc) from None
    report = reports.change_reports_for(actor).get(pk=report.pk)
    return 201, _report_out(report)


@router.get("/change-reports/{uuid:report_id}", response=ChangeReportOut, exclude_none=True)
def get_change_report(request, report_id: UUID):
    actor = request.actor
    report = reports.change_report_open(actor=actor, public_id=report_id, via_api=True)
    events = None
    if actor.can(Perm.CHANGE_REPORT_DECIDE):
        events = reports.report_events(actor, report)
    return _report_out(report, events)


def _decidable(actor, report_id: UUID) -> ChangeReport:
    actor.require(Perm.CHANGE_REPORT_DECIDE)
    return get_visible_or_404(reports.change_reports_for(actor), actor, report_id)


@router.post("/change-reports/{uuid:report_id}/reject", response=ChangeReportOut, exclude_none=True)
def reject_change_report(request, report_id: UUID, body: RejectIn):
    actor = request.actor
    report = _decidable(actor, report_id)
    reports.change_report_reject(actor=actor, report=report, reason=body.reason)
    return _report_out(reports.change_reports_for(actor).get(pk=report.pk))


@router.post("/change-reports/{uuid:report_id}/confirm", response=ChangeReportOut, exclude_none=True)
def confirm_change_report(request, report_id: UUID, body: ConfirmIn):
    actor = request.actor
    report = _decidable(actor, report_id)
    values = {k: getattr(body, k) for k in reports.NEW_PERSON_FIELDS}
    decision = reports.Decision(
        occurred_on=body.occurred_on,
        note=body.note,
        mode=body.mode,
        values=values,
        id_type=body.id_type,
        id_number=body.id_number,
        person=str(body.person_id or ""),
        mother=str(body.mother_id or ""),
        spouse=str(body.spouse_id or ""),
        spouse_id_number=body.spouse_id_number,
        to_region=body.to_region,
        to_address=body.to_address,
    )
    try:
        reports.change_report_confirm(actor=actor, report=report, decision=decision)
    except DomainError as exc:
        raise _renamed(exc) from None
    report = reports.change_reports_for(actor).get(pk=report.pk)
    return _report_out(report, reports.report_events(actor, report))


# --- households --------------------------------------------------------------------------------------


class LinkOut(Schema):
    relation: str | None = None
    name: str
    id: str | None = None
    openable: bool


class MemberOut(PersonOut):
    relation_to_head_display: str | None = None
    is_head: bool
    lives_here: bool
    relatives: list[LinkOut] | None = None


class HouseholdOut(Schema):
    id: str
    number: str
    dwelling: str
    dwelling_id: str
    head: LinkOut | None = None
    members: list[MemberOut]


class MemberIn(Schema):
    person_id: UUID
    relation: RelationToHead


class HouseholdIn(Schema):
    head_id: UUID
    members: list[MemberIn] = Field(default_factory=list, max_length=100)


@router.get("/households/{uuid:household_id}", response=HouseholdOut, exclude_none=True, tags=["households"])
def get_household(request, household_id: UUID):
    """The household's dwelling, head and members (as person lists show them)."""
    actor = request.actor
    household = households.household_open(actor=actor, public_id=household_id)
    return households.household_view(actor=actor, household=household, via_api=True)


@router.put(
    "/dwellings/{uuid:dwelling_id}/household", response=HouseholdOut, exclude_none=True, tags=["households"]
)
def set_dwelling_household(request, dwelling_id: UUID, body: HouseholdIn):
    """(Re)form the household of a dwelling from its current residents; residents not listed leave it."""
    actor = request.actor
    dwelling = households.dwelling_open(actor=actor, public_id=dwelling_id)
    residents = {p.public_id: p for p in households.dwelling_residents(actor=actor, dwelling=dwelling)}
    head = residents.get(body.head_id)
    if head is None:
        raise DomainError("household.head_unknown", _("户主不是该房屋的在册居民。"), "head_id")
    members = {}
    for m in body.members:
        person = residents.get(m.person_id)
        if person is None:
            raise DomainError("household.member_unknown", _("成员不是该房屋的在册居民。"), "members")
        members[person] = m.relation
    household = services.household_set(actor=actor, dwelling=dwelling, head=head, members=members)
    household = households.household_open(actor=actor, public_id=household.public_id)
    return households.household_view(actor=actor, household=household, via_api=True)
