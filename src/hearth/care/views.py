"""Pages for home services (入户服务): the worklists overview, one service's worklist, recording a contact,
the service catalogue and its editor, and the services on a person's page (an htmx partial)."""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm, Role
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error
from hearth.places.models import FacilityKind, Place, PlaceKind
from hearth.places.tree import ancestor_paths
from hearth.registry import conditions
from hearth.registry.models import EventKind, Person
from hearth.registry.selectors import age_band

from . import services, worklists
from .forms import RecordForm, ServiceTypeForm, WorklistFilterForm
from .models import Due, Outcome, Schedule, ServiceType, ServiceTypeVersion
from .views_exports import can_export

PAGE = 50
# The chart's colours per status (the page's badges use the matching Bootstrap classes).
STATUS_COLOURS = {"not_offered": "#6c757d", "overdue": "#8c2f39", "due": "#d39e00", "upcoming": "#adb5bd"}
STATUS_BADGES = {
    "not_offered": "text-bg-secondary",
    "overdue": "text-bg-danger",
    "due": "text-bg-warning",
    "upcoming": "text-bg-light border",
}


def _service_for(actor, code: str) -> ServiceType:
    """A service whose worklist the actor sees (the supervisors: all; others: those naming their role)."""
    actor.require(Perm.CARE_VIEW)
    service = services.services_for(actor).filter(code=code).first()
    if service is None:
        raise Http404
    return service


class _Counted(Paginator):
    """A paginator told its count: the worklist's status counts are read anyway, one COUNT fewer."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known = count

    @cached_property
    def count(self) -> int:
        return self._known


def _filter_places(actor):
    """The places a worklist can be narrowed to: communities, and their buildings (villagers' groups) when
    the actor's scope is a sub-district or smaller (a district's thousands of buildings make no list)."""
    scope = actor.scope_place
    kinds = [PlaceKind.COMMUNITY]
    if scope is not None and scope.kind not in (PlaceKind.CITY, PlaceKind.DISTRICT):
        kinds += [PlaceKind.BUILDING, PlaceKind.VILLAGER_GROUP]
    places = Place.objects.visible_to(actor).current().filter(kind__in=kinds).order_by("path")
    listed = list(places)
    names = {p.path: p.name for p in listed}
    labels = {
        p.pk: " / ".join(names[a] for a in ancestor_paths(p.path) if a in names) or p.name for p in listed
    }
    return places, labels


# --------------------------------------------------------------------------------------------- worklists


def index(request):
    """服务工作清单: what is to be done per service, by status, with a chart of the same counts."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    today = time.today()
    # Services given on request have no worklist: they are not listed here (the person's page offers them).
    with_lists = services.services_for(actor).exclude(schedule=Schedule.ON_REQUEST)
    summaries = worklists.summaries(actor, with_lists, as_of=today)
    chart = None
    if summaries:
        chart = {
            "id": "care-worklists-chart",
            "title": _("各服务项目需服务人数"),
            "labels": [s.service.name for s in summaries],
            "series": [
                {
                    "name": str(worklists.STATUSES[status]),
                    "values": [s.counts[status] for s in summaries],
                    "color": STATUS_COLOURS[status],
                }
                for status in worklists.ACTIONABLE
            ],
        }
    rows = [
        {
            "service": s.service,
            "actionable": s.actionable,
            "cells": [
                {"key": k, "label": label, "n": s.counts[k], "badge": STATUS_BADGES[k]}
                for k, label in worklists.STATUSES.items()
            ],
        }
        for s in summaries
    ]
    context = {
        "rows": rows,
        "statuses": worklists.STATUSES,
        "chart": chart,
        "today": today,
        "can_manage": actor.can(Perm.CARE_MANAGE),
    }
    return render(request, "care/index.html", context)


