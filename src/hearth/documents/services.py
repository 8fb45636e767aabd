"""Issuing documents (文书) and recording that they reached the person; batches of many in one PDF.

Every write is audited in its transaction. Issuing is idempotent while a document is open: issuing the same
kind, channel and subject (`related_type`, `related_id`) to a person again, before it was sent or delivered,
returns the open document (a printed one gets the new PDF's hash) instead of a second row. Marking is
idempotent too: marking a sent document sent again changes nothing and writes no audit row.

Status: issued → sent → delivered, or → failed (not reached; may be sent again). A delivered document stays
delivered. Printed notices are usually handed over: issued → delivered directly (the sent time is set too).
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.registry.models import Person

from .models import (
    CHANGE_PERMISSION,
    BatchStatus,
    Channel,
    DocumentBatch,
    DocumentKind,
    DocumentStatus,
    IssuedDocument,
)

OPEN = (DocumentStatus.ISSUED,)
NOTE_MAX = 200
BODY_MAX = 500


def _deny() -> DomainError:
    return DomainError("permission.denied", _("您没有此操作的权限。"))


def can_change(actor, kind: str) -> bool:
    perm = CHANGE_PERMISSION.get(kind)
    return perm is not None and actor.can(perm) and actor.sees_personal_data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Item:
    """One document to issue in bulk: to whom, about what."""

    person: Person
    title: str
    related_id: str
    body_text: str = ""


def _check(kind: str, channel: str, body_text: str) -> None:
    if kind not in DocumentKind.values:
        raise DomainError("documents.kind", _("类型：不是已知的文书类型。"), "kind")
    if channel not in Channel.values:
        raise DomainError("documents.channel", _("方式：应为纸质或短信。"), "channel")
    if channel == Channel.SMS and not body_text.strip():
        raise DomainError("documents.sms_text", _("内容：短信内容不能为空。"), "body_text")
    if len(body_text) > BODY_MAX:
        raise DomainError("documents.body_text", _("内容：不能超过500个字。"), "body_text")


def _open_for(kind: str, channel: str, related_type: str, persons: list[int], related_ids: list[str]):
    return IssuedDocument.objects.for_system().filter(
        kind=kind, channel=channel, related_type=related_type, person_id__in=persons,
        related_id__in=related_ids, status__in=OPEN,
    )  # fmt: skip


@transaction.atomic
def issue(
    *,
    actor,
    kind: str,
    person: Person,
    title: str,
    channel: str,
    topic: str = "",
    body_text: str = "",
    related_type: str = "",
    related_id: str = "",
    pdf: bytes | None = None,
) -> tuple[IssuedDocument, bool]:
    """Issue one document to a person (生成文书); returns (document, created). An open one is reused."""
    if not can_change(actor, kind):
        raise _deny()
    if not Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        raise _deny()
    _check(kind, channel, body_text)
    digest = sha256(pdf) if pdf is not None else ""
    found = (
        _open_for(kind, channel, related_type, [person.pk], [related_id])
        .select_for_update()
        .order_by("-id")
        .first()
    )
    if found is not None:
        if digest and found.sha256 != digest:
            found.sha256 = digest
            found.save(update_fields=["sha256"])
        return found, False
    doc = IssuedDocument.objects.create(
        kind=kind, person=person, place_path=person.place_path, title=title[:200], topic=topic, channel=channel,
        body_text=body_text, related_type=related_type, related_id=related_id, issued_by=actor.grant,
        sha256=digest,
    )  # fmt: skip
    audit.record(
        actor=actor, action="documents.issue", target=doc,
        data={"kind": kind, "channel": channel, "topic": topic, "person": str(person.public_id),
              "related": f"{related_type}:{related_id}", "sha256": digest},
    )  # fmt: skip
    return doc, True


@transaction.atomic
def issue_many(
    *,
    actor,
    kind: str,
    channel: str,
    topic: str,
    related_type: str,
    items: list[Item],
    batch: DocumentBatch | None = None,
    pdf_sha256: str = "",
) -> tuple[int, int]:
    """Issue one document to each of many persons in bulk (a batch's notices); returns (created, reused).

    Called inside the transaction that stores the batch's PDF. One audit row for the lot (the documents are the
    per-person record).
    """
    if not can_change(actor, kind):
        raise _deny()
    for item in items:
        _check(kind, channel, item.body_text)
    ids = [i.person.pk for i in items]
    visible = set(Person.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    if len(visible) != len(set(ids)):
        raise _deny()
    found: dict[tuple[int, str], IssuedDocument] = {}
    for doc in _open_for(kind, channel, related_type, ids, sorted({i.related_id for i in items})).order_by(
        "id"
    ):
        found[(doc.person_id, doc.related_id)] = doc
    now = time.now()
    new, reused = [], []
    for item in items:
        doc = found.get((item.person.pk, item.related_id))
        if doc is not None:
            doc.sha256, doc.batch, doc.updated_at = pdf_sha256, batch, now
            reused.append(doc)
            continue
        new.append(
            IssuedDocument(
                kind=kind, person=item.person, place_path=item.person.place_path, title=item.title[:200],
                topic=topic, channel=channel, body_text=item.body_text, related_type=related_type,
                related_id=item.related_id, issued_by=actor.grant, sha256=pdf_sha256, batch=batch,
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
    IssuedDocument.objects.bulk_create(new, batch_size=500)
    IssuedDocument.objects.bulk_update(reused, ["sha256", "batch", "updated_at"], batch_size=500)
    audit.record(
        actor=actor, action="documents.issue_many", target=batch, row_count=len(items),
        object_type="" if batch else "documents.issueddocument",
        data={"kind": kind, "channel": channel, "topic": topic, "created": len(new), "reused": len(reused),
              "sha256": pdf_sha256},
    )  # fmt: skip
    return len(new), len(reused)


# --------------------------------------------------------------------------------------------- status


def _locked(actor, document: IssuedDocument) -> IssuedDocument:
    if not can_change(actor, document.kind):
        raise _deny()
    found = IssuedDocument.objects.visible_to(actor).select_for_update().filter(pk=document.pk).first()
    if found is None:
        raise _deny()
    return found


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError("documents.note", _("说明：不能超过200个字。"), "note")
    return note


def _apply(actor, doc: IssuedDocument, status: str, fields: list[str], note: str) -> IssuedDocument:
    previous = doc.status
    doc.status = status
    if note:
        doc.status_note = note
    doc.save(update_fields=["status", "status_note", *fields])
    audit.record(
        actor=actor, action=f"documents.{status}", target=doc,
        data={"from": previous, "to": status, "channel": doc.channel, "note": note},
    )  # fmt: skip
    return doc


@transaction.atomic
def mark_sent(*, actor, document: IssuedDocument, note: str = "") -> tuple[IssuedDocument, bool]:
    """已发出: the SMS was sent or the notice handed to whoever delivers it. Repeat: no change."""
    doc = _locked(actor, document)
    note = _clean_note(note)
    if doc.status in (DocumentStatus.SENT, DocumentStatus.DELIVERED):
        return doc, False
    doc.sent_at = time.now()
    return _apply(actor, doc, DocumentStatus.SENT, ["sent_at"], note), True


@transaction.atomic
def mark_delivered(*, actor, document: IssuedDocument, note: str = "") -> tuple[IssuedDocument, bool]:
    """已送达: the person has it (signed for, handed over, or confirmed by phone). Repeat: no change."""
    doc = _locked(actor, document)
    note = _clean_note(note)
    if doc.status == DocumentStatus.DELIVERED:
        return doc, False
    now = time.now()
    doc.delivered_at = now
    doc.sent_at = doc.sent_at or now
    return _apply(actor, doc, DocumentStatus.DELIVERED, ["sent_at", "delivered_at"], note), True


@transaction.atomic
def mark_failed(*, actor, document: IssuedDocument, note: str = "") -> tuple[IssuedDocument, bool]:
    """未送达: not reached (a wrong number, moved away); it may be sent again. A delivered one cannot fail."""
    doc = _locked(actor, document)
    note = _clean_note(note)
    if doc.status == DocumentStatus.FAILED:
        return doc, False
    if doc.status == DocumentStatus.DELIVERED:
        raise DomainError("documents.delivered", _("状态：该文书已登记送达，不能再登记为未送达。"), "status")
    doc.failed_at = time.now()
    return _apply(actor, doc, DocumentStatus.FAILED, ["failed_at"], note), True


MARKERS: dict[str, Callable] = {
    DocumentStatus.SENT: mark_sent,
    DocumentStatus.DELIVERED: mark_delivered,
    DocumentStatus.FAILED: mark_failed,
}


def mark(*, actor, document: IssuedDocument, status: str, note: str = "") -> tuple[IssuedDocument, bool]:
    if status not in MARKERS:
        raise DomainError("documents.status", _("状态：应为已发出、已送达或未送达。"), "status")
    return MARKERS[status](actor=actor, document=document, note=note)


# --------------------------------------------------------------------------------------------- batches


@transaction.atomic
def batch_start(
    *,
    actor,
    kind: str,
    title: str,
    topic: str,
    place_path: str,
    params: dict,
    total: int,
    task,
) -> tuple[DocumentBatch, bool]:
    """Start a batch (批量生成): a row the page follows, and `task` enqueued after commit with the batch's id.
    The same request while an identical batch is waiting or running returns that one (a double click)."""
    if not can_change(actor, kind):
        raise _deny()
    running = (
        DocumentBatch.objects.for_system()
        .filter(kind=kind, topic=topic, place_path=place_path, params=params, requested_by=actor.grant)
        .filter(Q(status=BatchStatus.QUEUED) | Q(status=BatchStatus.RUNNING))
        .first()
    )
    if running is not None:
        return running, False
    batch = DocumentBatch.objects.create(
        kind=kind, title=title[:200], topic=topic, place_path=place_path, facility=actor.facility,
        requested_by=actor.grant, params=params, progress_total=total,
    )  # fmt: skip
    audit.record(
        actor=actor, action="documents.batch_start", target=batch, row_count=total,
        data={"kind": kind, "topic": topic, "params": params},
    )  # fmt: skip
    batch_id = batch.pk
    transaction.on_commit(lambda: task.enqueue(batch_id=batch_id))
    return batch, True


def batch_claim(batch_id: int) -> DocumentBatch | None:
    """The task's start: the batch if it is waiting (now running), else None (already done: run twice)."""
    with transaction.atomic():
        batch = DocumentBatch.objects.for_system().select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status != BatchStatus.QUEUED:
            return None
        batch.status = BatchStatus.RUNNING
        batch.save(update_fields=["status"])
    return batch


