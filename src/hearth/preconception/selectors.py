"""Reads of the pre-pregnancy check (孕前优生): who works with it, the enrolments an actor sees, and an enrolment
as the actor may see it.

Who works with it follows the service catalogue (ADR 0007, policy as data): the roles the catalogue's
`prepregnancy_check` names, plus the supervisors, see the enrolments in their scope (clinic staff: their
station's); the roles it names that record care services enrol couples, deliver assessments and note
follow-ups. Results (items, risk, advice, clinical follow-up notes, outcomes) are read only with the clinical
permission, and each such read is audited (`preconception.results_view`); everyone else learns that a partner
was examined and whether follow-up is needed (已检查 / 需随访), never a value.
"""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.care import services as care_services
from hearth.care.models import ServiceType

from .items import BY_CODE, items_for
from .models import Delivery, Enrolment, Examination, FollowUp, Partner, PregnancyOutcome

SERVICE_CODE = "prepregnancy_check"


def _service() -> ServiceType | None:
    return ServiceType.objects.filter(code=SERVICE_CODE, active=True).first()


def sees_programme(actor) -> bool:
    """Whether the actor works with the pre-pregnancy check at all (its enrolments are listed to them)."""
    if actor is None or not actor.can(Perm.CARE_VIEW):
        return False
    return care_services.services_for(actor).filter(code=SERVICE_CODE).exists()


def can_enrol(actor) -> bool:
    """Enrol couples, deliver assessments, note follow-ups, record a withdrawal: the roles delivering the service."""
    service = _service()
    return bool(
        service is not None and actor.sees_personal_data and care_services.can_deliver(actor, service)
    )


def can_examine(actor) -> bool:
    """Enter results: clinic staff of a station (the clinical permission, at a facility)."""
    return (
        actor.facility is not None
        and actor.can(Perm.CARE_CLINICAL)
        and actor.can(Perm.CARE_RECORD)
        and actor.sees_personal_data
    )


def shows_results(actor) -> bool:
    return actor.can(Perm.CARE_CLINICAL)


def enrolments_for(actor) -> QuerySet[Enrolment]:
    """The enrolments the actor sees: in their scope (by the woman's place), or their station's."""
    if not sees_programme(actor):
        return Enrolment.objects.none()
    return Enrolment.objects.visible_to(actor)


