"""Forms of the pre-pregnancy check pages. They only turn posted text into the values the services take; the
services check them and name each problem (mapped back onto these fields by `add_domain_error`)."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import DateInput, StyledForm

from .items import items_for
from .models import DeliveryMethod, OutcomeKind, Partner, Risk


class _FacilityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class EnrolForm(StyledForm):
    man = forms.ChoiceField(label=_("男方"), required=False)
    man_name = forms.CharField(label=_("男方姓名"), max_length=100, required=False,
                               help_text=_("男方不在本系统登记时填写。"))  # fmt: skip
    man_id_masked = forms.CharField(
        label=_("男方证件号码后四位"), max_length=40, required=False,
        help_text=_("只保存后四位，如 ****1234。"),
    )  # fmt: skip
    facility = _FacilityChoice(label=_("检查机构"), queryset=None, required=False)
    agreed_on = forms.DateField(label=_("约定检查日期"), required=False, widget=DateInput())
    woman_consent = forms.BooleanField(label=_("女方本人同意登记和检查"), required=False)
    man_consent = forms.BooleanField(label=_("男方本人同意检查"), required=False)
    outcome_consent = forms.BooleanField(label=_("女方同意日后接受妊娠结局随访"), required=False)

    def __init__(self, *args, facilities=None, men=(), **kwargs):
        super().__init__(*args, **kwargs)
        if facilities is None:
            del self.fields["facility"]
        else:
            self.fields["facility"].queryset = facilities
        self.fields["man"].choices = [("", _("不在本系统登记（填写姓名）")), *men]


class ExaminationForm(StyledForm):
    """One partner's items (未查 / 未见异常 / 异常, and the value), the risk category and advice."""

    examined_on = forms.DateField(label=_("检查日期"), required=False, widget=DateInput())
    risk = forms.ChoiceField(label=_("风险评估"), required=False,
                             choices=[("", _("暂未评估")), *Risk.choices])  # fmt: skip
    advice = forms.CharField(label=_("咨询指导建议"), required=False, max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip

    STATES = [("", _("未查")), ("normal", _("未见异常")), ("abnormal", _("异常"))]

    def __init__(self, *args, who: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.item_rows = []
        for item in items_for(who):
            state = forms.ChoiceField(label=item.label, choices=self.STATES, required=False)
            value = forms.CharField(label=_("结果"), max_length=400, required=False)
            state.widget.attrs["class"] = "form-select"
            value.widget.attrs["class"] = "form-control"
            value.widget.attrs["aria-label"] = format_lazy("{}：{}", item.label, _("结果"))
            self.fields[f"{item.code}__state"] = state
            self.fields[f"{item.code}__value"] = value
            self.item_rows.append((item, f"{item.code}__state", f"{item.code}__value"))

    @property
    def items_bound(self):
        return [(item, self[s], self[v]) for item, s, v in self.item_rows]

    @staticmethod
    def initial_for(exam) -> dict:
        initial = {"examined_on": exam.examined_on, "risk": exam.risk, "advice": exam.advice}
        for code, entry in exam.items.items():
            initial[f"{code}__state"] = "abnormal" if entry.get("abnormal") else "normal"
            initial[f"{code}__value"] = entry.get("value", "")
        return initial

    def items_value(self) -> dict:
        out = {}
        for item, s, v in self.item_rows:
            state = self.cleaned_data.get(s) or ""
            value = (self.cleaned_data.get(v) or "").strip()
            if state or value:
                out[item.code] = {"value": value, "abnormal": state == "abnormal"}
        return out


class DeliveryForm(StyledForm):
    who = forms.ChoiceField(choices=Partner.choices, widget=forms.HiddenInput)
    method = forms.ChoiceField(label=_("送达方式"), choices=DeliveryMethod.choices, widget=forms.RadioSelect,
                               required=False)  # fmt: skip
    recipient = forms.CharField(label=_("代收人（家属代收时填写）"), max_length=100, required=False)
    delivered_on = forms.DateField(label=_("送达日期"), required=False, widget=DateInput())


class FollowUpForm(StyledForm):
    who = forms.ChoiceField(label=_("参检人"), choices=Partner.choices)
    occurred_on = forms.DateField(label=_("随访日期"), required=False, widget=DateInput())
    note = forms.CharField(label=_("随访情况"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip


class OutcomeForm(StyledForm):
    kind = forms.ChoiceField(label=_("随访结果"), choices=[("", "—"), *OutcomeKind.choices], required=False)
    occurred_on = forms.DateField(label=_("日期"), required=False, widget=DateInput())
    note = forms.CharField(label=_("备注"), max_length=1000, required=False)


class ConsentForm(forms.Form):
    who = forms.ChoiceField(choices=[("man", "man"), ("outcome", "outcome")])
    given = forms.BooleanField(required=False)


class RescheduleForm(StyledForm):
    agreed_on = forms.DateField(label=_("约定检查日期"), required=False, widget=DateInput())
