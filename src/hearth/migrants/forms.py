from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import DateInput, StyledForm
from hearth.places.forms import DwellingPicker
from hearth.registry.codes import DocumentType
from hearth.registry.forms import PersonForm

from .models import Housing, InflowReason

_BLANK = [("", "—")]


class InflowFields(StyledForm):
    from_region = forms.CharField(
        label=_("来自地区代码"),
        max_length=6,
        required=False,  # checked by the service with the other fields, so every problem is said at once
        help_text=_("流出地6位行政区划代码（GB/T 2260），如 411721（河南省西平县）"),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    since = forms.DateField(label=_("流入日期"), required=False, widget=DateInput())
    reason = forms.ChoiceField(label=_("流入原因"), choices=_BLANK + InflowReason.choices, required=False)
    employer = forms.CharField(label=_("工作单位或经营场所"), max_length=100, required=False)
    housing = forms.ChoiceField(label=_("居住方式"), choices=_BLANK + Housing.choices, required=False)
    agreement_signed = forms.BooleanField(label=_("已签订租房协议"), required=False)
    agreement_date = forms.DateField(
        label=_("租房协议日期"),
        required=False,
        help_text=_("已签订租房协议时必填"),
        widget=DateInput(),
    )
    certificate_held = forms.BooleanField(
        label=_("持有婚育证明（历史字段）"),
        required=False,
        help_text=_("仅记录既有证明的情况，供历史统计口径使用；本系统不开具、不要求任何证明。"),
    )
    certificate_checked_on = forms.DateField(
        label=_("婚育证明查验日期（历史字段）"), required=False, widget=DateInput()
    )


class InflowForm(InflowFields):
    set_residence = forms.BooleanField(
        label=_("同时将此人的居住类型改为“流入”"),
        required=False,
        help_text=_("居住类型是人员信息，将记为一条信息变更事件。"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    person_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, offer_residence: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not offer_residence:
            del self.fields["set_residence"]


class OutflowForm(StyledForm):
    to_region = forms.CharField(
        label=_("流往地区代码"),
        max_length=6,
        required=False,
        help_text=_("流入地6位行政区划代码（GB/T 2260）"),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    to_address = forms.CharField(label=_("流往地址"), max_length=150, required=False)
    since = forms.DateField(label=_("流出日期"), required=False, widget=DateInput())
    contact = forms.CharField(label=_("联系方式"), max_length=50, required=False)
    informed = forms.CharField(label=_("流入地告知对象"), max_length=100, required=False)
    set_residence = forms.BooleanField(
        label=_("同时将此人的居住类型改为“流出”"),
        required=False,
        help_text=_("居住类型是人员信息，将记为一条信息变更事件。"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    person_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, offer_residence: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not offer_residence:
            del self.fields["set_residence"]


class InflowRegisterForm(PersonForm, InflowFields):
    """The person's fields and the inflow record's, in one form (one transaction behind it)."""

    PERSON_KEYS = (
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "id_type",
        "id_number",
        "hukou_code",
        "dwelling",
        "marital_status",
        "education",
        "occupation",
        "phone",
        "notes",
    )

    field_order = [*PERSON_KEYS, *InflowFields.base_fields]

    def __init__(self, *args, dwellings, fixed_dwelling: bool = False, **kwargs):
        super().__init__(*args, dwellings=dwellings, **kwargs)
        del self.fields["residence_type"]  # always 流入
        self.fields["hukou_code"].help_text = _("6位行政区划代码；不填则与来自地区相同")
        if fixed_dwelling:
            del self.fields["dwelling"]

    def person_values(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.PERSON_KEYS if k in self.cleaned_data}

    def inflow_values(self) -> dict:
        return {k: self.cleaned_data.get(k) for k in InflowFields.base_fields}


class LandlordForm(StyledForm):
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(
        label=_("联系电话"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    place = forms.ModelChoiceField(label=_("登记社区"), queryset=None, empty_label="—")
    agreement_signed = forms.BooleanField(label=_("已签订房屋出租登记协议"), required=False)
    agreement_date = forms.DateField(
        label=_("登记协议日期"),
        required=False,
        help_text=_("已签订协议时必填"),
        widget=DateInput(),
    )
    dwellings = forms.ModelMultipleChoiceField(
        label=_("名下房屋"),
        queryset=None,
        required=False,
        help_text=_("出租登记时会自动加入；可多选"),
    )
    notes = forms.CharField(label=_("备注"), max_length=300, required=False)
    id_type = forms.ChoiceField(
        label=_("对应人员证件类型"),
        choices=DocumentType.choices,
        initial=DocumentType.RESIDENT_ID,
        required=False,
    )
    id_number = forms.CharField(
        label=_("对应人员证件号码（可不填）"),
        max_length=40,
        required=False,
        help_text=_("房东已在人口库登记的，填写证件号码即可关联"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    unlink = forms.BooleanField(label=_("取消关联人员"), required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, places, place_labels: dict, dwellings, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["place"].to_field_name = "public_id"
        self.fields["place"].label_from_instance = lambda p: place_labels.get(p.pk, p.name)
        self.fields["dwellings"].queryset = dwellings
        self.fields["dwellings"].to_field_name = "public_id"
        self.fields["dwellings"].widget.attrs["size"] = 6
        if not editing:
            del self.fields["unlink"]


class TenancyForm(StyledForm):
    dwelling = forms.ModelChoiceField(
        label=_("出租房屋"), queryset=None, empty_label="—", widget=DwellingPicker
    )
    started_on = forms.DateField(label=_("起租日期"), widget=DateInput())
    declared_tenants = forms.IntegerField(
        label=_("申报租住人数"), min_value=0, max_value=50, initial=1, widget=forms.NumberInput()
    )

    def __init__(self, *args, dwellings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dwelling"].queryset = dwellings
        self.fields["dwelling"].to_field_name = "public_id"


class TenancyEndForm(StyledForm):
    ended_on = forms.DateField(label=_("退租日期"), widget=DateInput())


class TenantsForm(StyledForm):
    tenants = forms.ModelMultipleChoiceField(
        label=_("租住人员"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("勾选住在该房屋的租住人员"),
    )

    def __init__(self, *args, persons, labels: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenants"].queryset = persons
        self.fields["tenants"].to_field_name = "public_id"
        self.fields["tenants"].label_from_instance = lambda p: labels.get(p.pk, p.name)


class MoveInForm(StyledForm):
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID
    )
    id_number = forms.CharField(
        label=_("证件号码"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    occurred_on = forms.DateField(label=_("迁入日期"), widget=DateInput())
