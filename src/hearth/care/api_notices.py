"""API for notices (通知单), mounted at /api/v1/care/notices: who needs one, one person's PDF, an SMS text, and
a combined PDF of up to 1,000 made in the background (follow it at /api/v1/documents/batches/{id}).

Same rules as the pages: the list is open to whoever sees the service's worklist; issuing (a PDF, an SMS, a batch)
needs care.record and the service's worklist; a person outside the actor's scope, or with no notice due, is a 404
for the PDF and a 422 naming the reason for the SMS. Marking notices sent or delivered is the documents API's.
"""

from datetime import date
from uuid import UUID

from django.http import Http404, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.api import Paging
from hearth.core.errors import DomainError
from hearth.documents.api import BatchOut, DocumentOut, batch_out, document_out
from hearth.registry.models import Person

from . import notices, worklists
from .api import _place, _worklist_service
from .models import ServiceType

router = Router(tags=["care"])


class NoticeDocOut(Schema):
    id: str
    status: str
    at: str


class NoticeCandidateOut(Schema):
    person_id: str
    name: str
    address: str
    due_on: date | None
    window_end: date | None
    status: str
    status_display: str
    has_phone: bool
    printed: NoticeDocOut | None
    sms: NoticeDocOut | None


class NoticeCandidatesOut(Schema):
    service: str
    as_of: date
    items: list[NoticeCandidateOut]
    count: int


class NoticeBatchIn(Schema):
    place: str = Field("", max_length=40)
    limit: int = Field(notices.LIMIT, ge=1, le=notices.LIMIT)
    include_notified: bool = False


def _issuing(actor, code: str) -> ServiceType:
    actor.require(Perm.CARE_RECORD)
    service = _worklist_service(actor, code)
    if not notices.can_issue(actor, service):
        raise Http404
    return service


def _doc(doc) -> dict | None:
    if doc is None:
        return None
    at = doc.delivered_at or doc.sent_at or doc.created_at
    return {"id": str(doc.public_id), "status": doc.status, "at": at.isoformat()}


@router.get("/{code}", response=NoticeCandidatesOut)
def notice_candidates(request, code: str, paging: Query[Paging], place: str = ""):
    """The persons of the service's worklist in the actor's scope (optionally a place's subtree) who need a
    notice — not yet offered, or due — with this cycle's printed notice and SMS, if any."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    service = _worklist_service(actor, code)
    today = time.today()
    where = _place(actor, place)
    qs = notices.candidates(actor, service, as_of=today, place=where)
    rows = list(qs[paging.offset : paging.offset + paging.limit])
    items = [
        {
            "person_id": str(c.due.person.public_id), "name": c.due.person.name,
            "address": str(c.due.dwelling) if c.due.dwelling_id and c.due.dwelling else "",
            "due_on": c.due.due_on, "window_end": c.due.window_end, "status": c.status,
            "status_display": str(worklists.STATUSES[c.status]),
            "has_phone": bool((c.due.person.phone or "").strip()), "printed": _doc(c.printed), "sms": _doc(c.sms),
        }
        for c in notices.with_documents(service, rows, as_of=today)
    ]  # fmt: skip
    audit.record(
        actor=actor, action="care.notices_view", target=service, row_count=len(items),
        data={"api": True, "place": str(where.public_id) if where else ""},
    )  # fmt: skip
    return {"service": service.code, "as_of": today, "items": items, "count": qs.count()}


@router.get("/{code}/persons/{uuid:person_id}/pdf")
def notice_pdf_get(request, code: str, person_id: UUID):
    """One person's notice, an A5 PDF (application/pdf), recorded as issued on paper."""
    actor = request.actor
    service = _issuing(actor, code)
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    try:
        notice = notices.notice_pdf(actor, service, person)
    except DomainError as exc:
        if exc.code == "care.notice_not_due":
            raise Http404 from None
        raise
    response = HttpResponse(notice.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{notice.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@router.post("/{code}/persons/{uuid:person_id}/sms", response={200: DocumentOut, 201: DocumentOut})
def notice_sms_create(request, code: str, person_id: UUID):
    """The SMS text (at most 70 characters) for one person, recorded as issued: 201, or 200 with the open one.
    Nothing is sent: send it from the unit's SMS platform, then POST /documents/{id}/sent."""
    actor = request.actor
    service = _issuing(actor, code)
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    doc, created = notices.notice_sms(actor, service, person)
    return (201 if created else 200), document_out(doc)


@router.post("/{code}/batches", response={200: BatchOut, 202: BatchOut})
def notice_batch_create(request, code: str, body: NoticeBatchIn):
    """Start one PDF of the notices (at most `limit`, 1,000) in the background: 202 with the batch; 200 with the
    one already waiting or running for the same request. Persons given this cycle's printed notice are left out
    unless `include_notified`. 422 when nobody needs one."""
    actor = request.actor
    service = _issuing(actor, code)
    where = _place(actor, body.place)
    batch, started = notices.notices_batch_start(
        actor, service, place=where, limit=body.limit, include_notified=body.include_notified
    )
    return (202 if started else 200), batch_out(batch)
