from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import DateInput, StyledForm
from hearth.places.forms import DwellingPicker

from .codes import DocumentType, Education, Ethnicity, MaritalStatus
from .models import EventKind, EventSource, ResidenceType, Sex

_BLANK = [("", "—")]


class PersonForm(StyledForm):
    name = forms.CharField(label=_("姓名"), max_length=50)
    sex = forms.ChoiceField(label=_("性别"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("出生日期"), widget=DateInput())
    ethnicity = forms.ChoiceField(
        label=_("民族"), choices=Ethnicity.choices, initial=Ethnicity.HAN, required=False
    )
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID, required=False
    )
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    hukou_code = forms.CharField(
        label=_("户籍地代码"),
        max_length=6,
        required=False,
        help_text=_("6位行政区划代码，如 410103（二七区）"),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    dwelling = forms.ModelChoiceField(
        label=_("现住房屋"), queryset=None, empty_label="—", widget=DwellingPicker
    )
    residence_type = forms.ChoiceField(label=_("居住类型"), choices=ResidenceType.choices)
    marital_status = forms.ChoiceField(
        label=_("婚姻状况"),
        choices=MaritalStatus.choices,
        initial=MaritalStatus.UNSTATED,
        required=False,
        help_text=_("以婚姻登记为准，仅作民政信息记录"),
    )
    education = forms.ChoiceField(label=_("学历"), choices=_BLANK + Education.choices, required=False)
    occupation = forms.CharField(label=_("职业"), max_length=50, required=False)
    phone = forms.CharField(
        label=_("联系电话"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    notes = forms.CharField(
        label=_("备注"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    correction = forms.BooleanField(label=_("这是更正录入错误（不保留为曾用名等变更历史）"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, dwellings, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dwelling"].queryset = dwellings
        self.fields["dwelling"].to_field_name = "public_id"
        if editing:
            # Address and marital status change through their own life events, not this form.
            del self.fields["dwelling"]
            del self.fields["marital_status"]
        else:
            del self.fields["correction"]


class IdSearchForm(StyledForm):
    id_number = forms.CharField(label=_("证件号码或末4至6位"), max_length=40)


class RevealForm(StyledForm):
    reason = forms.CharField(label=_("查看事由"), max_length=300)


class ExportForm(StyledForm):
    reason = forms.CharField(label=_("导出用途"), max_length=300)
    q = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)


# Events recorded from a person's page (birth has its own form; corrections are made on the timeline).
EVENT_FORM_KINDS = [
    EventKind.MARRIAGE,
    EventKind.DIVORCE,
    EventKind.WIDOWHOOD,
    EventKind.DEATH,
    EventKind.DWELLING_CHANGE,
    EventKind.MOVE_OUT,
    EventKind.MOVE_IN,
    EventKind.HUKOU_CHANGE,
]


class EventForm(StyledForm):
    kind = forms.ChoiceField(label=_("事件"), choices=[(k.value, k.label) for k in EVENT_FORM_KINDS])
    occurred_on = forms.DateField(label=_("发生日期"), widget=DateInput())
    source = forms.ChoiceField(label=_("信息来源"), choices=EventSource.choices, initial=EventSource.COUNTER)
    reporter = forms.CharField(label=_("报告人"), max_length=100, required=False)
    dwelling = forms.ModelChoiceField(
        label=_("新住址（变更住址、迁入）"),
        queryset=None,
        required=False,
        empty_label="—",
        widget=DwellingPicker,
    )
    spouse_id_number = forms.CharField(
        label=_("配偶证件号码（结婚，可不填）"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    hukou_code = forms.CharField(label=_("新户籍地代码（户籍变更）"), max_length=6, required=False)
    residence_type = forms.ChoiceField(
        label=_("居住类型（户籍变更后，可不选）"), choices=_BLANK + ResidenceType.choices, required=False
    )
    to_region = forms.CharField(label=_("去向地区代码（迁出，可不填）"), max_length=6, required=False)
    to_address = forms.CharField(label=_("去向地址（迁出，可不填）"), max_length=150, required=False)
    attachment = forms.FileField(label=_("附件（PDF/JPG/PNG，5MB以内）"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, dwellings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dwelling"].queryset = dwellings
        self.fields["dwelling"].to_field_name = "public_id"


class BirthForm(StyledForm):
    name = forms.CharField(label=_("新生儿姓名"), max_length=50)
    sex = forms.ChoiceField(label=_("性别"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("出生日期"), widget=DateInput())
    id_number = forms.CharField(label=_("公民身份号码（已申领的可填）"), max_length=40, required=False)
    source = forms.ChoiceField(label=_("信息来源"), choices=EventSource.choices, initial=EventSource.COUNTER)
    reporter = forms.CharField(label=_("报告人"), max_length=100, required=False)


class CorrectEventForm(StyledForm):
    reason = forms.CharField(label=_("更正原因"), max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)


class TransferForm(StyledForm):
    id_type = forms.ChoiceField(choices=DocumentType.choices, widget=forms.HiddenInput)
    id_number = forms.CharField(max_length=40, widget=forms.HiddenInput)
    dwelling = forms.UUIDField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("说明（可不填）"), max_length=300, required=False)
