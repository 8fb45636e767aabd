"""API of the free pre-pregnancy eugenic check (免费孕前优生健康检查), mounted at /api/v1/preconception.

Same scoping, audit and errors as the pages: the enrolments are listed to the roles the catalogue's
`prepregnancy_check` names and the supervisors (clinic staff: their station's); couples are enrolled, assessments
delivered and follow-ups noted by the roles delivering the service; results are entered by clinic staff only and
returned only to those with the clinical permission (each read audited as `preconception.results_view`); others
get `results: null` and 已检查 / 需随访. Anything else is a 404; bad input a 422 naming the field.
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from hearth.accounts.scoping import get_visible_or_404
from hearth.core.errors import DomainError, DomainErrors, as_list
from hearth.places.models import Facility
from hearth.registry.models import Person

from . import selectors, services
from .models import Enrolment, Examination, Status

router = Router(tags=["preconception"])


class PreconItemOut(Schema):
    code: str
    label: str
    done: bool
    value: str
    abnormal: bool


class PreconResultsOut(Schema):
    items: list[PreconItemOut]
    risk: str
    risk_label: str
    advice: str


class PreconDeliveryOut(Schema):
    method: str
    method_label: str
    recipient: str
    delivered_on: date


class PreconExaminationOut(Schema):
    id: str
    who: str
    who_label: str
    examined_on: date
    assessed: bool
    needs_follow_up: bool
    summary: str
    delivery: PreconDeliveryOut | None
    # Only with the clinical permission.
    results: PreconResultsOut | None


class PreconFollowUpOut(Schema):
    who: str
    who_label: str
    occurred_on: date
    note: str | None
    note_hidden: bool


class PreconOutcomeOut(Schema):
    kind: str
    kind_label: str
    occurred_on: date
    note: str


class PreconEnrolmentOut(Schema):
    id: str
    woman_id: str
    woman_name: str
    man_id: str | None
    man_name: str
    man_id_masked: str
    facility: str
    facility_id: str
    agreed_on: date | None
    status: str
    status_label: str
    woman_consent: bool
    woman_consent_at: datetime | None
    man_consent: bool
    man_consent_at: datetime | None
    outcome_consent: bool
    outcome_consent_at: datetime | None
    created_at: datetime
    withdrawn_at: datetime | None
    results_hidden: bool
    examinations: list[PreconExaminationOut]
    follow_ups: list[PreconFollowUpOut]
    outcomes: list[PreconOutcomeOut] | None


class PreconEnrolmentRow(Schema):
    id: str
    woman_id: str
    woman_name: str
    man_name: str
    facility: str
    agreed_on: date | None
    status: str
    status_label: str
    needs_follow_up: bool
    created_at: datetime


class PreconEnrolIn(Schema):
    woman_id: UUID
    man_id: UUID | None = Field(
        None, description="the man, when he is on the registry and the actor sees him"
    )
    man_name: str = Field("", max_length=100, description="otherwise his name")
    man_id_masked: str = Field("", max_length=40, description="and the last four of his ID number (masked)")
    facility_id: UUID | None = Field(
        None, description="officers: a station serving her place; clinic: theirs"
    )
    agreed_on: date | None = None
    woman_consent: bool = False
    man_consent: bool = False
    outcome_consent: bool = False


class PreconExaminationIn(Schema):
    who: str = Field(max_length=10, description="woman | man")
    items: dict[str, Any] = Field(description='{code: {"value": "…", "abnormal": false}} (see items.py)')
    risk: str = Field("", max_length=10, description="general | high | empty (not yet assessed)")
    advice: str = Field("", max_length=4000)
    examined_on: date | None = None


class PreconDeliveryIn(Schema):
    who: str = Field(max_length=10)
    method: str = Field(max_length=10, description="self | family | mail | kept")
    recipient: str = Field("", max_length=100)
    delivered_on: date | None = None


class PreconFollowUpIn(Schema):
    who: str = Field(max_length=10)
    note: str = Field("", max_length=1000)
    occurred_on: date | None = None


class PreconOutcomeIn(Schema):
    kind: str = Field(max_length=20)
    occurred_on: date | None = None
    note: str = Field("", max_length=1000)


class PreconConsentIn(Schema):
    who: str = Field(max_length=10, description="man | outcome")
    given: bool


class PreconDateIn(Schema):
    agreed_on: date | None = None


def _viewer(request):
    return selectors.viewer_or_404(request.actor)


def _acting(request, enrolment_id: UUID, *, clinic_only: bool = False) -> tuple[Any, Enrolment]:
    actor = request.actor
    return actor, selectors.acting_on_enrolment_or_404(actor, enrolment_id, clinic_only=clinic_only)


# The services name the persons and the station; the body names their ids.
_BODY_FIELDS = {"woman": "woman_id", "man": "man_id", "facility": "facility_id"}


def _body_fields(exc: DomainError) -> DomainError:
    errors = as_list(exc)
    for e in errors:
        e.field = _BODY_FIELDS.get(e.field, e.field)
    return DomainErrors(errors) if len(errors) > 1 else errors[0]


def _out(actor, enrolment: Enrolment) -> dict:
    enrolment.refresh_from_db()
    return selectors.enrolment_view(actor, enrolment)


@router.get("/enrolments", response=list[PreconEnrolmentRow])
def precon_enrolment_list(request, status: str = ""):
    """Enrolments in scope (clinic staff: their station's), newest first, up to 500; status only, no results."""
    actor = _viewer(request)
    rows = list(selectors.enrolment_list(actor, status=status if status in Status.values else "")[:500])
    follow_up = set(
        Examination.objects.visible_to(actor)
        .filter(enrolment__in=rows, needs_follow_up=True)
        .values_list("enrolment_id", flat=True)
    )
    return [
        {
            "id": str(e.public_id),
            "woman_id": str(e.woman.public_id),
            "woman_name": e.woman.name,
            "man_name": e.man_display,
            "facility": e.facility.name,
            "agreed_on": e.agreed_on,
            "status": e.status,
            "status_label": str(e.get_status_display()),
            "needs_follow_up": e.pk in follow_up,
            "created_at": e.created_at,
        }
        for e in rows
    ]


@router.post("/enrolments", response={200: PreconEnrolmentOut, 201: PreconEnrolmentOut})
def precon_enrolment_create(request, body: PreconEnrolIn):
    """登记 a couple (the woman's consent required); a repeat returns her enrolment in progress with 200."""
    actor = request.actor
    if not selectors.can_enrol(actor):
        raise Http404
    woman = get_visible_or_404(Person.objects.select_related("dwelling"), actor, body.woman_id)
    man = Person.objects.visible_to(actor).filter(public_id=body.man_id).first() if body.man_id else None
    if body.man_id and man is None:
        raise DomainError("precon.man", _("男方：没有找到此人，可直接填写姓名。"), "man_id")
    facility = Facility.objects.filter(public_id=body.facility_id).first() if body.facility_id else None
    if body.facility_id and facility is None:
        raise DomainError("precon.facility", _("检查机构：没有此机构。"), "facility_id")
    try:
        enrolment, created = services.enrol(
            actor=actor, woman=woman, man=man, man_name=body.man_name, man_id_masked=body.man_id_masked,
            facility=facility, agreed_on=body.agreed_on, woman_consent=body.woman_consent,
            man_consent=body.man_consent, outcome_consent=body.outcome_consent,
        )  # fmt: skip
    except DomainError as exc:
        raise _body_fields(exc) from None
    return (201 if created else 200), _out(actor, enrolment)


@router.get("/enrolments/{uuid:enrolment_id}", response=PreconEnrolmentOut)
def precon_enrolment_get(request, enrolment_id: UUID):
    """One enrolment; results only with the clinical permission (the read is audited)."""
    actor = _viewer(request)
    return selectors.enrolment_view(actor, selectors.get_enrolment_or_404(actor, enrolment_id))


@router.post("/enrolments/{uuid:enrolment_id}/examinations",
             response={200: PreconEnrolmentOut, 201: PreconEnrolmentOut})  # fmt: skip
def precon_examination_create(request, enrolment_id: UUID, body: PreconExaminationIn):
    """检查结果 of one partner (clinic staff), with that partner's consent; 200 when it replaces earlier ones."""
    actor, enrolment = _acting(request, enrolment_id, clinic_only=True)
    _exam, created = services.record_examination(
        actor=actor, enrolment=enrolment, who=body.who, items=body.items, risk=body.risk, advice=body.advice,
        examined_on=body.examined_on,
    )  # fmt: skip
    return (201 if created else 200), _out(actor, enrolment)


@router.post("/enrolments/{uuid:enrolment_id}/deliveries",
             response={200: PreconEnrolmentOut, 201: PreconEnrolmentOut})  # fmt: skip
def precon_delivery_create(request, enrolment_id: UUID, body: PreconDeliveryIn):
    """送达 of one partner's assessment; abnormal results only `self` (本人签收). A repeat returns 200."""
    actor, enrolment = _acting(request, enrolment_id)
    _delivery, created = services.deliver(
        actor=actor, enrolment=enrolment, who=body.who, method=body.method, recipient=body.recipient,
        delivered_on=body.delivered_on,
    )  # fmt: skip
    return (201 if created else 200), _out(actor, enrolment)


@router.post("/enrolments/{uuid:enrolment_id}/follow-ups", response={201: PreconEnrolmentOut})
def precon_follow_up_create(request, enrolment_id: UUID, body: PreconFollowUpIn):
    """随访 about abnormal results."""
    actor, enrolment = _acting(request, enrolment_id)
    services.add_follow_up(actor=actor, enrolment=enrolment, who=body.who, note=body.note,
                           occurred_on=body.occurred_on)  # fmt: skip
    return 201, _out(actor, enrolment)


@router.post("/enrolments/{uuid:enrolment_id}/outcomes", response={201: PreconEnrolmentOut})
def precon_outcome_create(request, enrolment_id: UUID, body: PreconOutcomeIn):
    """妊娠结局随访 (clinic staff), only if the woman agreed to it."""
    actor, enrolment = _acting(request, enrolment_id, clinic_only=True)
    services.record_outcome(actor=actor, enrolment=enrolment, kind=body.kind, occurred_on=body.occurred_on,
                            note=body.note)  # fmt: skip
    return 201, _out(actor, enrolment)


@router.post("/enrolments/{uuid:enrolment_id}/consent", response=PreconEnrolmentOut)
def precon_consent(request, enrolment_id: UUID, body: PreconConsentIn):
    """The man's agreement to be examined, or the woman's to the outcome follow-up (given or withdrawn)."""
    actor, enrolment = _acting(request, enrolment_id)
    services.consent_set(actor=actor, enrolment=enrolment, who=body.who, given=body.given)
    return _out(actor, enrolment)


@router.post("/enrolments/{uuid:enrolment_id}/date", response=PreconEnrolmentOut)
def precon_reschedule(request, enrolment_id: UUID, body: PreconDateIn):
    """约定检查日期."""
    actor, enrolment = _acting(request, enrolment_id)
    services.reschedule(actor=actor, enrolment=enrolment, agreed_on=body.agreed_on)
    return _out(actor, enrolment)


@router.post("/enrolments/{uuid:enrolment_id}/withdraw", response=PreconEnrolmentOut)
def precon_withdraw(request, enrolment_id: UUID):
    """本人退出, at any time and with no reason asked. Idempotent."""
    actor, enrolment = _acting(request, enrolment_id)
    services.withdraw(actor=actor, enrolment=enrolment)
    return _out(actor, enrolment)
