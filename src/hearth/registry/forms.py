from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import StyledForm

from .models import ResidenceType, Sex


class PersonForm(StyledForm):
    name = forms.CharField(label=_("姓名"), max_length=50)
    sex = forms.ChoiceField(label=_("性别"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("出生日期"), widget=forms.DateInput(attrs={"type": "date"}))
    id_number = forms.CharField(
        label=_("公民身份号码"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    dwelling = forms.ModelChoiceField(label=_("现住房屋"), queryset=None, empty_label="—")
    residence_type = forms.ChoiceField(label=_("居住类型"), choices=ResidenceType.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, dwellings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dwelling"].queryset = dwellings
        self.fields["dwelling"].to_field_name = "public_id"


class IdSearchForm(StyledForm):
    id_number = forms.CharField(label=_("身份证号码或末4至6位"), max_length=40)


class RevealForm(StyledForm):
    reason = forms.CharField(label=_("查看事由"), max_length=300)


class ExportForm(StyledForm):
    reason = forms.CharField(label=_("导出用途"), max_length=300)
    q = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)
