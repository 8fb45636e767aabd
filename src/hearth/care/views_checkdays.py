"""Pages for check days (集中康检日): the list with attendance rates, planning a day, the day's attendance sheet
(made for a phone: one tap per person, htmx where there is JS, plain forms where there is none), and planning a
make-up day (补检)."""

import math
import uuid
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, as_list
from hearth.core.forms import DateInput, StyledForm, add_domain_error

from . import checkdays, services
from .models import AbsenceReason, CheckDay, Invitation, InvitationStatus

SHEET_PAGE = 100
LIST_PAGE = 30

# --------------------------------------------------------------------------------------------- forms


class _DayFields(StyledForm):
    held_on = forms.DateField(label=_lazy("康检日期"), widget=DateInput())
    location = forms.CharField(
        label=_lazy("地点"), max_length=checkdays.LOCATION_MAX, help_text=_lazy("如 社区卫生服务站二楼")
    )
    facility = forms.ModelChoiceField(
        label=_lazy("服务机构"), queryset=None, required=False, empty_label=_lazy("（不指定）"),
        to_field_name="public_id",
    )  # fmt: skip

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities


class PlanForm(_DayFields):
    """安排康检日: a periodic service the actor delivers, a community in scope, the date and place."""

    service = forms.ModelChoiceField(
        label=_lazy("服务项目"), queryset=None, to_field_name="code", empty_label=_lazy("请选择")
    )
    place = forms.ModelChoiceField(
        label=_lazy("社区"), queryset=None, to_field_name="public_id", empty_label=_lazy("请选择")
    )
    field_order = ["service", "place", "held_on", "location", "facility"]

    def __init__(self, *args, services, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["place"].queryset = places.select_related("parent")
        self.fields["place"].label_from_instance = lambda p: (
            f"{p.parent.name} / {p.name}" if p.parent_id else p.name
        )

    def values(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("service", "place", "held_on", "location", "facility")}


class MakeupForm(_DayFields):
    """安排补检: the date and place of the make-up day."""

    def values(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("held_on", "location", "facility")}


class AttendanceForm(forms.Form):
    """One tap: the person (public id), attended or absent, the reason when absent, the tap's token. On the
    sheet a reason button alone means absent (one form per line: 到场, or 未到 and a reason)."""

    person_id = forms.UUIDField()
    status = forms.ChoiceField(
        choices=[(InvitationStatus.ATTENDED, ""), (InvitationStatus.ABSENT, "")], required=False
    )
    reason = forms.CharField(required=False, max_length=20)
    note = forms.CharField(required=False, max_length=checkdays.NOTE_MAX)
    client_token = forms.UUIDField(required=False)
    next = forms.CharField(required=False, max_length=500)


# --------------------------------------------------------------------------------------------- helpers


def _pct(rate: float | None) -> str:
    """94.7%, not 95%: a rate just under its target must not read as meeting it."""
    if rate is None:
        return "—"
    text = f"{math.floor(rate * 1000 + 1e-9) / 10:.1f}"  # rounded down
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _rate_view(rates: checkdays.Rates) -> dict:
    """The two rates as the pages show them: percent, bar value, the target beside it, whether it is met."""

    def one(rate, target, met):
        return {
            "pct": _pct(rate),
            "value": 0 if rate is None else round(rate * 100),
            "target": _pct(target),
            "met": met,
        }

    return {
        "r": rates,
        "same_day": one(rates.same_day_rate, rates.same_day_target, rates.same_day_met),
        "after_makeup": one(rates.after_makeup_rate, rates.after_makeup_target, rates.after_makeup_met),
    }


def _day(actor, day_id) -> CheckDay:
    actor.require(Perm.CARE_VIEW)
    qs = checkdays.days_for(actor).select_related("service", "place", "facility", "makeup_of")
    return get_visible_or_404(qs, actor, day_id)


def _row(inv: Invitation) -> dict:
    """One line of the sheet. Its form carries a token made afresh each time the line is drawn: a double tap
    (or a retry) sends the same token and records once; a tap after the line was redrawn is a new one."""
    return {
        "inv": inv,
        "token": uuid.uuid4(),
        "reason_label": AbsenceReason(inv.reason).label if inv.reason else "",
    }


def _sheet_context(actor, day: CheckDay) -> dict:
    counts = checkdays.day_counts(day)
    return {
        "day": day,
        "counts": counts,
        "rates": _rate_view(checkdays.checkday_rates(day)),
        "can_record": checkdays.may_record(actor, day),
        "can_correct": checkdays.may_correct(day),
        "reasons": AbsenceReason.choices,
        "today": time.today(),
    }


# --------------------------------------------------------------------------------------------- pages


def checkday_list(request):
    """集中康检日: the days to come and the past ones, with attendance on the day and after make-up."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    today = time.today()
    qs = checkdays.days_for(actor).select_related("service", "place", "facility", "makeup_of")
    upcoming = list(qs.filter(held_on__gte=today).order_by("held_on", "id")[:100])
    past = Paginator(qs.filter(held_on__lt=today).order_by("-held_on", "-id"), LIST_PAGE).get_page(
        request.GET.get("page")
    )
    rates = checkdays.rates_for([*upcoming, *past.object_list])

    def rows(days):
        return [{"day": d, "rates": _rate_view(rates[d.origin_id or d.pk])} for d in days]

    context = {
        "upcoming": rows(upcoming),
        "past": rows(past.object_list),
        "page": past,
        "today": today,
        "can_plan": checkdays.can_plan(actor),
    }
    return render(request, "care/checkday_list.html", context)


def checkday_new(request):
    """安排康检日: the community's eligible are invited when the day is saved."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    services_qs = checkdays.plannable_services(actor)
    places = checkdays.communities_for(actor)
    if not services_qs.exists() or not places.exists():
        raise Http404
    initial = {"held_on": time.today()}
    if places.count() == 1:
        initial["place"] = places.get()
    form = PlanForm(
        request.POST or None, services=services_qs, places=places, facilities=checkdays.facilities_for(actor),
        initial=initial,
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            day = checkdays.checkday_plan(actor=actor, **form.values())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            n = day.invitations.count()
            messages.success(request, _("已安排康检日，邀请 %(n)d 人。") % {"n": n})
            return redirect("care:checkday_detail", day_id=day.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "care/checkday_form.html", {"form": form, "makeup_of": None}, status=status)


def checkday_detail(request, day_id):
    """The attendance sheet (点名): counters and rates on top, one line per invited person with 到场 / 未到."""
    actor = request.actor
    day = _day(actor, day_id)
    status = request.GET.get("status", "")
    if status not in InvitationStatus.values:
        status = ""
    q = (request.GET.get("q") or "").strip()[:50]
    invitations = (
        Invitation.objects.visible_to(actor)
        .filter(check_day=day)
        .select_related("person", "person__dwelling")
        .order_by("place_path", "person__dwelling__full_address", "person_id")
    )
    if status:
        invitations = invitations.filter(status=status)
    if q:
        invitations = invitations.filter(person__name__contains=q)
    page = Paginator(invitations, SHEET_PAGE).get_page(request.GET.get("page"))
    rows = [_row(inv) for inv in page.object_list]
    audit.record(
        actor=actor, action="care.checkday_view", target=day, row_count=len(rows),
        data={"status": status, "q": bool(q)},
    )  # fmt: skip
    context = _sheet_context(actor, day)
    makeup = checkdays.days_for(actor).filter(makeup_of=day).first()
    pending_makeup = (
        context["counts"]["pending"] + context["counts"]["absent"] - context["counts"]["declined"]
    )
    context |= {
        "rows": rows,
        "page": page,
        "status": status,
        "q": q,
        "tabs": _tabs(context["counts"]),
        "makeup": makeup,
        "can_makeup": makeup is None and pending_makeup > 0 and checkdays.may_plan_makeup(actor, day),
        "here": request.get_full_path(),
    }
    return render(request, "care/checkday_detail.html", context)


def _tabs(counts: dict) -> list[dict]:
    """The sheet's tabs (全部, 待点名, 到场, 未到) with their counts."""
    return [{"key": "", "label": _("全部"), "count": counts["invited"]}] + [
        {"key": k, "label": label, "count": counts[{"invited": "pending"}.get(k, k)]}
        for k, label in InvitationStatus.choices
    ]


def _local_next(day: CheckDay, raw: str) -> str:
    """Back to the sheet the tap came from (its tab, search and page), never anywhere else."""
    base = reverse("care:checkday_detail", kwargs={"day_id": day.public_id})
    parts = urlsplit(raw or "")
    if raw and not parts.scheme and not parts.netloc and parts.path == base:
        return f"{base}?{parts.query}" if parts.query else base
    return base


@require_POST
def attendance(request, day_id):
    """One tap (到场, or 未到 with a reason). With htmx: the updated line (and the counters, out of band); a
    refusal is shown in the line itself (htmx swaps only 2xx answers). Without JS: back to the sheet."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    day = _day(actor, day_id)
    form = AttendanceForm(request.POST)
    if not form.is_valid() and "person_id" in form.errors:
        raise Http404  # a malformed id is as unknown as a foreign one
    person_id = form.cleaned_data.get("person_id") if form.is_valid() else form.data.get("person_id")
    invitation = (
        Invitation.objects.visible_to(actor)
        .filter(check_day=day, person__public_id=person_id)
        .select_related("person", "person__dwelling")
        .first()
    )
    if invitation is None or not services.can_deliver(actor, day.service):
        raise Http404
    error = ""
    changed = False
    if not form.is_valid():
        error = _("到场情况：请选择到场或未到。")
    else:
        data = form.cleaned_data
        status = data["status"] or (InvitationStatus.ABSENT if data["reason"] else "")
        try:
            invitation, changed = checkdays.attendance_record(
                actor=actor, invitation=invitation, status=status, reason=data["reason"],
                note=data["note"], client_token=data["client_token"],
            )  # fmt: skip
        except DomainError as exc:
            if exc.code == "permission.denied":
                raise Http404 from None
            error = " ".join(str(e.message) for e in as_list(exc))
    if request.htmx:
        here = _local_next(day, form.data.get("next", ""))
        shown = parse_qs(urlsplit(here).query)  # the tab and search the sheet shows, for the tabs' links
        context = _sheet_context(actor, day)
        context |= {
            "r": _row(invitation),
            "error": error,
            "oob": True,
            "here": here,
            "tabs": _tabs(context["counts"]),
            "status": shown.get("status", [""])[0],
            "q": shown.get("q", [""])[0],
        }
        return render(request, "care/checkday_detail.html#tapped", context)
    if error:
        messages.error(request, error)
    elif changed:
        label = InvitationStatus(invitation.status).label
        messages.success(request, _("已记录：%(p)s，%(s)s。") % {"p": invitation.person.name, "s": label})
    else:
        messages.info(request, _("已记录（之前已提交过，未重复记录）。"))
    target = _local_next(day, form.data.get("next", ""))
    return redirect(f"{target}#inv-{invitation.person.public_id}")


def checkday_makeup(request, day_id):
    """安排补检: a make-up day for the day's absent who did not decline (and those never recorded)."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    day = _day(actor, day_id)
    if not checkdays.may_plan_makeup(actor, day):
        raise Http404
    initial = {"held_on": time.today(), "location": day.location, "facility": day.facility}
    form = MakeupForm(
        request.POST or None, facilities=checkdays.facilities_serving(day.place), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            makeup = checkdays.checkday_makeup(actor=actor, day=day, **form.values())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            n = makeup.invitations.count()
            messages.success(request, _("已安排补检，邀请 %(n)d 人。") % {"n": n})
            return redirect("care:checkday_detail", day_id=makeup.public_id)
    counts = checkdays.day_counts(day)
    context = {
        "form": form,
        "makeup_of": day,
        "to_invite": counts["pending"] + counts["absent"] - counts["declined"],
    }
    return render(
        request, "care/checkday_form.html", context, status=422 if request.method == "POST" else 200
    )
