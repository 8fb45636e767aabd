"""Pages for importing residents: upload, confirm the columns, watch the dry run, commit, fix the rejects."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error

from . import services
from .forms import UploadForm, posted_mapping
from .models import ImportJob, JobStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _job(request, public_id) -> ImportJob:
    request.actor.require(Perm.PERSON_IMPORT)
    return get_visible_or_404(
        ImportJob.objects.select_related("place", "created_by__user"), request.actor, public_id
    )


def job_list(request):
    actor = request.actor
    actor.require(Perm.PERSON_IMPORT)
    form = UploadForm(request.POST or None, request.FILES or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_upload(
                actor=actor,
                data=upload.read(),
                filename=upload.name,
                source=form.cleaned_data["source"],
                place=form.cleaned_data["place"],
                keep_unverified=form.cleaned_data["keep_unverified"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect("imports:job_detail", public_id=job.public_id)
    jobs = Paginator(ImportJob.objects.visible_to(actor).select_related("place", "created_by__user"), 20)
    page = jobs.get_page(request.GET.get("page"))
    status = 422 if request.method == "POST" else 200
    return render(request, "imports/job_list.html", {"form": form, "page": page}, status=status)


def _mapping_rows(job: ImportJob) -> list[dict]:
    by_column = {index: fld for fld, index in job.mapping.items()}
    return [{"index": i, "header": h, "field": by_column.get(i, "")} for i, h in enumerate(job.header)]


def job_detail(request, public_id):
    job = _job(request, public_id)
    audit.record(actor=request.actor, action="import.view", target=job)
    context = {
        "job": job,
        "labels": services.field_labels(),
        "columns": _mapping_rows(job),
        "required": services.REQUIRED_FIELDS,
        "outcomes": _outcomes(job),
    }
    return render(request, "imports/job_detail.html", context)


def _outcomes(job: ImportJob) -> list[dict]:
    names = {
        services.NEW: _("新增"),
        services.CHANGED: _("有变化"),
        services.UNCHANGED: _("无变化"),
        services.DUPLICATE: _("文件内重复"),
        services.REJECTED: _("有问题"),
    }
    return [
        {"key": k, "label": names[k], "count": job.counts.get(k, 0), "samples": job.samples.get(k, [])}
        for k in services.OUTCOMES
    ]


def job_progress(request, public_id):
    """The progress card alone, polled by htmx while the job runs; a finished job reloads the page."""
    job = _job(request, public_id)
    response = render(request, "imports/progress.html", {"job": job})
    if not job.running:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def job_mapping(request, public_id):
    job = _job(request, public_id)
    try:
        mapping = posted_mapping(request.POST, len(job.header), services.field_labels())
        services.import_set_mapping(
            actor=request.actor, job=job, mapping=mapping, save_for_source=bool(request.POST.get("save"))
        )
        services.import_start(actor=request.actor, job=job, commit=False)
    except DomainError as exc:
        for error in getattr(exc, "errors", [exc]):
            messages.error(request, str(error.message))
    return redirect("imports:job_detail", public_id=job.public_id)


@require_POST
def job_commit(request, public_id):
    job = _job(request, public_id)
    try:
        services.import_start(actor=request.actor, job=job, commit=True)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("imports:job_detail", public_id=job.public_id)


@require_POST
def job_cancel(request, public_id):
    job = _job(request, public_id)
    try:
        services.import_cancel(actor=request.actor, job=job)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("imports:job_detail", public_id=job.public_id)


def job_errors(request, public_id):
    job = _job(request, public_id)
    if job.status not in (JobStatus.CHECKED, JobStatus.COMMITTED) or not job.problems:
        messages.error(request, _("没有可下载的问题行。"))
        return redirect("imports:job_detail", public_id=job.public_id)
    try:
        content = services.error_workbook(job)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("imports:job_detail", public_id=job.public_id)
    audit.record(
        actor=request.actor, action="import.errors_download", target=job, row_count=len(job.problems)
    )
    response = HttpResponse(content, content_type=XLSX)
    filename = _("问题行-%(name)s.xlsx") % {"name": job.filename.rsplit(".", 1)[0]}
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store"
    return response
