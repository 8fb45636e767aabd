"""Pages of the free pre-pregnancy eugenic check (免费孕前优生健康检查): the enrolments list, enrolling a couple from
the woman's page, an enrolment (status, consents, card, delivery, follow-ups), and the results form of clinic staff.

Thin: each parses a form, calls one service, and shows the page again with the service's errors (422) or
redirects. Who may do what is the selectors' (`can_enrol`, `can_examine`); anything else is a 404.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hearth.accounts.scoping import get_visible_or_404
from hearth.care.referrals import facilities_for
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error
from hearth.registry.models import Person, PersonStatus, Sex

from . import card, selectors, services
from .forms import (
    ConsentForm,
    DeliveryForm,
    EnrolForm,
    ExaminationForm,
    FollowUpForm,
    OutcomeForm,
    RescheduleForm,
)
from .models import Delivery, Examination, Partner, Status

PAGE = 100


def _viewer(request):
    return selectors.viewer_or_404(request.actor)


def enrolment_list(request):
    """The enrolments in the actor's scope (clinic staff: their station's), newest first; status only."""
    actor = _viewer(request)
    status = request.GET.get("status", "")
    if status not in Status.values:
        status = ""
    rows = list(selectors.enrolment_list(actor, status=status)[:PAGE])
    follow_up = set(
        Examination.objects.visible_to(actor)
        .filter(enrolment__in=rows, needs_follow_up=True)
        .values_list("enrolment_id", flat=True)
    )
    context = {
        "rows": [(e, e.pk in follow_up) for e in rows],
        "statuses": Status.choices,
        "status": status,
        "facility": actor.facility,
    }
    return render(request, "preconception/list.html", context)


# --------------------------------------------------------------------------------------------- enrol


def _men_choices(actor, woman: Person) -> list[tuple[str, str]]:
    """The man can be picked when he is the woman's registered spouse and the actor sees him; otherwise his
    name is typed (the API takes any person the actor sees)."""
    if woman.spouse_id is None:
        return []
    spouse = (
        Person.objects.visible_to(actor)
        .filter(pk=woman.spouse_id, sex=Sex.MALE, status=PersonStatus.ACTIVE)
        .first()
    )
    return [(str(spouse.public_id), spouse.name)] if spouse else []


def enrol(request, person_id):
    """孕前优生检查登记 from the woman's page: the man, the station, the date and the consents."""
    actor = request.actor
    if not selectors.can_enrol(actor):
        raise Http404
    woman = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    facilities = None if actor.facility is not None else facilities_for(woman)
    men = _men_choices(actor, woman)
    form = EnrolForm(request.POST or None, facilities=facilities, men=men)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            man = None
            if d["man"]:
                man = Person.objects.visible_to(actor).filter(public_id=d["man"]).first()
            try:
                enrolment, created = services.enrol(
                    actor=actor, woman=woman, man=man, man_name=d["man_name"], man_id_masked=d["man_id_masked"],
                    facility=d.get("facility") if facilities is not None else None, agreed_on=d["agreed_on"],
                    woman_consent=d["woman_consent"], man_consent=d["man_consent"],
                    outcome_consent=d["outcome_consent"],
                )  # fmt: skip
            except DomainError as exc:
                add_domain_error(form, exc)
                status = 422
            else:
                messages.success(request, _("已登记。") if created else _("此人已有进行中的登记。"))
                return redirect("preconception:enrolment_detail", public_id=enrolment.public_id)
        else:
            status = 422
    context = {
        "form": form,
        "woman": woman,
        "no_facility": facilities is not None and not facilities.exists(),
    }
    return render(request, "preconception/enrol.html", context, status=status)


# --------------------------------------------------------------------------------------------- one enrolment


def _detail(request, enrolment, *, bound: dict | None = None, status: int = 200):
    """The enrolment page; `bound` replaces one of its forms by the one just posted (with its errors)."""
    actor = request.actor
    view = selectors.enrolment_view(actor, enrolment)
    can_act = selectors.can_enrol(actor) or selectors.can_examine(actor)
    is_open = enrolment.status != Status.WITHDRAWN
    exams = {e["who"]: e for e in view["examinations"]}
    partners = []
    for who, label in Partner.choices:
        exam = exams.get(who)
        consent = enrolment.consent_of(who)
        partner = {
            "who": who,
            "label": label,
            "consent": consent,
            "exam": exam,
            "can_examine": is_open and consent and selectors.can_examine(actor)
            and not (exam and exam["delivery"]),
            "delivery_form": None,
        }  # fmt: skip
        if is_open and can_act and exam and exam["assessed"] and not exam["delivery"]:
            form = (bound or {}).get(f"delivery_{who}") or DeliveryForm(
                initial={"who": who, "method": "self"}, auto_id=f"id_{who}_%s"
            )
            partner["delivery_form"] = form
        partners.append(partner)
    follow_up_whos = [(e["who"], e["who_label"]) for e in view["examinations"] if e["needs_follow_up"]]
    follow_up_form = None
    if is_open and can_act and follow_up_whos:
        follow_up_form = (bound or {}).get("follow_up") or FollowUpForm()
        follow_up_form.fields["who"].choices = follow_up_whos
    outcome_form = None
    if is_open and selectors.can_examine(actor) and enrolment.outcome_consent:
        outcome_form = (bound or {}).get("outcome") or OutcomeForm()
    reschedule_form = None
    if is_open and can_act and enrolment.status == Status.ENROLLED:
        reschedule_form = (bound or {}).get("reschedule") or RescheduleForm(
            initial={"agreed_on": enrolment.agreed_on}
        )
    context = {
        "enrolment": enrolment,
        "view": view,
        "partners": partners,
        "can_act": can_act and is_open,
        "is_open": is_open,
        "follow_up_form": follow_up_form,
        "outcome_form": outcome_form,
        "reschedule_form": reschedule_form,
        "errors": (bound or {}).get("errors", []),
    }
    return render(request, "preconception/detail.html", context, status=status)