def batch_progress(batch: DocumentBatch, *, stage: str, done: int, total: int | None = None) -> None:
    values = {"stage": stage, "progress_done": done, "updated_at": time.now()}
    if total is not None:
        values["progress_total"] = total
    DocumentBatch.objects.for_system().filter(pk=batch.pk).update(**values)


def batch_finish(*, actor, batch: DocumentBatch, pdf: bytes, count: int, seconds: float) -> DocumentBatch:
    """Store the batch's PDF (call inside the transaction that issues its documents)."""
    batch.sha256 = sha256(pdf)
    batch.size = len(pdf)
    batch.count = count
    batch.seconds = round(seconds, 2)
    batch.status = BatchStatus.DONE
    batch.stage = ""
    batch.progress_done = batch.progress_total = count
    batch.finished_at = time.now()
    batch.file.save(f"{batch.public_id}.pdf", ContentFile(pdf), save=False)
    batch.save()
    audit.record(
        actor=actor, action="documents.batch_done", target=batch, row_count=count,
        data={"sha256": batch.sha256, "size": batch.size, "seconds": batch.seconds},
    )  # fmt: skip
    return batch


def batch_fail(batch: DocumentBatch, message: str) -> None:
    DocumentBatch.objects.for_system().filter(pk=batch.pk).update(
        status=BatchStatus.FAILED, message=message[:300], finished_at=time.now(), updated_at=time.now()
    )


def batch_read(*, actor, batch: DocumentBatch) -> bytes:
    """The batch's PDF, for download; reading names and addresses in bulk is audited."""
    if batch.status != BatchStatus.DONE or not batch.file:
        raise DomainError("documents.batch_not_ready", _("文件：尚未生成完成。"), "file")
    with batch.file.open("rb") as fh:
        data = fh.read()
    audit.record(actor=actor, action="documents.batch_download", target=batch, row_count=batch.count)
    return data


def latest_documents(
    *, kind: str, channel: str, related_type: str, pairs: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], IssuedDocument]:
    """The latest document per (person id, related id) among `pairs` (for lists showing 已通知)."""
    pairs = list(pairs)
    if not pairs:
        return {}
    persons = sorted({p for p, _r in pairs})
    related = sorted({r for _p, r in pairs})
    out: dict[tuple[int, str], IssuedDocument] = {}
    qs = IssuedDocument.objects.for_system().filter(
        kind=kind, channel=channel, related_type=related_type, person_id__in=persons, related_id__in=related
    )
    for doc in qs.order_by("id"):
        out[(doc.person_id, doc.related_id)] = doc
    return out
