"""API for imports (/imports…): upload, confirm the mapping, dry run, commit, cancel, status, problem rows.

Same permission (person.import), scoping (the job's place) and audit as the pages. Runs are background tasks:
a client polls GET /imports/{id} until `status` is no longer checking/committing.
"""

from datetime import datetime
from uuid import UUID

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core.api import Paging
from hearth.core.errors import DomainError
from hearth.places.models import Place

from . import services
from .models import ImportJob, JobStatus

router = Router(tags=["imports"])


class JobOut(Schema):
    id: str
    filename: str
    source: str
    place_id: str
    place: str
    status: str
    status_display: str
    stage: str
    progress_done: int
    progress_total: int
    header: list[str]
    header_row: int
    mapping: dict[str, int]
    keep_unverified: bool
    counts: dict[str, int]
    problems: dict[str, str]
    stage_seconds: dict[str, float]
    message: str
    file_sha256: str
    created_at: datetime
    checked_at: datetime | None = None
    committed_at: datetime | None = None


class JobPage(Schema):
    items: list[JobOut]
    count: int


class MappingIn(Schema):
    mapping: dict[str, int | None] = Field(
        description="{field: column index (0-based)}; fields as in GET /imports/fields"
    )
    save_for_source: bool = False
    start: bool = True


def _out(job: ImportJob) -> dict:
    return {
        "id": str(job.public_id),
        "filename": job.filename,
        "source": job.source,
        "place_id": str(job.place.public_id),
        "place": job.place.name,
        "status": job.status,
        "status_display": job.get_status_display(),
        "stage": job.stage,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "header": job.header,
        "header_row": job.header_row,
        "mapping": job.mapping,
        "keep_unverified": job.keep_unverified,
        "counts": job.counts,
        "problems": job.problems,
        "stage_seconds": job.stage_seconds,
        "message": job.message,
        "file_sha256": job.file_sha256,
        "created_at": job.created_at,
        "checked_at": job.checked_at,
        "committed_at": job.committed_at,
    }


def _job(request, job_id: UUID) -> ImportJob:
    request.actor.require(Perm.PERSON_IMPORT)
    return get_visible_or_404(
        ImportJob.objects.select_related("place", "created_by__user"), request.actor, job_id
    )


@router.get("/imports/fields", response=dict[str, str])
def import_fields(request):
    """The fields a column can be mapped to: {field: its Chinese header}. name and id_number are required."""
    request.actor.require(Perm.PERSON_IMPORT)
    return services.field_labels()


@router.get("/imports", response=JobPage)
def list_imports(request, paging: Query[Paging]):
    request.actor.require(Perm.PERSON_IMPORT)
    qs = ImportJob.objects.visible_to(request.actor).select_related("place", "created_by__user")
    rows = list(qs[paging.offset : paging.offset + paging.limit])
    return {"items": [_out(j) for j in rows], "count": qs.count()}


@router.post("/imports", response={201: JobOut})
def upload_import(
    request,
    file: File[UploadedFile],
    source: Form[str],
    place_id: Form[UUID],
    keep_unverified: Form[bool] = False,
):
    """Upload a file (multipart); the header is found and a mapping suggested. Nothing is imported yet."""
    actor = request.actor
    actor.require(Perm.PERSON_IMPORT)
    place = Place.objects.visible_to(actor).filter(public_id=place_id).first()
    if place is None:
        raise DomainError("import.place_scope", _("所选地区不存在或不在您的管辖范围内。"), "place_id")
    job = services.import_upload(
        actor=actor,
        data=file.read(),
        filename=file.name or "upload",
        source=source,
        place=place,
        keep_unverified=keep_unverified,
    )
    return 201, _out(job)


@router.get("/imports/{job_id}", response=JobOut)
def get_import(request, job_id: UUID):
    job = _job(request, job_id)
    audit.record(actor=request.actor, action="import.view", target=job, data={"api": True})
    return _out(job)


@router.post("/imports/{job_id}/mapping", response=JobOut)
def set_import_mapping(request, job_id: UUID, body: MappingIn):
    """Confirm the mapping and (by default) start the dry run."""
    job = _job(request, job_id)
    services.import_set_mapping(
        actor=request.actor, job=job, mapping=body.mapping, save_for_source=body.save_for_source
    )
    if body.start:
        services.import_start(actor=request.actor, job=job, commit=False)
    job.refresh_from_db()
    return _out(job)


@router.post("/imports/{job_id}/commit", response=JobOut)
def commit_import(request, job_id: UUID):
    """After a dry run: write it, in one transaction, as a background task."""
    job = _job(request, job_id)
    services.import_start(actor=request.actor, job=job, commit=True)
    job.refresh_from_db()
    return _out(job)


@router.post("/imports/{job_id}/cancel", response=JobOut)
def cancel_import(request, job_id: UUID):
    job = _job(request, job_id)
    services.import_cancel(actor=request.actor, job=job)
    job.refresh_from_db()
    return _out(job)


@router.get("/imports/{job_id}/errors")
def import_errors(request, job_id: UUID):
    """The problem rows as an xlsx workbook (the original cells and a column 问题)."""
    job = _job(request, job_id)
    if job.status not in (JobStatus.CHECKED, JobStatus.COMMITTED) or not job.problems:
        raise DomainError("import.no_problems", _("没有可下载的问题行。"))
    content = services.error_workbook(job)
    audit.record(
        actor=request.actor, action="import.errors_download", target=job, row_count=len(job.problems)
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="errors.xlsx"'
    response["Cache-Control"] = "no-store"
    return response
