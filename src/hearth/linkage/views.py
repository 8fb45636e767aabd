"""Pages for partner-list matching: upload, columns, progress, results, review, facts, worklists, duplicates."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error
from hearth.imports.forms import posted_mapping
from hearth.registry.forms import PersonForm
from hearth.registry.models import Person
from hearth.registry.selectors import dwellings_in_scope, person_row

from . import services
from .forms import FindDuplicatesForm, PartnerListForm
from .models import (
    MATCHED,
    Decision,
    DuplicatePair,
    DuplicateStatus,
    FactProposal,
    PartnerList,
    PartnerRecord,
    ProposalStatus,
    RecordStatus,
)

PAGE = 50


def _list(request, public_id) -> PartnerList:
    request.actor.require(Perm.PERSON_LINK)
    return get_visible_or_404(
        PartnerList.objects.select_related("place", "created_by__user"), request.actor, public_id
    )


def _page(request, qs):
    return Paginator(qs, PAGE).get_page(request.GET.get("page"))


def list_index(request):
    actor = request.actor
    actor.require(Perm.PERSON_LINK)
    form = PartnerListForm(request.POST or None, request.FILES or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            plist = services.list_upload(
                actor=actor, data=upload.read(), filename=upload.name, kind=form.cleaned_data["kind"],
                source=form.cleaned_data["source"], place=form.cleaned_data["place"],
            )  # fmt: skip
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect("linkage:list_detail", public_id=plist.public_id)
    page = _page(request, PartnerList.objects.visible_to(actor).select_related("place", "created_by__user"))
    status = 422 if request.method == "POST" else 200
    return render(request, "linkage/list_index.html", {"form": form, "page": page}, status=status)


def _outcomes(plist: PartnerList) -> list[dict]:
    return [
        {"key": value, "label": label, "count": plist.counts.get(value, 0)}
        for value, label in RecordStatus.choices
        if value not in (RecordStatus.PENDING, RecordStatus.REGISTERED)
    ]


def list_detail(request, public_id):
    plist = _list(request, public_id)
    audit.record(actor=request.actor, action="link.view", target=plist)
    by_column = {index: fld for fld, index in plist.mapping.items()}
    context = {
        "plist": plist,
        "labels": services.field_labels(),
        "columns": [
            {"index": i, "header": h, "field": by_column.get(i, "")} for i, h in enumerate(plist.header)
        ],
        "outcomes": _outcomes(plist),
        "open_facts": FactProposal.objects.visible_to(request.actor)
        .filter(record__partner_list=plist, status=ProposalStatus.PROPOSED)
        .count(),
    }
    return render(request, "linkage/list_detail.html", context)


def list_progress(request, public_id):
    plist = _list(request, public_id)
    response = render(request, "linkage/progress.html", {"plist": plist})
    if not plist.running:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def list_mapping(request, public_id):
    plist = _list(request, public_id)
    try:
        mapping = posted_mapping(request.POST, len(plist.header), services.field_labels())
        services.list_set_mapping(actor=request.actor, plist=plist, mapping=mapping)
        services.list_start(actor=request.actor, plist=plist)
    except DomainError as exc:
        for error in getattr(exc, "errors", [exc]):
            messages.error(request, str(error.message))
    return redirect("linkage:list_detail", public_id=plist.public_id)


@require_POST
def list_apply(request, public_id):
    plist = _list(request, public_id)
    try:
        applied = services.apply_contacts(actor=request.actor, plist=plist)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("已更新 %(p)d 人的联系电话、%(d)d 人的住址。")
            % {"p": applied["phone"], "d": applied["dwelling"]},
        )
    return redirect("linkage:list_detail", public_id=plist.public_id)


def list_records(request, public_id):
    plist = _list(request, public_id)
    status = request.GET.get("status", "")
    qs = PartnerRecord.objects.visible_to(request.actor).filter(partner_list=plist).select_related("person")
    if status in RecordStatus.values:
        qs = qs.filter(status=status)
    page = _page(request, qs)
    audit.record(
        actor=request.actor, action="link.records_view", target=plist, row_count=len(page.object_list)
    )
    context = {"plist": plist, "page": page, "status": status, "statuses": RecordStatus.choices}
    return render(request, "linkage/records.html", context)


def _record(request, public_id, row) -> PartnerRecord:
    plist = _list(request, public_id)
    rec = (
        PartnerRecord.objects.visible_to(request.actor)
        .filter(partner_list=plist, row=row)
        .select_related("partner_list", "person")
        .first()
    )
    if rec is None:
        raise Http404
    return rec


def record_review(request, public_id, row):
    """A row beside its candidates (姓名, 出生日期 … side by side), with the weight of each comparison."""
    rec = _record(request, public_id, row)
    actor = request.actor
    if request.method == "POST":
        person = Person.objects.visible_to(actor).filter(public_id=request.POST.get("person") or None).first()
        try:
            services.decide(actor=actor, record=rec, person=person, decision=request.POST.get("decision", ""))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已记录，今后的名单遇到同一人会沿用此结论。"))
            following = (
                PartnerRecord.objects.visible_to(actor)
                .filter(partner_list=rec.partner_list, status=RecordStatus.POSSIBLE, row__gt=rec.row)
                .order_by("row")
                .first()
            )
            if following is not None:
                return redirect("linkage:record_review", public_id=public_id, row=following.row)
            return redirect(f"{_url_records(public_id)}?status={RecordStatus.POSSIBLE}")
    candidates = []
    visible = Person.objects.visible_to(actor)
    for c in rec.candidates.select_related("person__dwelling").all() or []:
        if visible.filter(pk=c.person_id).exists():
            candidates.append({"c": c, "p": person_row(c.person, actor, detail=True)})
    if not candidates and rec.person_id and visible.filter(pk=rec.person_id).exists():
        candidates.append({"c": rec, "p": person_row(rec.person, actor, detail=True)})
    audit.record(actor=actor, action="link.review_view", target=rec.partner_list, data={"row": rec.row})
    context = {"rec": rec, "plist": rec.partner_list, "candidates": candidates, "decisions": Decision}
    return render(request, "linkage/review.html", context)


def record_register(request, public_id, row):
    """补登: register the person of a 漏档 row, the form filled in from the row; the ID number is typed."""
    actor = request.actor
    actor.require(Perm.PERSON_LINK)
    actor.require(Perm.PERSON_CREATE)
    rec = services.missing_row(actor, public_id, row)
    if rec is None:
        raise Http404
    if rec.status != RecordStatus.UNMATCHED:
        messages.error(request, _("该名单记录已处理（已补登或已匹配），请刷新页面。"))
        return redirect("linkage:missing")
    initial = {
        "name": rec.name,
        "sex": rec.sex,
        "birth_date": rec.birth_date,
        "phone": rec.phone,
        "dwelling": rec.dwelling.public_id if rec.dwelling_id else None,
    }
    form = PersonForm(request.POST or None, dwellings=dwellings_in_scope(actor), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.register_missing(actor=actor, record=rec, values=dict(form.cleaned_data))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已补登 %(name)s。") % {"name": person.name})
            return redirect("registry:person_detail", public_id=person.public_id)
    if request.method != "POST":
        audit.record(actor=actor, action="link.register_view", target=rec.partner_list, data={"row": rec.row})
    status = 422 if request.method == "POST" else 200
    return render(
        request, "linkage/register.html", {"form": form, "rec": rec, "plist": rec.partner_list}, status=status
    )


def _url_records(public_id) -> str:
    from django.urls import reverse

    return reverse("linkage:list_records", kwargs={"public_id": public_id})


def facts(request):
    """Life facts proposed by partner lists (death, marriage), confirmed or dismissed in bulk."""
    actor = request.actor
    actor.require(Perm.PERSON_LINK)
    qs = (
        FactProposal.objects.visible_to(actor)
        .filter(status=ProposalStatus.PROPOSED)
        .select_related("person", "record__partner_list")
    )
    if request.method == "POST":
        chosen = list(qs.filter(public_id__in=request.POST.getlist("proposal")))
        try:
            if not chosen:
                raise DomainError("link.facts_none", _("请至少选择一条。"), "proposal")
            if request.POST.get("action") == "dismiss":
                n = services.dismiss_facts(actor=actor, proposals=chosen)
                messages.success(request, _("已不采纳 %(n)d 条。") % {"n": n})
            else:
                n = services.confirm_facts(actor=actor, proposals=chosen)
                messages.success(request, _("已确认 %(n)d 条，已记入人员的生活事件。") % {"n": n})
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("linkage:facts")
    page = _page(request, qs)
    audit.record(actor=actor, action="link.facts_view", row_count=len(page.object_list))
    return render(request, "linkage/facts.html", {"page": page})


def _of_list(request, qs):
    """A worklist for one list (`?list=<id>`, from that list's page) or for all the actor's lists."""
    chosen = request.GET.get("list", "")
    plist = None
    if chosen:
        plist = PartnerList.objects.visible_to(request.actor).filter(public_id=_uuid(chosen)).first()
        if plist is None:
            raise Http404
        qs = qs.filter(partner_list=plist)
    return qs, plist


def _uuid(text: str):
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        raise Http404 from None


def missing(request):
    """漏档: people on a partner list who are not on file anywhere, for the community to visit and register."""
    actor = request.actor
    actor.require(Perm.PERSON_LINK)
    qs = (
        PartnerRecord.objects.visible_to(actor)
        .filter(status=RecordStatus.UNMATCHED)
        .select_related("partner_list", "dwelling")
        .order_by("place_path", "partner_list", "row")
    )
    qs, plist = _of_list(request, qs)
    page = _page(request, qs)
    audit.record(actor=actor, action="link.missing_view", row_count=len(page.object_list))
    context = {"page": page, "plist": plist, "can_register": actor.can(Perm.PERSON_CREATE)}
    return render(request, "linkage/missing.html", context)


def disagreements(request):
    """Matched people whose partner list says something else (name, birth date, phone, address)."""
    actor = request.actor
    actor.require(Perm.PERSON_LINK)
    qs = (
        PartnerRecord.objects.visible_to(actor)
        .filter(status__in=MATCHED)
        .exclude(disagreements={})
        .select_related("partner_list", "person")
        .order_by("place_path", "partner_list", "row")
    )
    qs, plist = _of_list(request, qs)
    page = _page(request, qs)
    audit.record(actor=actor, action="link.disagreements_view", row_count=len(page.object_list))
    context = {"page": page, "labels": services.field_labels(), "plist": plist}
    return render(request, "linkage/disagreements.html", context)


def duplicates(request):
    """疑似重复: pairs of registry persons that look like one person; merge (registry) or dismiss."""
    actor = request.actor
    actor.require(Perm.PERSON_MERGE)
    form = FindDuplicatesForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            n = services.find_duplicates(actor=actor, place=form.cleaned_data["place"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("找到 %(n)d 对新的疑似重复人员。") % {"n": n})
            return redirect("linkage:duplicates")
    # Pairs merged on the registry's merge page (which knows nothing of this list) are closed here.
    DuplicatePair.objects.for_system().filter(status=DuplicateStatus.OPEN).filter(
        Q(first__merged_into__isnull=False) | Q(second__merged_into__isnull=False)
    ).update(status=DuplicateStatus.MERGED, updated_at=time.now())
    qs = (
        DuplicatePair.objects.visible_to(actor)
        .filter(status=DuplicateStatus.OPEN)
        .select_related("first__dwelling", "second__dwelling")
    )
    page = _page(request, qs)
    visible = set(Person.objects.visible_to(actor).filter(
        pk__in=[p.second_id for p in page.object_list]).values_list("pk", flat=True))  # fmt: skip
    rows = [
        {
            "pair": p,
            "a": person_row(p.first, actor),
            "b": person_row(p.second, actor) if p.second_id in visible else None,
        }
        for p in page.object_list
    ]
    audit.record(actor=actor, action="link.duplicates_view", row_count=len(rows))
    status = 422 if request.method == "POST" else 200
    return render(
        request, "linkage/duplicates.html", {"form": form, "page": page, "rows": rows}, status=status
    )


@require_POST
def duplicate_dismiss(request, public_id):
    request.actor.require(Perm.PERSON_MERGE)
    pair = get_visible_or_404(DuplicatePair.objects.all(), request.actor, public_id)
    try:
        services.dismiss_duplicate(actor=request.actor, pair=pair)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("linkage:duplicates")
