"""Referrals and enrolments (转介与登记): how a person comes into a facility's care, and so into its staff's view.

Clinic staff see no one by place: they see the persons their facility has been referred (by an officer, with the
person's agreement), has enrolled itself (the person came in with their ID card and agreed), has invited to a check
day held there, or has served. `reach_*` are those relations, registered with the scoping mechanism
(`hearth.accounts.scoping.register_facility_reach`) in CareConfig.ready().
"""

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors
from hearth.places.models import Facility
from hearth.places.tree import ancestor_paths
from hearth.registry import identity
from hearth.registry.codes import DocumentType
from hearth.registry.models import Person, PersonStatus

from .models import Referral, ReferralKind, ServiceRecord, ServiceType

REASON_MAX = 200


def reach_referrals(facility: Facility) -> QuerySet:
    return Referral.objects.for_system().filter(facility=facility, closed_at__isnull=True).values("person_id")


def reach_records(facility: Facility) -> QuerySet:
    return ServiceRecord.objects.for_system().filter(facility=facility).values("person_id")


def serves(facility: Facility, person: Person) -> bool:
    """Whether the facility serves the person's place: one of its served places (or their parent places), or,
    for a facility with none set, the place it stands in."""
    paths = {*ancestor_paths(person.place_path), person.place_path}
    served = facility.served_places.all()
    if served.exists():
        return served.filter(path__in=paths).exists()
    return facility.place.path in paths


def facilities_for(person: Person) -> QuerySet[Facility]:
    """The facilities a person can be referred to: those serving their place."""
    paths = [*ancestor_paths(person.place_path), person.place_path]
    return (
        Facility.objects.filter(
            Q(served_places__path__in=paths) | Q(served_places__isnull=True, place__path__in=paths)
        )
        .distinct()
        .order_by("name")
    )


def _check(*, consent: bool, reason: str, service: ServiceType | None) -> str:
    errors = []
    if consent is not True:
        errors.append(
            DomainError("care.referral_consent", _("本人同意：转介或登记须经本人同意。"), "consent")
        )
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        errors.append(DomainError("care.referral_reason", _("事由：不能超过200个字。"), "reason"))
    if service is not None and not service.active:
        errors.append(DomainError("care.referral_service", _("服务项目：该服务项目已停用。"), "service"))
    DomainErrors.raise_if_any(errors)
    return reason


def _open(*, actor, person, facility, service, reason, kind) -> tuple[Referral, bool]:
    existing = (
        Referral.objects.for_system().filter(person=person, facility=facility, closed_at__isnull=True).first()
    )
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                person=person, facility=facility, service=service, kind=kind, reason=reason, consent=True,
                place_path=person.place_path, made_by=actor.grant,
            )  # fmt: skip
            audit.record(
                actor=actor, action=f"care.{kind}", target=referral,
                data={"person": str(person.public_id), "facility": facility.name,
                      "service": service.code if service else None},
            )  # fmt: skip
    except IntegrityError:  # made by someone else a moment ago
        return Referral.objects.for_system().get(
            person=person, facility=facility, closed_at__isnull=True
        ), False
    return referral, True


def refer(
    *, actor, person: Person, facility: Facility | None, service: ServiceType | None = None, reason: str = "",
    consent: bool = False,
) -> tuple[Referral, bool]:  # fmt: skip
    """An officer refers a person to a facility (转介); a repeat returns the open referral."""
    if not actor.can(Perm.CARE_RECORD) or actor.facility is not None:
        raise DomainError("permission.denied", _("您没有此操作的权限。"))
    if not Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        raise DomainError("permission.denied", _("您没有此操作的权限。"))
    errors = []
    if facility is None:
        errors.append(DomainError("care.referral_facility", _("服务机构：请选择服务机构。"), "facility"))
    elif not serves(facility, person):
        errors.append(
            DomainError("care.referral_facility", _("服务机构：该机构不服务此人所在地区。"), "facility")
        )
    if person.status != PersonStatus.ACTIVE:
        errors.append(
            DomainError("care.person_inactive", _("人员：该人员不在册（已死亡、迁出或已合并）。"), "person")
        )
    try:
        reason = _check(consent=consent, reason=reason, service=service)
    except DomainError as exc:
        errors.extend(getattr(exc, "errors", [exc]))
    DomainErrors.raise_if_any(errors)
    return _open(actor=actor, person=person, facility=facility, service=service, reason=reason,
                 kind=ReferralKind.REFERRAL)  # fmt: skip


def enrol(
    *, actor, id_number: str, id_type: str = DocumentType.RESIDENT_ID, service: ServiceType | None = None,
    reason: str = "", consent: bool = False,
) -> tuple[Referral, bool]:  # fmt: skip
    """Clinic staff enrol a person who came in (本机构登记), found by the number on their ID card among the
    residents of the places the facility serves. Nothing about anyone else is shown: an unknown number, or one
    registered elsewhere, gets the same answer."""
    facility = actor.facility
    if facility is None or not actor.can(Perm.CARE_RECORD):
        raise DomainError("permission.denied", _("您没有此操作的权限。"))
    errors = []
    number = ""
    try:
        number = identity.normalise_document(id_type, id_number or "")
    except DomainError as exc:
        errors.append(exc)
    try:
        reason = _check(consent=consent, reason=reason, service=service)
    except DomainError as exc:
        errors.extend(getattr(exc, "errors", [exc]))
    DomainErrors.raise_if_any(errors)
    person = (
        Person.objects.for_system()
        .filter(id_index=identity.index_of(id_type, number), status=PersonStatus.ACTIVE)
        .first()
    )
    if person is None or not serves(facility, person):
        raise DomainError(
            "care.enrol_not_found", _("证件号码：本机构服务地区内没有登记此人，请其到社区登记。"), "id_number"
        )
    return _open(actor=actor, person=person, facility=facility, service=service, reason=reason,
                 kind=ReferralKind.ENROLMENT)  # fmt: skip


def referrals_for(actor) -> QuerySet[Referral]:
    """Officers: the referrals of persons in their scope; clinic staff: their facility's."""
    if actor.facility is not None:
        if not actor.can(Perm.CARE_VIEW):
            return Referral.objects.none()
        return Referral.objects.for_system().filter(facility=actor.facility)
    return Referral.objects.visible_to(actor)


def close(*, actor, referral: Referral) -> Referral:
    """End a referral (结束转介): by an officer in scope or by the facility's staff. Idempotent."""
    if not actor.can(Perm.CARE_RECORD) or not referrals_for(actor).filter(pk=referral.pk).exists():
        raise DomainError("permission.denied", _("您没有此操作的权限。"))
    with transaction.atomic():
        locked = Referral.objects.for_system().select_for_update().get(pk=referral.pk)
        if locked.closed_at is None:
            locked.closed_at, locked.closed_by = time.now(), actor.grant
            locked.save(update_fields=["closed_at", "closed_by", "updated_at"])
            audit.record(actor=actor, action="care.referral_close", target=locked)
    referral.closed_at, referral.closed_by_id = locked.closed_at, locked.closed_by_id
    return referral
