"""迁移申请: one person per ID number in the whole system, so a person registered elsewhere is moved, not
registered twice. The requester names the number and a dwelling in their scope; the officers of the place
holding the person decide. The requester learns only the decision, never the other place's record.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors
from hearth.places.models import Dwelling

from . import identity
from .models import EventKind, Person, PersonStatus, TransferRequest, TransferStatus
from .services import _dwelling_in_scope, _require, record_event


@transaction.atomic
def transfer_request(
    *, actor, id_type: str, raw_number: str, to_dwelling: Dwelling | None, note: str = ""
) -> TransferRequest:
    _require(actor, Perm.PERSON_CREATE)
    note = (note or "").strip()
    if len(note) > 300:
        raise DomainError("transfer.note_length", _("说明不能超过300个字。"), "note")
    number = identity.normalise_document(id_type, raw_number)
    DomainErrors.raise_if_any(_dwelling_in_scope(actor, to_dwelling, field="dwelling"))
    person = Person.objects.for_system().filter(id_index=identity.index_of(id_type, number)).first()
    if person is None:
        raise DomainError("transfer.unknown", _("系统中没有该证件号码，请直接登记。"), "id_number")
    if Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        raise DomainError(
            "transfer.in_scope", _("该人员已在您的管辖范围内，请在人员列表中查找。"), "id_number"
        )
    if (
        TransferRequest.objects.for_system()
        .filter(person=person, requested_by=actor.grant, status=TransferStatus.PENDING)
        .exists()
    ):
        raise DomainError("transfer.pending", _("您已提交过该人员的迁移申请，请等待对方处理。"), "id_number")
    req = TransferRequest.objects.create(
        person=person, to_dwelling=to_dwelling, requested_by=actor.grant, note=note
    )
    # Recorded against the requester's own place: the log does not tell them where the person is.
    audit.record(
        actor=actor,
        action="transfer.request",
        object_type="registry.transferrequest",
        object_id=str(req.public_id),
        place_path=to_dwelling.place.path,
    )
    return req


def requests_to_decide(actor) -> QuerySet[TransferRequest]:
    if not actor.can(Perm.PERSON_CHANGE):
        return TransferRequest.objects.none()
    return TransferRequest.objects.visible_to(actor).select_related(
        "person__dwelling", "to_dwelling", "requested_by__user", "requested_by__place"
    )


def requests_made(actor) -> QuerySet[TransferRequest]:
    if actor.grant is None:
        return TransferRequest.objects.none()
    # The requester's own requests, wherever the person is: the pages show the request, never the person.
    return (
        TransferRequest.objects.for_system()
        .filter(requested_by__user=actor.user)
        .select_related("to_dwelling")
    )


@transaction.atomic
def transfer_decide(*, actor, request: TransferRequest, approve: bool, reason: str = "") -> TransferRequest:
    """Approve (the person moves to the requested dwelling, through a life event) or decline with a reason."""
    _require(actor, Perm.PERSON_CHANGE)
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise DomainError("transfer.reason_length", _("处理意见不能超过300个字。"), "reason")
    if not approve and len(reason) < 2:
        raise DomainError("transfer.reason_required", _("不同意时请填写原因。"), "reason")
    # A conditional update: of two officers deciding at once, the second is told it is already decided.
    claimed = (
        TransferRequest.objects.for_system()
        .filter(pk=request.pk, status=TransferStatus.PENDING)
        .update(
            status=TransferStatus.APPROVED if approve else TransferStatus.DECLINED,
            decided_by=actor.grant,
            decided_at=time.now(),
            decision_reason=reason,
            updated_at=time.now(),
        )
    )
    if not claimed:
        raise DomainError("transfer.decided", _("该申请已被处理。"), "status")
    request.refresh_from_db()
    if approve:
        person = (
            Person.objects.for_system()
            .select_for_update()
            .select_related("dwelling__place")
            .get(pk=request.person_id)
        )
        # The requester's grant must still reach the dwelling (checked again: grants change).
        requester_path = request.requested_by.scope_place.path
        if not request.to_dwelling.place.path.startswith(requester_path):
            raise DomainError("transfer.scope_changed", _("申请方已无权管理该房屋，无法迁移。"), "status")
        record_event(
            actor=actor,
            person=person,
            kind=EventKind.MOVE_IN if person.status != PersonStatus.ACTIVE else EventKind.DWELLING_CHANGE,
            occurred_on=time.today(),
            version=None,
            reporter=_("迁移申请"),
            details={"dwelling": request.to_dwelling},
            dwelling_checked=True,
        )
    audit.record(
        actor=actor,
        action="transfer.approve" if approve else "transfer.decline",
        target=request.person,
        data={"request": str(request.public_id)},
    )
    return request
