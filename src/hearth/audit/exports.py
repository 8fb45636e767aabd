"""Export control: every export is audited with its row count and file hash; large ones need approval.

The app that owns the data builds the rows; this module decides whether the export may happen now.
"""

import hashlib
import io

import xlsxwriter
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from hearth.core import time
from hearth.core.errors import DomainError
from hearth.core.settings_store import get_setting
from hearth.places.tree import upper_bound

from . import services as audit
from .models import ExportRequest

# kind -> URL name of the page that builds an approved export of that kind (registered by the owning app, so
# the export list links each request to its download without knowing the apps above it).
_DOWNLOADS: dict[str, str] = {}


def register_download(kind: str, url_name: str) -> None:
    _DOWNLOADS[kind] = url_name


def download_url(req: ExportRequest) -> str:
    name = _DOWNLOADS.get(req.kind)
    return reverse(name, args=[req.public_id]) if name and req.status == ExportRequest.Status.APPROVED else ""


def approved_request(actor, public_id, kind: str) -> ExportRequest | None:
    """The actor's own approved request of this kind (downloaded once, by the grant that asked), or None."""
    return ExportRequest.objects.filter(
        public_id=public_id, kind=kind, requested_by=actor.grant, status=ExportRequest.Status.APPROVED
    ).first()


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def approval_threshold() -> int:
    return int(get_setting("export.approval_threshold"))


def workbook_bytes(header: list[str], rows: list[list]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, header, bold)
    text = book.add_format({"num_format": "@"})
    for i, row in enumerate(rows, start=1):
        # Strings stay text, so an ID number is never turned into 4.10103E+17 by the spreadsheet.
        sheet.write_row(i, 0, ["" if v is None else str(v) for v in row], text)
    book.close()
    return buf.getvalue()


@transaction.atomic
def export_request(*, actor, kind: str, params: dict, row_count: int, reason: str) -> ExportRequest:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("export.reason_required", _("请填写导出用途。"), "reason")
    req = ExportRequest.objects.create(
        kind=kind,
        params=params,
        row_count=row_count,
        reason=reason[:300],
        requested_by=actor.grant,
        place_path=actor.scope_path or "",
        status=ExportRequest.Status.PENDING
        if row_count > approval_threshold()
        else ExportRequest.Status.APPROVED,
    )
    audit.record(
        actor=actor, action="export.request", target=req, row_count=row_count, reason=reason, data=params
    )
    return req


def approvable_by(actor):
    """Requests this actor may decide: from places strictly below the actor's place, by other users."""
    from hearth.accounts.roles import Perm

    if not actor.can(Perm.EXPORT_APPROVE) or not actor.scope_path:
        return ExportRequest.objects.none()
    path = actor.scope_path
    return (
        ExportRequest.objects.filter(place_path__gt=path, place_path__lt=upper_bound(path))
        .exclude(requested_by__user=actor.user)
        .select_related("requested_by__user")
    )


@transaction.atomic
def export_decide(*, actor, request: ExportRequest, approve: bool, reason: str = "") -> ExportRequest:
    req = ExportRequest.objects.select_for_update().get(pk=request.pk)
    if req.status != ExportRequest.Status.PENDING:
        raise DomainError("export.already_decided", _("该导出申请已审批。"), "status")
    req.status = ExportRequest.Status.APPROVED if approve else ExportRequest.Status.REJECTED
    req.decided_by, req.decided_at = actor.grant, time.now()
    req.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        actor=actor,
        action="export.approve" if approve else "export.reject",
        target=req,
        reason=reason,
        row_count=req.row_count,
    )
    return req


@transaction.atomic
def export_deliver(*, actor, request: ExportRequest, content: bytes, row_count: int) -> ExportRequest:
    """Record the file actually handed out: its hash and row count, in the same transaction as the status."""
    req = ExportRequest.objects.select_for_update().get(pk=request.pk)
    if req.status != ExportRequest.Status.APPROVED:
        raise DomainError("export.not_approved", _("该导出尚未获批准或已下载。"), "status")
    if row_count > req.row_count and row_count > approval_threshold():
        raise DomainError("export.grown", _("数据量已超过申请时的行数，请重新申请。"), "row_count")
    req.file_hash = hashlib.sha256(content).hexdigest()
    req.status = ExportRequest.Status.DOWNLOADED
    req.save(update_fields=["file_hash", "status"])
    audit.record(
        actor=actor,
        action="export.download",
        target=req,
        row_count=row_count,
        data={"sha256": req.file_hash, **req.params},
    )
    return req