def worklist(request, code):
    """One service's worklist: status tabs with counts, a place filter, a page of persons to contact."""
    actor = request.actor
    service = _service_for(actor, code)
    today = time.today()
    places, labels = _filter_places(actor)
    flt = WorklistFilterForm(request.GET or None, places=places, labels=labels)
    place = None
    if flt.is_bound:
        if not flt.is_valid():
            raise Http404  # a place outside the scope is as unknown as a missing one
        place = flt.cleaned_data["place"]
    status = request.GET.get("status", "")
    if status not in worklists.STATUSES:
        status = ""
    counts = worklists.counts(actor, service, as_of=today, place=place)
    actionable = sum(counts[s] for s in worklists.ACTIONABLE)
    qs = worklists.rows(actor, service, as_of=today, status=status or None, place=place)
    if not status:
        qs = qs.filter(~worklists.status_q(service, "upcoming", today))
    page = _Counted(qs, PAGE, count=counts[status] if status else actionable).get_page(
        request.GET.get("page")
    )
    full = actor.can(Perm.PERSON_VIEW_FULL)
    rows = []
    for due in page.object_list:
        age = time.age_on(due.person.birth_date, today)
        row_status = worklists.status_of(due, service, today)
        rows.append(
            {
                "due": due,
                "person": due.person,
                "age": age if full else age_band(age),
                "status": row_status,
                "status_label": worklists.STATUSES[row_status],
                "badge": STATUS_BADGES[row_status],
                "last_label": Outcome(due.last_outcome).label if due.last_outcome else "",
            }
        )
    audit.record(
        actor=actor, action="care.worklist_view", target=service, row_count=len(rows),
        data={"status": status, "place": str(place.public_id) if place else ""},
    )  # fmt: skip
    tabs = [{"key": "", "label": _("需服务"), "count": actionable, "badge": "text-bg-primary"}] + [
        {"key": k, "label": v, "count": counts[k], "badge": STATUS_BADGES[k]}
        for k, v in worklists.STATUSES.items()
    ]
    for tab in tabs:
        query = {"place": str(place.public_id)} if place else {}
        if tab["key"]:
            query["status"] = tab["key"]
        tab["url"] = "?" + urlencode(query)
    context = {
        "service": service,
        "flt": flt,
        "place": place,
        "status": status,
        "tabs": tabs,
        "page": page,
        "rows": rows,
        "can_record": services.can_deliver(actor, service),
        "can_export": can_export(actor),
        "today": today,
    }
    return render(request, "care/worklist.html", context)


def _next_url(request, service: ServiceType) -> str:
    """Where to go after recording: the worklist the user came from (a local care URL), else the service's."""
    fallback = reverse("care:worklist", kwargs={"code": service.code})
    return local_care_url(request.POST.get("next") or request.GET.get("next") or "", request, fallback)


def local_care_url(url: str, request, fallback: str) -> str:
    """`url` if it is a page of this site under /care/ (a form's `next`), else `fallback`: never elsewhere."""
    parts = urlsplit(url)
    if (
        url
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None, require_https=request.is_secure())
        and not parts.scheme
        and not parts.netloc
        and parts.path.startswith(reverse("care:index"))
    ):
        return url
    return fallback


