"""API of documents (文书): /api/v1/documents/… — issued documents, their status, and batch PDFs.

Scoped like the pages: a document is seen where its person's place is in the actor's subtree (clinic staff:
persons their facility reaches) and the issuing app's policy lets the actor see its topic; anything else is a 404.
Marking sent, delivered or not reached needs the kind's change permission (notices: care.record); a repeat
answers 200 with the document unchanged.
"""

from datetime import datetime
from uuid import UUID

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core.api import Paging
from hearth.core.errors import DomainError
from hearth.registry.models import Person

from . import services
from .models import VIEW_PERMISSION, Channel, DocumentBatch, DocumentKind, DocumentStatus, IssuedDocument

router = Router(tags=["documents"])


class DocumentOut(Schema):
    id: str
    kind: str
    person_id: str
    person_name: str
    title: str
    topic: str
    channel: str
    body_text: str
    related_type: str
    related_id: str
    status: str
    status_display: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    status_note: str
    sha256: str
    batch_id: str | None


class DocumentPage(Schema):
    items: list[DocumentOut]
    count: int


class MarkIn(Schema):
    note: str = Field("", max_length=200)


class BatchOut(Schema):
    id: str
    kind: str
    title: str
    topic: str
    status: str
    status_display: str
    stage: str
    progress_done: int
    progress_total: int
    percent: int
    count: int
    size: int
    sha256: str
    seconds: float | None
    message: str
    created_at: datetime
    finished_at: datetime | None
    pdf_url: str | None


def document_out(doc: IssuedDocument) -> dict:
    return {
        "id": str(doc.public_id), "kind": doc.kind, "person_id": str(doc.person.public_id),
        "person_name": doc.person.name, "title": doc.title, "topic": doc.topic, "channel": doc.channel,
        "body_text": doc.body_text, "related_type": doc.related_type, "related_id": doc.related_id,
        "status": doc.status, "status_display": str(doc.get_status_display()), "created_at": doc.created_at,
        "sent_at": doc.sent_at, "delivered_at": doc.delivered_at, "failed_at": doc.failed_at,
        "status_note": doc.status_note, "sha256": doc.sha256,
        "batch_id": str(doc.batch.public_id) if doc.batch_id else None,
    }  # fmt: skip


def batch_out(batch: DocumentBatch) -> dict:
    done = batch.status == "done"
    return {
        "id": str(batch.public_id), "kind": batch.kind, "title": batch.title, "topic": batch.topic,
        "status": batch.status, "status_display": str(batch.get_status_display()), "stage": batch.stage,
        "progress_done": batch.progress_done, "progress_total": batch.progress_total, "percent": batch.percent,
        "count": batch.count, "size": batch.size, "sha256": batch.sha256, "seconds": batch.seconds,
        "message": batch.message, "created_at": batch.created_at, "finished_at": batch.finished_at,
        "pdf_url": reverse("api:document_batch_pdf", kwargs={"batch_id": batch.public_id}) if done else None,
    }  # fmt: skip


def _require_view(actor) -> None:
    """Those who read no kind of document at all get a 404, as for any page they may not open."""
    if not any(actor.can(p) for p in VIEW_PERMISSION.values()):
        raise Http404


def _choice(raw: str, choices, field: str, label: str) -> str:
    raw = (raw or "").strip()
    if raw and raw not in choices.values:
        options = "、".join(f"{v}（{lbl}）" for v, lbl in choices.choices)
        raise DomainError(
            f"documents.{field}", _("%(f)s：应为%(o)s之一。") % {"f": label, "o": options}, field
        )
    return raw


@router.get("", response=DocumentPage)
def document_list(
    request,
    paging: Query[Paging],
    person: str = "",
    kind: str = "",
    topic: str = "",
    channel: str = "",
    status: str = "",
):
    """Documents issued to persons in the actor's scope, newest first; filter by person (its id), kind, topic
    (e.g. a service's code), channel (print, sms) and status (issued, sent, delivered, failed)."""
    actor = request.actor
    _require_view(actor)
    qs = IssuedDocument.objects.visible_to(actor).select_related("person", "batch")
    if person.strip():
        found = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person.strip())
        qs = qs.filter(person=found)
    if kind := _choice(kind, DocumentKind, "kind", _("类型")):
        qs = qs.filter(kind=kind)
    if channel := _choice(channel, Channel, "channel", _("方式")):
        qs = qs.filter(channel=channel)
    if status := _choice(status, DocumentStatus, "status", _("状态")):
        qs = qs.filter(status=status)
    if topic.strip():
        qs = qs.filter(topic=topic.strip()[:60])
    page = list(qs[paging.offset : paging.offset + paging.limit])
    audit.record(
        actor=actor, action="documents.list_view", row_count=len(page), object_type="documents.issueddocument",
        data={"api": True, "person": person[:40], "topic": topic[:60]},
    )  # fmt: skip
    return {"items": [document_out(d) for d in page], "count": qs.count()}


def _document(request, document_id: UUID) -> IssuedDocument:
    return get_visible_or_404(
        IssuedDocument.objects.select_related("person", "batch"), request.actor, document_id
    )


@router.get("/{uuid:document_id}", response=DocumentOut)
def document_get(request, document_id: UUID):
    doc = _document(request, document_id)
    audit.record(actor=request.actor, action="documents.view", target=doc, data={"api": True})
    return document_out(doc)


def _mark(request, document_id: UUID, status: str, body: MarkIn) -> dict:
    doc = _document(request, document_id)
    if not services.can_change(request.actor, doc.kind):
        raise Http404
    doc, _changed = services.mark(actor=request.actor, document=doc, status=status, note=body.note)
    return document_out(doc)


@router.post("/{uuid:document_id}/sent", response=DocumentOut)
def document_mark_sent(request, document_id: UUID, body: MarkIn):
    """已发出 (the SMS sent from the unit's SMS platform or a phone; the notice given to whoever delivers it)."""
    return _mark(request, document_id, DocumentStatus.SENT, body)


@router.post("/{uuid:document_id}/delivered", response=DocumentOut)
def document_mark_delivered(request, document_id: UUID, body: MarkIn):
    """已送达 (the person has it)."""
    return _mark(request, document_id, DocumentStatus.DELIVERED, body)


@router.post("/{uuid:document_id}/failed", response=DocumentOut)
def document_mark_failed(request, document_id: UUID, body: MarkIn):
    """未送达 (not reached); it may be sent again. A delivered document cannot be marked so (422)."""
    return _mark(request, document_id, DocumentStatus.FAILED, body)


def _batch(request, batch_id: UUID) -> DocumentBatch:
    return get_visible_or_404(DocumentBatch.objects.all(), request.actor, batch_id)


@router.get("/batches/{uuid:batch_id}", response=BatchOut)
def document_batch_get(request, batch_id: UUID):
    """A batch's status and progress (poll it while `status` is queued or running)."""
    return batch_out(_batch(request, batch_id))


@router.get("/batches/{uuid:batch_id}/pdf")
def document_batch_pdf(request, batch_id: UUID):
    """The batch's PDF (application/pdf), for those who may issue its kind; 404 until it is done."""
    batch = _batch(request, batch_id)
    if not services.can_change(request.actor, batch.kind):
        raise Http404
    try:
        data = services.batch_read(actor=request.actor, batch=batch)
    except DomainError:
        raise Http404 from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{batch.kind}-{batch.public_id}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
