"""Pages for change reports (变动报告) from building volunteers, and for households (户)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import get_visible_or_404
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.core.forms import DateInput, StyledForm, add_domain_error

from . import households, reports, selectors, services
from .codes import DocumentType, RelationToHead
from .models import ChangeKind, ChangeReport, ChangeStatus, ResidenceType, Sex

PAGE = 30
_BLANK = [("", "—")]


# --- forms -------------------------------------------------------------------------------------------


class ReportForm(StyledForm):
    """The volunteer's form: where, what, a few words. Lengths are checked by the service (one message)."""

    dwelling = forms.ModelChoiceField(label=gettext_lazy("房屋"), queryset=None, empty_label="—")
    kind = forms.ChoiceField(
        label=gettext_lazy("发生了什么"),
        choices=ChangeKind.choices,
        # Big toggle buttons (Bootstrap's btn-check) rather than small radio dots: thumbs on phones.
        widget=forms.RadioSelect(attrs={"class": "btn-check", "autocomplete": "off"}),
    )
    text = forms.CharField(
        label=gettext_lazy("情况说明"),
        required=False,
        help_text=gettext_lazy("如姓名、日期、从哪里来或到哪里去；不要填写身份证号码。"),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": reports.TEXT_MAX}),
    )

    def __init__(self, *args, dwellings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dwelling"].queryset = dwellings
        self.fields["dwelling"].to_field_name = "public_id"
        self.fields["dwelling"].widget.attrs["class"] = "form-select form-select-lg"
        self.fields["text"].widget.attrs["class"] = "form-control form-control-lg"


def _person_choices(persons) -> list[tuple[str, str]]:
    return _BLANK + [
        (str(p.public_id), f"{p.name}（{p.get_sex_display()}，{p.birth_date.year}）") for p in persons
    ]


class ConfirmForm(StyledForm):
    """The officer's confirmation. Only the fields of the report's kind are kept; the service checks them."""

    FIELDS = {
        ChangeKind.MOVED_IN: (
            "mode",
            "occurred_on",
            "id_type",
            "id_number",
            "name",
            "sex",
            "birth_date",
            "residence_type",
            "hukou_code",
            "phone",
        ),
        ChangeKind.MOVED_OUT: ("person", "occurred_on", "to_region", "to_address"),
        ChangeKind.BIRTH: ("mother", "name", "sex", "birth_date", "id_number"),
        ChangeKind.DEATH: ("person", "occurred_on"),
        ChangeKind.MARRIAGE: ("person", "occurred_on", "spouse", "spouse_id_number"),
        ChangeKind.OTHER: (),
    }

    mode = forms.ChoiceField(
        label=gettext_lazy("迁入人员"),
        choices=[
            (reports.MOVE_IN_NEW, gettext_lazy("新登记（系统中还没有此人）")),
            (reports.MOVE_IN_EXISTING, gettext_lazy("已在系统中登记（按证件号码查找）")),
        ],
        initial=reports.MOVE_IN_NEW,
        widget=forms.RadioSelect,
    )
    person = forms.ChoiceField(label=gettext_lazy("人员（该房屋的在册居民）"), required=False)
    mother = forms.ChoiceField(label=gettext_lazy("母亲（该房屋的在册居民）"), required=False)
    occurred_on = forms.DateField(
        label=gettext_lazy("发生日期"),
        required=False,
        widget=DateInput(),
    )
    id_type = forms.ChoiceField(
        label=gettext_lazy("证件类型"),
        choices=DocumentType.choices,
        initial=DocumentType.RESIDENT_ID,
        required=False,
    )
    id_number = forms.CharField(
        label=gettext_lazy("证件号码"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50, required=False)
    sex = forms.ChoiceField(
        label=gettext_lazy("性别"), choices=Sex.choices, required=False, widget=forms.RadioSelect
    )
    birth_date = forms.DateField(
        label=gettext_lazy("出生日期"),
        required=False,
        widget=DateInput(),
    )
    residence_type = forms.ChoiceField(
        label=gettext_lazy("居住类型"), choices=_BLANK + ResidenceType.choices, required=False
    )
    hukou_code = forms.CharField(label=gettext_lazy("户籍地代码（可不填）"), max_length=6, required=False)
    phone = forms.CharField(
        label=gettext_lazy("联系电话（可不填）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    to_region = forms.CharField(label=gettext_lazy("去向地区代码（可不填）"), max_length=6, required=False)
    to_address = forms.CharField(label=gettext_lazy("去向地址（可不填）"), max_length=150, required=False)
    spouse = forms.ChoiceField(label=gettext_lazy("配偶（同住的，可不选）"), required=False)
    spouse_id_number = forms.CharField(
        label=gettext_lazy("配偶证件号码（不同住的，可不填）"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    note = forms.CharField(
        label=gettext_lazy("处理说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": reports.REASON_MAX}),
    )

    def __init__(self, *args, kind: str, residents, **kwargs):
        super().__init__(*args, **kwargs)
        keep = set(self.FIELDS[kind]) | {"note"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "occurred_on" in self.fields:
            self.fields["occurred_on"].initial = time.today()
        if kind == ChangeKind.MOVED_IN:
            self.fields["id_number"].help_text = _(
                "新登记时填本人的号码（没有可不填）；已登记的人员按此号码查找。"
            )
        elif kind == ChangeKind.BIRTH:
            self.fields["id_number"].label = _("公民身份号码（已申领的可填）")
        for name in ("person", "spouse"):
            if name in self.fields:
                self.fields[name].choices = _person_choices(residents)
        if "mother" in self.fields:
            self.fields["mother"].choices = _person_choices(p for p in residents if p.sex == Sex.FEMALE)
        if kind == ChangeKind.OTHER:
            self.fields["note"].label = _("处理说明（必填）")

    def decision(self) -> reports.Decision:
        d = self.cleaned_data
        values = {k: d.get(k) for k in reports.NEW_PERSON_FIELDS if k in d}
        return reports.Decision(
            occurred_on=d.get("occurred_on"),
            note=d.get("note", ""),
            mode=d.get("mode") or reports.MOVE_IN_NEW,
            values=values,
            id_type=d.get("id_type") or DocumentType.RESIDENT_ID,
            id_number=d.get("id_number", ""),
            person=d.get("person", ""),
            mother=d.get("mother", ""),
            spouse=d.get("spouse", ""),
            spouse_id_number=d.get("spouse_id_number", ""),
            to_region=d.get("to_region", ""),
            to_address=d.get("to_address", ""),
        )


class RejectForm(StyledForm):
    reason = forms.CharField(
        label=gettext_lazy("退回原因（信息员会看到）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": reports.REASON_MAX}),
    )


class HouseholdForm(StyledForm):
    """The head (one radio over the residents) and each resident's relation to the head."""

    head = forms.ChoiceField(
        label=gettext_lazy("户主"),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        required=False,
    )

    def __init__(self, *args, residents, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.residents = list(residents)
        self.fields["head"].choices = [(str(p.public_id), p.name) for p in self.residents]
        relations = [(v, label) for v, label in RelationToHead.choices if v != RelationToHead.HEAD]
        for p in self.residents:
            initial = ""
            if household is not None and p.household_id == household.pk and p.pk != household.head_id:
                initial = p.relation_to_head
            self.fields[self.relation_field(p)] = forms.ChoiceField(
                label=p.name,
                choices=[("", _("不在本户")), *relations],
                required=False,
                initial=initial,
            )
            self.fields[self.relation_field(p)].widget.attrs["class"] = "form-select"
        if household is not None and household.head_id in {p.pk for p in self.residents}:
            self.fields["head"].initial = str(household.head.public_id)

    @staticmethod
    def relation_field(person) -> str:
        return f"rel_{person.public_id.hex}"

    def head_and_members(self):
        by_id = {str(p.public_id): p for p in self.residents}
        head = by_id.get(self.cleaned_data.get("head") or "")
        members = {}
        for p in self.residents:
            relation = self.cleaned_data.get(self.relation_field(p)) or ""
            if p is not head and relation:
                members[p] = relation
        return head, members


# --- change reports ----------------------------------------------------------------------------------


def report_create(request):
    actor = request.actor
    actor.require(Perm.CHANGE_REPORT_CREATE)
    dwellings = reports.report_dwellings(actor)
    form = ReportForm(
        request.POST or None, dwellings=dwellings, initial={"dwelling": request.GET.get("dwelling")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reports.change_report_create(
                actor=actor, dwelling=data["dwelling"], kind=data["kind"], text=data["text"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已报告，社区专干确认后会在此显示结果。"))
            return redirect("registry:report_list")
    return render(request, "registry/reports/report_form.html", {"form": form})


def report_list(request):
    actor = request.actor
    status = request.GET.get("status", "")
    if status not in ChangeStatus.values:
        status = ""
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    rows, total = reports.change_report_list(actor=actor, status=status, limit=PAGE, offset=(page - 1) * PAGE)
    return render(
        request,
        "registry/reports/report_list.html",
        {
            "rows": rows,
            "total": total,
            "status": status,
            "statuses": ChangeStatus.choices,
            "page": page,
            "has_next": page * PAGE < total,
            "deciding": actor.can(Perm.CHANGE_REPORT_DECIDE),
            "can_report": actor.can(Perm.CHANGE_REPORT_CREATE),
        },
    )


def _detail(request, report, *, confirm_form=None, reject_form=None):
    actor = request.actor
    deciding = actor.can(Perm.CHANGE_REPORT_DECIDE) and report.status == ChangeStatus.PENDING
    residents = reports.report_residents(actor, report) if deciding else []
    if deciding and confirm_form is None:
        confirm_form = ConfirmForm(kind=report.kind, residents=residents)
    events = []
    if actor.can(Perm.CHANGE_REPORT_DECIDE) and report.status == ChangeStatus.CONFIRMED:
        events = reports.report_events(actor, report)
    return render(
        request,
        "registry/reports/report_detail.html",
        {
            "report": report,
            "deciding": deciding,
            "residents": [selectors.person_row(p, actor) for p in residents],
            "confirm_form": confirm_form,
            "reject_form": reject_form or RejectForm(),
            "events": events,
            "officer": actor.can(Perm.CHANGE_REPORT_DECIDE),
        },
    )


def report_detail(request, public_id):
    report = reports.change_report_open(actor=request.actor, public_id=public_id)
    return _detail(request, report)


def _decidable(actor, public_id) -> ChangeReport:
    actor.require(Perm.CHANGE_REPORT_DECIDE)
    return get_visible_or_404(reports.change_reports_for(actor), actor, public_id)


def _refused_as_decided(request, report, exc: DomainError):
    """Someone else decided first: say so at the top of the page showing the decision."""
    messages.error(request, str(exc.message))
    return redirect("registry:report_detail", public_id=report.public_id)


@require_POST
def report_confirm(request, public_id):
    actor = request.actor
    report = _decidable(actor, public_id)
    form = ConfirmForm(request.POST, kind=report.kind, residents=reports.report_residents(actor, report))
    if form.is_valid():
        try:
            reports.change_report_confirm(actor=actor, report=report, decision=form.decision())
        except DomainError as exc:
            if exc.code == "report.decided":
                return _refused_as_decided(request, report, exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已确认变动报告。"))
            return redirect("registry:report_list")
    # Shown again with the errors: a read of the report like any other (audited).
    report = reports.change_report_open(actor=actor, public_id=public_id)
    return _detail(request, report, confirm_form=form)


@require_POST
def report_reject(request, public_id):
    actor = request.actor
    report = _decidable(actor, public_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            reports.change_report_reject(actor=actor, report=report, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            if exc.code == "report.decided":
                return _refused_as_decided(request, report, exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已退回变动报告。"))
            return redirect("registry:report_list")
    report = reports.change_report_open(actor=actor, public_id=public_id)
    return _detail(request, report, reject_form=form)


# --- households --------------------------------------------------------------------------------------


def household_detail(request, public_id):
    actor = request.actor
    household = households.household_open(actor=actor, public_id=public_id)
    view = households.household_view(actor=actor, household=household)
    return render(
        request,
        "registry/households/household_detail.html",
        {
            "household": household,
            "view": view,
            "full": actor.can(Perm.PERSON_VIEW_FULL),
            "can_edit": actor.can(Perm.PERSON_CHANGE),
        },
    )


def dwelling_household(request, public_id):
    """(Re)form the household of a dwelling from its current residents."""
    actor = request.actor
    dwelling = households.dwelling_open(actor=actor, public_id=public_id)
    residents = list(households.dwelling_residents(actor=actor, dwelling=dwelling))
    current = households.dwelling_household(dwelling)
    form = HouseholdForm(request.POST or None, residents=residents, household=current)
    if request.method == "POST" and form.is_valid():
        head, members = form.head_and_members()
        try:
            household = services.household_set(actor=actor, dwelling=dwelling, head=head, members=members)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已保存户信息。"))
            return redirect("registry:household_detail", public_id=household.public_id)
    elif request.method != "POST":
        audit.record(actor=actor, action="household.form", target=dwelling, row_count=len(residents))
    rows = [
        (selectors.person_row(p, actor), radio, form[form.relation_field(p)])
        for p, radio in zip(residents, form["head"], strict=True)
    ]
    return render(
        request,
        "registry/households/household_form.html",
        {"form": form, "dwelling": dwelling, "rows": rows, "household": current},
    )
