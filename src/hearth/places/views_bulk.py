"""Pages for 批量导入 (places, dwellings, accounts, grants from a spreadsheet): upload → dry run → commit.

The uploaded file waits between the dry run and the commit in VAR_DIR/uploads under a random token that only
its uploader can use (core.spreadsheet.stage_upload); the commit runs the whole import again for real.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from hearth.core import spreadsheet, time
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error

from . import bulk
from .forms_bulk import BulkImportForm

# Show at most this many refused rows on the page; the error workbook has them all.
_SHOWN_ROWS = 500


def _sheets_or_404(actor) -> list[bulk.Sheet]:
    sheets = bulk.sheets_for(actor)
    if not sheets:
        raise Http404
    return sheets


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=bulk.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store"
    return response


def bulk_import(request):
    actor = request.actor
    sheets = _sheets_or_404(actor)
    allowed = {s.kind for s in sheets}
    if request.method != "POST":
        form = BulkImportForm(sheets=sheets, initial={"kind": request.GET.get("kind")})
        return render(request, "places/bulk_import.html", {"form": form, "sheets": sheets})
    if request.POST.get("action") == "commit":
        return _commit(request, allowed)
    kind = request.POST.get("kind", "")
    if kind in bulk.SHEETS and kind not in allowed:
        raise Http404
    form = BulkImportForm(request.POST, request.FILES, sheets=sheets)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            report = bulk.sheet_import(actor=actor, kind=kind, data=data, filename=upload.name)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            token = spreadsheet.stage_upload(
                data,
                owner_id=request.user.pk,
                meta={"kind": kind, "filename": upload.name, "errors": report.error_list()},
            )
            return _render_report(request, report, token)
    return render(request, "places/bulk_import.html", {"form": form, "sheets": sheets}, status=422)


def _commit(request, allowed: set[str]):
    actor = request.actor
    token = request.POST.get("token", "")
    try:
        data, meta = spreadsheet.load_staged(token, owner_id=request.user.pk)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("places:bulk_import")
    if meta.get("kind") not in allowed:
        raise Http404
    try:
        report = bulk.sheet_import(
            actor=actor, kind=meta["kind"], data=data, filename=meta["filename"], commit=True
        )
    except bulk.ImportRefused as exc:
        # Something changed since the dry run (or another identity is active): show the new findings.
        spreadsheet.update_staged(token, owner_id=request.user.pk, meta={"errors": exc.report.error_list()})
        return _render_report(request, exc.report, token, refused=True, status=422)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("places:bulk_import")
    spreadsheet.discard_staged(token)
    counts = report.counts
    messages.success(
        request,
        _("导入完成：新增 %(new)d 行，已存在未变 %(unchanged)d 行。")
        % {"new": counts[bulk.NEW], "unchanged": counts[bulk.UNCHANGED]},
    )
    if report.result_workbook is not None:
        # The initial passwords exist only in this response.
        return _xlsx(report.result_workbook, f"初始密码-{time.now():%Y%m%d-%H%M}.xlsx")
    return redirect("places:bulk_import")


def _render_report(
    request, report: bulk.ImportReport, token: str, *, refused: bool = False, status: int = 200
):
    rejected = report.rejected
    return render(
        request,
        "places/bulk_report.html",
        {
            "report": report,
            "sheet": bulk.SHEETS[report.kind],
            "counts": report.counts,
            "rejected": rejected[:_SHOWN_ROWS],
            "more_rejected": max(0, len(rejected) - _SHOWN_ROWS),
            "token": token,
            "refused": refused,
            "can_commit": not rejected and report.counts[bulk.NEW] > 0,
        },
        status=status,
    )


def bulk_template(request, kind):
    actor = request.actor
    allowed = {s.kind for s in _sheets_or_404(actor)}
    if kind not in allowed:
        raise Http404
    sheet = bulk.SHEETS[kind]
    return _xlsx(bulk.template_workbook(kind), f"{sheet.label}导入模板.xlsx")


def bulk_errors(request, token):
    actor = request.actor
    allowed = {s.kind for s in _sheets_or_404(actor)}
    try:
        data, meta = spreadsheet.load_staged(token, owner_id=request.user.pk)
    except DomainError:
        raise Http404 from None
    if meta.get("kind") not in allowed:
        raise Http404
    content = bulk.error_workbook(data=data, filename=meta["filename"], errors=meta.get("errors", []))
    return _xlsx(content, f"错误-{meta['filename'].rsplit('.', 1)[0]}.xlsx")
