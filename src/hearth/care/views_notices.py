"""Pages for notices (通知单): who needs one for a service, one person's PDF, a combined PDF of up to 1,000 made
in the background (its page shows the progress), SMS texts and marking notices sent, delivered or not reached.

A combined PDF of 1,000 notices takes about half a minute to lay out (measured: see the issue note), too long for
a request, so it is a background task (django-tasks) whose progress the batch page polls through htmx.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, as_list
from hearth.documents import services as documents
from hearth.documents.models import DocumentBatch, DocumentKind, DocumentStatus, IssuedDocument
from hearth.registry.models import Person

from . import notices, worklists
from .forms import WorklistFilterForm
from .models import ServiceType
from .views import STATUS_BADGES, _filter_places, _service_for, local_care_url

PAGE = 50
DOC_BADGES = {
    DocumentStatus.ISSUED: "text-bg-secondary",
    DocumentStatus.SENT: "text-bg-info",
    DocumentStatus.DELIVERED: "text-bg-success",
    DocumentStatus.FAILED: "text-bg-danger",
}


def _errors(request, exc: DomainError) -> None:
    for err in as_list(exc):
        messages.error(request, str(err.message))


def _back(request, fallback: str) -> str:
    """The local care page the form came from (`next`), else `fallback`."""
    return local_care_url(request.POST.get("next") or "", request, fallback)


def _issuing_service(actor, code: str) -> ServiceType:
    actor.require(Perm.CARE_RECORD)
    service = _service_for(actor, code)
    if not notices.can_issue(actor, service):
        raise Http404
    return service


def _doc_view(doc: IssuedDocument | None) -> dict | None:
    if doc is None:
        return None
    return {
        "doc": doc,
        "badge": DOC_BADGES.get(doc.status, "text-bg-light"),
        "at": doc.delivered_at or doc.sent_at or doc.created_at,
        "open": doc.status != DocumentStatus.DELIVERED,
    }


def notices_page(request, code):
    """通知单: the persons of a service's worklist who need a notice, with their notices and SMS so far."""
    actor = request.actor
    service = _service_for(actor, code)
    today = time.today()
    places, labels = _filter_places(actor)
    flt = WorklistFilterForm(request.GET or None, places=places, labels=labels)
    place = None
    if flt.is_bound:
        if not flt.is_valid():
            raise Http404
        place = flt.cleaned_data["place"]
    qs = notices.candidates(actor, service, as_of=today, place=place)
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    items = [
        {
            "due": c.due,
            "person": c.due.person,
            "status_label": worklists.STATUSES[c.status],
            "badge": STATUS_BADGES[c.status],
            "printed": _doc_view(c.printed),
            "sms": _doc_view(c.sms),
            "has_phone": bool((c.due.person.phone or "").strip()),
        }
        for c in notices.with_documents(service, list(page.object_list), as_of=today)
    ]
    can_issue = notices.can_issue(actor, service)
    pending = 0
    if can_issue:
        pending = min(
            notices.candidates(actor, service, as_of=today, place=place, include_notified=False)
            .values("person_id")
            .distinct()
            .count(),
            notices.LIMIT,
        )
    batches = DocumentBatch.objects.visible_to(actor).filter(kind=DocumentKind.NOTICE, topic=service.code)[:5]
    audit.record(
        actor=actor, action="care.notices_view", target=service, row_count=len(items),
        data={"place": str(place.public_id) if place else ""},
    )  # fmt: skip
    context = {
        "service": service,
        "public_name": notices.public_name(service),
        "flt": flt,
        "place": place,
        "page": page,
        "rows": items,
        "can_issue": can_issue,
        "can_mark": documents.can_change(actor, DocumentKind.NOTICE),
        "pending": pending,
        "limit": notices.LIMIT,
        "batches": batches,
        "today": today,
        "here": request.get_full_path(),
        "place_query": urlencode({"place": str(place.public_id)}) if place else "",
    }
    return render(request, "care/notices.html", context)


@require_POST
def notices_generate(request, code):
    """生成通知单: start the combined PDF of the persons not yet given this cycle's notice (at most 1,000)."""
    actor = request.actor
    service = _issuing_service(actor, code)
    places, labels = _filter_places(actor)
    flt = WorklistFilterForm(request.POST, places=places, labels=labels)
    if not flt.is_valid():
        raise Http404
    back = reverse("care:notices", kwargs={"code": service.code})
    try:
        batch, started = notices.notices_batch_start(
            actor, service, place=flt.cleaned_data["place"], include_notified=bool(request.POST.get("again"))
        )
    except DomainError as exc:
        _errors(request, exc)
        return redirect(_back(request, back))
    if not started:
        messages.info(request, _("同样的通知单正在生成，请稍候。"))
    return redirect("care:notices_batch", public_id=batch.public_id)


def _batch(request, public_id) -> DocumentBatch:
    request.actor.require(Perm.CARE_VIEW)
    return get_visible_or_404(
        DocumentBatch.objects.select_related("requested_by__user"), request.actor, public_id
    )


def notices_batch(request, public_id):
    """One batch: its progress while it is made (polled by htmx), then the link to the PDF."""
    batch = _batch(request, public_id)
    service = ServiceType.objects.filter(code=batch.topic).first()
    context = {
        "batch": batch,
        "service": service,
        "can_download": documents.can_change(request.actor, batch.kind),
    }
    if request.htmx:
        response = render(request, "care/notices_batch.html#progress", context)
        if not batch.running:
            response["HX-Refresh"] = "true"
        return response
    return render(request, "care/notices_batch.html", context)


def notices_batch_pdf(request, public_id):
    """The combined PDF (names and addresses of up to 1,000 persons): for those who may issue notices; audited."""
    batch = _batch(request, public_id)
    if not documents.can_change(request.actor, batch.kind):
        raise Http404
    try:
        data = documents.batch_read(actor=request.actor, batch=batch)
    except DomainError:
        raise Http404 from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="notices-{batch.topic}-{batch.created_at:%Y%m%d}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response


def notice_pdf(request, code, person_id):
    """One person's notice (A5 PDF), recorded as issued on paper."""
    actor = request.actor
    service = _issuing_service(actor, code)
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    try:
        notice = notices.notice_pdf(actor, service, person)
    except DomainError:
        raise Http404 from None
    response = HttpResponse(notice.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{notice.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def notice_sms(request, code, person_id):
    """生成短信: the SMS text for one person, recorded; the officer sends it and marks it here."""
    actor = request.actor
    service = _issuing_service(actor, code)
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    back = _back(request, reverse("care:notices", kwargs={"code": service.code}))
    try:
        doc, created = notices.notice_sms(actor, service, person)
    except DomainError as exc:
        _errors(request, exc)
        return redirect(back)
    if created:
        messages.success(request, _("已生成短信：%(t)s") % {"t": doc.body_text})
    return redirect(back)


@require_POST
def notice_mark(request, public_id):
    """已发出 / 已送达 / 未送达 for one notice (printed or SMS); a repeat changes nothing."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    doc = get_visible_or_404(IssuedDocument.objects.select_related("person"), actor, public_id)
    back = _back(request, reverse("care:notices", kwargs={"code": doc.topic}) if doc.topic else "/")
    try:
        doc, changed = documents.mark(
            actor=actor,
            document=doc,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        _errors(request, exc)
        return redirect(back)
    if changed:
        messages.success(
            request, _("已登记：%(p)s，%(s)s。") % {"p": doc.person.name, "s": doc.get_status_display()}
        )
    return redirect(back)