def get_enrolment_or_404(actor, public_id) -> Enrolment:
    """An enrolment the actor sees, by its public id; missing, malformed and out of scope are the same 404."""
    try:
        return enrolments_for(actor).select_related("woman", "man", "facility").get(public_id=public_id)
    except (Enrolment.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def viewer_or_404(actor):
    """The actor, if the programme's pages are theirs at all; else 404 (as for a route that does not exist)."""
    if not sees_programme(actor):
        raise Http404
    return actor


def acting_on_enrolment_or_404(actor, public_id, *, clinic_only: bool = False) -> Enrolment:
    """An enrolment the actor may act on: clinic staff (results) or, unless `clinic_only`, the enrolling roles."""
    viewer_or_404(actor)
    allowed = can_examine(actor) if clinic_only else (can_enrol(actor) or can_examine(actor))
    if not allowed:
        raise Http404
    return get_enrolment_or_404(actor, public_id)


def enrolment_list(actor, *, status: str = "") -> QuerySet[Enrolment]:
    qs = enrolments_for(actor).select_related("woman", "man", "facility")
    if status:
        qs = qs.filter(status=status)
    return qs


def _summary(exam: Examination) -> str:
    return _("需随访") if exam.needs_follow_up else _("已检查")


def result_rows(exam: Examination) -> list[dict]:
    """The items that apply to the partner, in the standard order, with what was entered (clinical)."""
    rows = []
    for item in items_for(exam.who):
        entry = exam.items.get(item.code)
        rows.append(
            {
                "code": item.code,
                "label": str(item.label),
                "done": entry is not None,
                "value": (entry or {}).get("value", ""),
                "abnormal": bool((entry or {}).get("abnormal", False)),
            }
        )
    return rows


def enrolment_view(actor, enrolment: Enrolment, *, audit_results: bool = True) -> dict:
    """An enrolment as the actor may see it. With the clinical permission, the results are included and the
    read is audited; without it, each partner's examination is only 已检查 / 需随访."""
    clinical = shows_results(actor)
    exams = list(Examination.objects.visible_to(actor).filter(enrolment=enrolment).order_by("-who"))
    deliveries = {
        d.examination_id: d for d in Delivery.objects.visible_to(actor).filter(examination__in=exams)
    }
    follow_ups = list(
        FollowUp.objects.visible_to(actor).filter(examination__in=exams).select_related("examination")
    )
    outcomes = (
        list(PregnancyOutcome.objects.visible_to(actor).filter(enrolment=enrolment)) if clinical else None
    )
    examinations = []
    for exam in exams:
        delivery = deliveries.get(exam.pk)
        row = {
            "id": str(exam.public_id),
            "who": exam.who,
            "who_label": str(Partner(exam.who).label),
            "examined_on": exam.examined_on,
            "assessed": exam.assessed,
            "needs_follow_up": exam.needs_follow_up,
            "summary": _summary(exam),
            "delivery": None,
            "results": None,
        }
        if delivery is not None:
            row["delivery"] = {
                "method": delivery.method,
                "method_label": str(delivery.get_method_display()),
                "recipient": delivery.recipient,
                "delivered_on": delivery.delivered_on,
            }
        if clinical:
            row["results"] = {
                "items": result_rows(exam),
                "risk": exam.risk,
                "risk_label": str(exam.get_risk_display()) if exam.risk else "",
                "advice": exam.advice,
            }
        examinations.append(row)
    view = {
        "id": str(enrolment.public_id),
        "woman_id": str(enrolment.woman.public_id),
        "woman_name": enrolment.woman.name,
        "man_id": str(enrolment.man.public_id) if enrolment.man_id else None,
        "man_name": enrolment.man_display,
        "man_id_masked": enrolment.man_id_masked,
        "facility": enrolment.facility.name,
        "facility_id": str(enrolment.facility.public_id),
        "agreed_on": enrolment.agreed_on,
        "status": enrolment.status,
        "status_label": str(enrolment.get_status_display()),
        "woman_consent": enrolment.woman_consent,
        "woman_consent_at": enrolment.woman_consent_at,
        "man_consent": enrolment.man_consent,
        "man_consent_at": enrolment.man_consent_at,
        "outcome_consent": enrolment.outcome_consent,
        "outcome_consent_at": enrolment.outcome_consent_at,
        "created_at": enrolment.created_at,
        "withdrawn_at": enrolment.withdrawn_at,
        "results_hidden": not clinical,
        "examinations": examinations,
        "follow_ups": [
            {
                "who": f.examination.who,
                "who_label": str(Partner(f.examination.who).label),
                "occurred_on": f.occurred_on,
                # A clinic's note may say what the results were: for clinical eyes only.
                "note": f.note if clinical or not f.clinical else None,
                "note_hidden": f.clinical and not clinical,
            }
            for f in follow_ups
        ],
        "outcomes": None
        if outcomes is None
        else [
            {
                "kind": o.kind,
                "kind_label": str(o.get_kind_display()),
                "occurred_on": o.occurred_on,
                "note": o.note,
            }
            for o in outcomes
        ],
    }
    if clinical and audit_results and (exams or outcomes):
        audit_results_view(actor, enrolment)
    return view


def audit_results_view(actor, enrolment: Enrolment) -> None:
    audit.record(
        actor=actor, action="preconception.results_view", target=enrolment,
        data={"woman": str(enrolment.woman.public_id),
              "man": str(enrolment.man.public_id) if enrolment.man_id else None},
    )  # fmt: skip


def item_label(code: str) -> str:
    item = BY_CODE.get(code)
    return str(item.label) if item else code


# Clinic staff reach the couple of each enrolment made with their station, until the couple withdraws
# (registered with the scoping mechanism in PreconceptionConfig.ready()).


def reach_women(facility) -> QuerySet:
    return (
        Enrolment.objects.for_system()
        .filter(facility=facility)
        .exclude(status="withdrawn")
        .values("woman_id")
    )


def reach_men(facility) -> QuerySet:
    return (
        Enrolment.objects.for_system()
        .filter(facility=facility, man__isnull=False)
        .exclude(status="withdrawn")
        .values("man_id")
    )
