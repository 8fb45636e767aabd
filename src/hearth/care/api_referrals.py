"""API of referrals and enrolments (转介与登记), mounted at /api/v1/care/referrals.

Officers list the referrals of persons in their scope and refer a person in scope to a facility serving their
place; clinic staff list their facility's and enrol a person who came in (by the number on their ID card).
Both need the person's agreement (`consent: true`). A repeat returns the open referral with 200.
"""

from datetime import datetime
from uuid import UUID

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.core.errors import DomainError
from hearth.places.models import Facility
from hearth.registry.codes import DocumentType
from hearth.registry.models import Person

from . import referrals
from .models import Referral, ServiceType

router = Router(tags=["care"])


class ReferralOut(Schema):
    id: str
    person_id: str
    person_name: str
    facility: str
    facility_id: str
    service: str | None
    kind: str
    reason: str
    created_at: datetime
    closed_at: datetime | None


class ReferIn(Schema):
    person_id: UUID
    facility_id: UUID | None = None
    service: str | None = Field(default=None, max_length=60)
    reason: str = Field(default="", max_length=400)
    consent: bool = False


class EnrolIn(Schema):
    id_number: str = Field(max_length=40)
    id_type: str = Field(default=DocumentType.RESIDENT_ID, max_length=20)
    service: str | None = Field(default=None, max_length=60)
    reason: str = Field(default="", max_length=400)
    consent: bool = False


def _out(r: Referral) -> dict:
    return {
        "id": str(r.public_id), "person_id": str(r.person.public_id), "person_name": r.person.name,
        "facility": r.facility.name, "facility_id": str(r.facility.public_id),
        "service": r.service.code if r.service_id else None, "kind": r.kind, "reason": r.reason,
        "created_at": r.created_at, "closed_at": r.closed_at,
    }  # fmt: skip


def _service(code: str | None) -> ServiceType | None:
    if not code:
        return None
    service = ServiceType.objects.filter(code=code).first()
    if service is None:
        raise DomainError("care.referral_service", _("服务项目：没有此服务项目。"), "service")
    return service


@router.get("", response=list[ReferralOut])
def referral_list(request, closed: bool = False):
    """Open referrals (with `closed=true`, also the ended ones), newest first, up to 500."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    qs = referrals.referrals_for(actor).select_related("person", "facility", "service")
    if not closed:
        qs = qs.filter(closed_at__isnull=True)
    return [_out(r) for r in qs[:500]]


@router.post("", response={200: ReferralOut, 201: ReferralOut})
def referral_create(request, body: ReferIn):
    """转介: refer a person in scope to a facility serving their place, with their agreement."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    if actor.facility is not None:
        raise Http404
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, body.person_id)
    facility = Facility.objects.filter(public_id=body.facility_id).first() if body.facility_id else None
    referral, created = referrals.refer(
        actor=actor, person=person, facility=facility, service=_service(body.service), reason=body.reason,
        consent=body.consent,
    )  # fmt: skip
    return (201 if created else 200), _out(referral)


@router.post("/enrolments", response={200: ReferralOut, 201: ReferralOut})
def referral_enrol(request, body: EnrolIn):
    """本机构登记 (clinic staff): the person is found by their ID number among the residents the facility serves."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    if actor.facility is None:
        raise Http404
    referral, created = referrals.enrol(
        actor=actor, id_number=body.id_number, id_type=body.id_type, service=_service(body.service),
        reason=body.reason, consent=body.consent,
    )  # fmt: skip
    return (201 if created else 200), _out(referral)


@router.post("/{uuid:referral_id}/close", response=ReferralOut)
def referral_close(request, referral_id: UUID):
    """End a referral: officers in scope, or the facility's staff."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    referral = (
        referrals.referrals_for(actor)
        .select_related("person", "facility", "service")
        .filter(public_id=referral_id)
        .first()
    )
    if referral is None:
        raise Http404
    return _out(referrals.close(actor=actor, referral=referral))