def record(request, code, person_id):
    """记录服务: one contact with one person; a double submit (same hidden token) records once."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    service = _service_for(actor, code)
    if not services.can_deliver(actor, service):
        raise Http404
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    next_url = _next_url(request, service)
    form = RecordForm(
        request.POST or None,
        service=service,
        clinical=actor.can(Perm.CARE_CLINICAL),
        initial={"next": next_url},
    )
    if request.method == "POST" and form.is_valid():
        try:
            _record, created = services.record_contact(
                actor=actor, person=person, service=service, **form.record_values()
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if created:
                messages.success(request, _("已记录：%(p)s，%(s)s。") % {"p": person.name, "s": service.name})
            else:
                messages.info(request, _("已记录（此次服务之前已提交过，未重复记录）。"))
            return redirect(next_url)
    if request.method != "POST":
        audit.record(
            actor=actor, action="care.record_form_view", target=person, data={"service": service.code}
        )
    today = time.today()
    context = {
        "service": service,
        "person": person,
        "age": time.age_on(person.birth_date, today),
        "form": form,
        "next_url": next_url,
        "full": actor.can(Perm.PERSON_VIEW_FULL),
    }
    return render(request, "care/record.html", context, status=422 if request.method == "POST" else 200)


# --------------------------------------------------------------------------------------------- catalogue


def schedule_text(service: ServiceType) -> str:
    if service.schedule == Schedule.INTERVAL:
        return _("每 %(n)d 个月") % {"n": service.interval_months or 0}
    if service.schedule == Schedule.EVENT:
        kind = EventKind(service.event_kind).label if service.event_kind in EventKind.values else ""
        days = "、".join(f"{a}–{b}" if a != b else f"{a}" for a, b in service.event_windows)
        return _("%(event)s后第 %(days)s 天") % {"event": kind, "days": days}
    return str(Schedule(service.schedule).label) if service.schedule in Schedule.values else service.schedule


def _describe(spec) -> str:
    try:
        return conditions.describe(spec)
    except (DomainError, KeyError, TypeError, ValueError, AttributeError):
        return _("（条件有误）")


def catalogue(request):
    """服务项目: the catalogue as data — who is offered what, how often, by whom, and what is recorded."""
    actor = request.actor
    if not (actor.can(Perm.CARE_VIEW) or actor.can(Perm.CARE_MANAGE)):
        raise Http404
    kinds = dict(FacilityKind.choices)
    rows = [
        {
            "service": s,
            "schedule": schedule_text(s),
            "who": _describe(s.condition),
            "roles": [Role(r).label if r in Role.values else r for r in s.roles],
            "facility": kinds.get(s.facility_kind, ""),
        }
        for s in services.catalogue_list()
    ]
    return render(request, "care/catalogue.html", {"rows": rows, "can_manage": actor.can(Perm.CARE_MANAGE)})


def service_create(request):
    actor = request.actor
    actor.require(Perm.CARE_MANAGE)
    initial = {
        "schedule": Schedule.INTERVAL,
        "active": True,
        "lead_days": 14,
        "order": 100,
        "condition": '{"v": 1}',
    }
    form = ServiceTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_type_create(
                actor=actor, code=form.cleaned_data["code"], values=form.definition()
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已新增服务项目“%(s)s”。") % {"s": service.name})
            return redirect("care:catalogue")
    status = 422 if request.method == "POST" else 200
    return render(request, "care/service_form.html", {"form": form, "service": None}, status=status)


def service_edit(request, code):
    actor = request.actor
    actor.require(Perm.CARE_MANAGE)
    service = ServiceType.objects.filter(code=code).first()
    if service is None:
        raise Http404
    form = ServiceTypeForm(request.POST or None, initial=ServiceTypeForm.initial_for(service), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_type_update(
                actor=actor, service=service, values=form.definition(), version=form.cleaned_data["version"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("已保存“%(s)s”（第 %(v)d 版）。") % {"s": service.name, "v": service.version}
            )
            return redirect("care:catalogue")
    versions = (
        ServiceTypeVersion.objects.filter(service=service)
        .select_related("changed_by__user")
        .order_by("-version")
    )
    context = {"form": form, "service": service, "versions": versions}
    return render(request, "care/service_form.html", context, status=422 if request.method == "POST" else 200)


# --------------------------------------------------------------------------------------------- a person


def _on_request(actor, person: Person, offered: list[ServiceType], today) -> list[ServiceType]:
    """The on-request services (no worklist: 孕前优生检查, 孕期随访, 帮扶) the actor may record for this person
    and whose condition the person meets: the person's page is where they are recorded."""
    candidates = [s for s in offered if s.schedule == Schedule.ON_REQUEST and services.can_deliver(actor, s)]
    me = Person.objects.visible_to(actor).filter(pk=person.pk)
    out = []
    for s in candidates:
        try:
            if me.filter(conditions.compile_q(s.condition, today)).exists():
                out.append(s)
        except DomainError:
            continue  # a broken condition offers nothing; the catalogue page shows it as 条件有误
    return out


def person_services(request, person_id):
    """The services offered to and received by a person, for the person's page (loaded by htmx).

    Only the services the actor works with are listed (a volunteer sees household visits, not what a
    clinic did); clinical results show as 已服务/需随访 to those without the clinical permission.
    """
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    today = time.today()
    offered = list(services.services_for(actor))
    by_code = {s.code: s for s in offered}
    records = [r for r in services.person_records(actor, person) if r["service"] in by_code]
    for r in records:
        labels = {f["name"]: f["label"] for f in by_code[r["service"]].form}
        r["items"] = [(labels.get(k, k), v) for k, v in (r["data"] or {}).items()]
    dues = []
    for due in (
        Due.objects.visible_to(actor)
        .filter(person=person, service__in=offered)
        .select_related("service")
        .order_by("service__order", "due_on")
    ):
        status = worklists.status_of(due, due.service, today)
        dues.append(
            {
                "due": due,
                "status_label": worklists.STATUSES[status],
                "badge": STATUS_BADGES[status],
                "can_record": services.can_deliver(actor, due.service),
            }
        )
    audit.record(
        actor=actor, action="care.person_services_view", target=person, row_count=len(records) + len(dues)
    )
    context = {
        "person": person,
        "records": records,
        "dues": dues,
        "hidden_any": any(r["clinical_hidden"] for r in records),
        "recordable": _on_request(actor, person, offered, today),
        "can_refer": actor.can(Perm.CARE_RECORD) and actor.facility is None,
    }
    return render(request, "care/partials/_person_services.html", context)
