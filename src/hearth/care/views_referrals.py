"""Pages of referrals and enrolments (转介与登记): an officer refers a person to a facility; clinic staff see
their facility's persons and enrol one who comes in with an ID card."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.core.errors import DomainError
from hearth.core.forms import StyledForm, add_domain_error
from hearth.registry.models import Person

from . import referrals
from .models import ServiceType

PAGE = 100


class _ServiceChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class ReferForm(StyledForm):
    facility = forms.ModelChoiceField(label=_lazy("服务机构"), queryset=None, required=False)
    service = _ServiceChoice(label=_lazy("服务项目"), queryset=ServiceType.objects.filter(active=True),
                             required=False)  # fmt: skip
    reason = forms.CharField(label=_lazy("事由"), required=False, max_length=400)
    consent = forms.BooleanField(label=_lazy("本人同意转介"), required=False)

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities


class EnrolForm(StyledForm):
    id_number = forms.CharField(label=_lazy("证件号码"), max_length=40, required=False)
    service = _ServiceChoice(label=_lazy("服务项目"), queryset=ServiceType.objects.filter(active=True),
                             required=False)  # fmt: skip
    reason = forms.CharField(label=_lazy("事由"), required=False, max_length=400)
    consent = forms.BooleanField(label=_lazy("本人同意在本机构登记"), required=False)


def referral_list(request):
    """Officers: referrals of persons in scope; clinic staff: their facility's persons, and the enrol form."""
    actor = request.actor
    actor.require(Perm.CARE_VIEW)
    show_closed = request.GET.get("closed") == "1"
    qs = referrals.referrals_for(actor).select_related("person", "facility", "service")
    if not show_closed:
        qs = qs.filter(closed_at__isnull=True)
    rows = list(qs[:PAGE])
    enrol_form = None
    status = 200
    if actor.facility is not None and actor.can(Perm.CARE_RECORD):
        enrol_form = EnrolForm(request.POST or None)
        if request.method == "POST" and enrol_form.is_valid():
            d = enrol_form.cleaned_data
            try:
                referral, created = referrals.enrol(
                    actor=actor, id_number=d["id_number"], service=d["service"], reason=d["reason"],
                    consent=d["consent"],
                )  # fmt: skip
            except DomainError as exc:
                add_domain_error(enrol_form, exc)
                status = 422
            else:
                messages.success(
                    request,
                    (_("已登记：%(p)s。") if created else _("%(p)s 已在本机构登记。"))
                    % {"p": referral.person.name},
                )
                return redirect("registry:person_detail", public_id=referral.person.public_id)
    elif request.method == "POST":
        raise Http404
    context = {"rows": rows, "enrol_form": enrol_form, "show_closed": show_closed, "facility": actor.facility}
    return render(request, "care/referrals.html", context, status=status)


def refer(request, person_id):
    """转介: an officer refers a person to a facility serving their place, with the person's agreement."""
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    if actor.facility is not None:
        raise Http404
    person = get_visible_or_404(Person.objects.select_related("dwelling"), actor, person_id)
    form = ReferForm(request.POST or None, facilities=referrals.facilities_for(person))
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            _referral, created = referrals.refer(
                actor=actor, person=person, facility=d["facility"], service=d["service"], reason=d["reason"],
                consent=d["consent"],
            )  # fmt: skip
        except DomainError as exc:
            add_domain_error(form, exc)
            status = 422
        else:
            messages.success(request, _("已转介。") if created else _("此人已转介到该机构。"))
            return redirect("registry:person_detail", public_id=person.public_id)
    elif request.method == "POST":
        status = 422
    return render(request, "care/refer.html", {"form": form, "person": person}, status=status)


@require_POST
def referral_close(request, public_id):
    actor = request.actor
    actor.require(Perm.CARE_RECORD)
    referral = referrals.referrals_for(actor).filter(public_id=public_id).first()
    if referral is None:
        raise Http404
    try:
        referrals.close(actor=actor, referral=referral)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已结束转介。"))
    return redirect("care:referral_list")