def enrolment_detail(request, public_id):
    actor = _viewer(request)
    return _detail(request, selectors.get_enrolment_or_404(actor, public_id))


def service_card(request, public_id):
    """免费服务卡 (PDF): the couple's names, the station, the agreed date and what to bring; no results."""
    actor = _viewer(request)
    enrolment = selectors.get_enrolment_or_404(actor, public_id)
    pdf = card.card_pdf(actor=actor, enrolment=enrolment)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="service-card-{enrolment.public_id}.pdf"'
    return response


def _acting(request, public_id, *, clinic_only: bool = False):
    actor = request.actor
    return actor, selectors.acting_on_enrolment_or_404(actor, public_id, clinic_only=clinic_only)


def _done(request, enrolment, message: str):
    messages.success(request, message)
    return redirect("preconception:enrolment_detail", public_id=enrolment.public_id)


def examine(request, public_id, who):
    """检查结果 (clinic staff): one partner's items with 未查 / 未见异常 / 异常 and the value, risk and advice."""
    if who not in Partner.values:
        raise Http404
    actor, enrolment = _acting(request, public_id, clinic_only=True)
    exam = Examination.objects.visible_to(actor).filter(enrolment=enrolment, who=who).first()
    status = 200
    if request.method == "POST":
        form = ExaminationForm(request.POST, who=who)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.record_examination(
                    actor=actor, enrolment=enrolment, who=who, items=form.items_value(), risk=d["risk"],
                    advice=d["advice"], examined_on=d["examined_on"],
                )  # fmt: skip
            except DomainError as exc:
                add_domain_error(form, exc)
                status = 422
            else:
                return _done(request, enrolment, _("已保存检查结果。"))
        else:
            status = 422
    else:
        form = ExaminationForm(initial=ExaminationForm.initial_for(exam) if exam else None, who=who)
        if exam is not None:
            selectors.audit_results_view(actor, enrolment)
    context = {
        "enrolment": enrolment,
        "who": who,
        "who_label": Partner(who).label,
        "person_name": enrolment.woman.name if who == Partner.WOMAN else enrolment.man_display,
        "consent": enrolment.consent_of(who),
        "form": form,
        "delivered": exam is not None
        and Delivery.objects.visible_to(actor).filter(examination=exam).exists(),
    }
    return render(request, "preconception/examine.html", context, status=status)


def _posted(request, enrolment, form, key: str, call, message: str):
    """Run one action from a posted form: its errors are shown on the enrolment page (422)."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return _done(request, enrolment, message)
    bound = {key: form, "errors": [e for errs in form.errors.values() for e in errs]}
    return _detail(request, enrolment, bound=bound, status=422)


@require_POST
def deliver(request, public_id):
    actor, enrolment = _acting(request, public_id)
    who = request.POST.get("who", "")
    form = DeliveryForm(request.POST, auto_id=f"id_{who}_%s" if who in Partner.values else "id_%s")

    def call(d):
        services.deliver(actor=actor, enrolment=enrolment, who=d["who"], method=d["method"],
                         recipient=d["recipient"], delivered_on=d["delivered_on"])  # fmt: skip

    return _posted(request, enrolment, form, f"delivery_{who}", call, _("已记录送达。"))


@require_POST
def follow_up(request, public_id):
    actor, enrolment = _acting(request, public_id)
    form = FollowUpForm(request.POST)

    def call(d):
        services.add_follow_up(actor=actor, enrolment=enrolment, who=d["who"], note=d["note"],
                               occurred_on=d["occurred_on"])  # fmt: skip

    return _posted(request, enrolment, form, "follow_up", call, _("已记录随访。"))


@require_POST
def outcome(request, public_id):
    actor, enrolment = _acting(request, public_id, clinic_only=True)
    form = OutcomeForm(request.POST)

    def call(d):
        services.record_outcome(actor=actor, enrolment=enrolment, kind=d["kind"], occurred_on=d["occurred_on"],
                                note=d["note"])  # fmt: skip

    return _posted(request, enrolment, form, "outcome", call, _("已记录妊娠结局随访。"))


@require_POST
def consent(request, public_id):
    actor, enrolment = _acting(request, public_id)
    form = ConsentForm(request.POST)

    def call(d):
        services.consent_set(actor=actor, enrolment=enrolment, who=d["who"], given=d["given"])

    return _posted(request, enrolment, form, "consent", call, _("已记录。"))


@require_POST
def reschedule(request, public_id):
    actor, enrolment = _acting(request, public_id)
    form = RescheduleForm(request.POST)

    def call(d):
        services.reschedule(actor=actor, enrolment=enrolment, agreed_on=d["agreed_on"])

    return _posted(request, enrolment, form, "reschedule", call, _("已更新约定检查日期。"))


@require_POST
def withdraw(request, public_id):
    """本人退出: no reason asked, nothing more recorded."""
    actor, enrolment = _acting(request, public_id)
    try:
        services.withdraw(actor=actor, enrolment=enrolment)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("preconception:enrolment_detail", public_id=enrolment.public_id)
    return _done(request, enrolment, _("已记录本人退出。"))
