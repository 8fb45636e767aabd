"""Forms of the care pages: the worklist filter, a contact's record form (built from the service's form
definition) and the service type editor. Checking what a service or a record may hold is the services' job;
these forms only turn posted text into the values the services take."""

import json
import re
import uuid

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from hearth.accounts.roles import Role
from hearth.core import time
from hearth.core.forms import DateInput, StyledForm
from hearth.places.models import FacilityKind, Place
from hearth.registry.models import EventKind

from .catalogue import DELIVERING_ROLES, SERVICE_EVENTS, visible_items
from .models import Outcome, Schedule, ServiceType

# A service's form field `result` is the form field `data.result`: the services name errors that way.
DATA_PREFIX = "data."
GIVEN = (Outcome.DONE, Outcome.FOLLOW_UP)


class WorklistFilterForm(forms.Form):
    """?place=<public id> of a community or building in the actor's scope."""

    place = forms.ModelChoiceField(
        label=_lazy("地区"), queryset=Place.objects.none(), required=False, empty_label=_lazy("全部")
    )

    def __init__(self, *args, places, labels: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["place"]
        field.queryset = places
        field.to_field_name = "public_id"
        field.label_from_instance = lambda p: labels.get(p.pk, p.name)
        field.widget.attrs.update({"class": "form-select", "data-autosubmit": ""})


def _data_field(spec: dict) -> forms.Field:
    """One form field for one item of a service's record form. Every item is optional here: whether it must
    be filled in depends on the outcome, which the service checks (and names the item in its message)."""
    label, kind = spec["label"], spec["type"]
    if kind == "text":
        attrs = {"maxlength": spec.get("max_length", 100)}
        if spec.get("max_length", 100) > 100:
            return forms.CharField(
                label=label, required=False, widget=forms.Textarea(attrs={**attrs, "rows": 2})
            )
        return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))
    if kind == "number":
        attrs = {"step": "any", "inputmode": "decimal"}
        attrs |= {k: spec[k] for k in ("min", "max") if k in spec}
        return forms.CharField(label=label, required=False, widget=forms.NumberInput(attrs=attrs))
    if kind == "choice":
        return forms.ChoiceField(
            label=label, required=False, choices=[(c, c) for c in spec["choices"]],
            widget=forms.RadioSelect(attrs={"class": "btn-check", "autocomplete": "off"}),
        )  # fmt: skip
    if kind == "bool":
        # 是/否 buttons, not a checkbox: an unticked box cannot tell "no" from "not asked".
        return forms.ChoiceField(
            label=label, required=False, choices=[("true", _lazy("是")), ("false", _lazy("否"))],
            widget=forms.RadioSelect(attrs={"class": "btn-check", "autocomplete": "off"}),
        )  # fmt: skip
    return forms.DateField(label=label, required=False, widget=DateInput())


class RecordForm(StyledForm):
    """记录服务: the outcome, the day, consent where the service asks for it, the service's own items."""

    outcome = forms.ChoiceField(
        label=_lazy("结果"),
        choices=Outcome.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check", "autocomplete": "off"}),
    )
    occurred_on = forms.DateField(label=_lazy("服务日期"), widget=DateInput())
    consent = forms.BooleanField(
        label=_lazy("本人已知情并同意接受此项服务"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(
        label=_lazy("备注"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, service: ServiceType, clinical: bool = False, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {"occurred_on": time.today(), "client_token": uuid.uuid4(), **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        self.service = service
        if not service.consent_required:
            del self.fields["consent"]
        self.data_names: list[str] = []
        for spec in visible_items(service.form, clinical=clinical):
            name = DATA_PREFIX + spec["name"]
            field = _data_field(spec)
            if spec.get("required"):
                field.label = f"{field.label} *"
            self.fields[name] = field
            self.data_names.append(name)
        self.order_fields(["outcome", "occurred_on", "consent", *self.data_names, "note"])
        # Big fields for thumbs: volunteers record on their phones at the door.
        for name in ("occurred_on", "note", *self.data_names):
            if not isinstance(self.fields[name].widget, forms.RadioSelect):
                self.fields[name].widget.attrs["class"] = "form-control form-control-lg"

    def data_fields(self):
        return [self[name] for name in self.data_names]

    def record_values(self) -> dict:
        """The keyword arguments of services.record_contact from the cleaned form: the service's items only
        when a service was given (nothing is recorded about a person who declined or was not met)."""
        c = self.cleaned_data
        data = None
        if c["outcome"] in GIVEN:
            data = {}
            for name in self.data_names:
                value = c.get(name)
                if value in (None, ""):
                    continue
                key = name.removeprefix(DATA_PREFIX)
                kind = next(f["type"] for f in self.service.form if f["name"] == key)
                if kind == "bool":
                    value = value == "true"
                elif kind == "date":
                    value = value.isoformat()
                elif kind == "number" and re.fullmatch(r"-?\d{1,15}", value.strip()):
                    value = int(value)
                data[key] = value
        consent = None
        if self.service.consent_required:
            consent = bool(c.get("consent"))
        return {
            "outcome": c["outcome"],
            "occurred_on": c["occurred_on"],
            "data": data,
            "consent": consent,
            "note": c.get("note") or "",
            "client_token": c["client_token"],
        }


WINDOW_RE = re.compile(r"^(\d{1,4})\s*[-–—~～至]\s*(\d{1,4})$")


def parse_windows(text: str) -> list[list[int]]:
    """ "3-7, 28-30" → [[3, 7], [28, 30]]; a single day "28" is [28, 28]. ValueError if unreadable."""
    out = []
    for part in re.split(r"[,，、;；\s]+(?=\d)", (text or "").strip()):
        part = part.strip().strip(",，、;；")
        if not part:
            continue
        m = WINDOW_RE.match(part)
        if m:
            out.append([int(m.group(1)), int(m.group(2))])
        elif part.isdigit() and len(part) <= 4:
            out.append([int(part), int(part)])
        else:
            raise ValueError(part)
    return out


def format_windows(windows) -> str:
    return ", ".join(f"{a}-{b}" for a, b in windows or [])


class ServiceTypeForm(StyledForm):
    """新增或修改服务项目. The definition is checked by the catalogue; this form reads the text typed."""

    code = forms.CharField(
        label=_lazy("代码"),
        max_length=40,
        help_text=_lazy("小写字母开头，只含小写字母、数字和下划线，如 health_check；保存后不能修改。"),
    )
    name = forms.CharField(label=_lazy("名称"), max_length=100, required=False)
    description = forms.CharField(
        label=_lazy("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    condition = forms.CharField(
        label=_lazy("服务对象条件"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control font-monospace"}),
        help_text=_lazy('条件语言（JSON），如 {"v": 1, "all": [{"sex": "F"}, {"age": {"min": 15, "max": 49}}]}；'
                        "不能按婚姻状况确定服务对象。"),
    )  # fmt: skip
    schedule = forms.ChoiceField(label=_lazy("周期"), choices=Schedule.choices)
    interval_months = forms.IntegerField(
        label=_lazy("间隔月数"), required=False, help_text=_lazy("定期服务：每隔几个月提供一次（1–120）。")
    )
    event_kind = forms.ChoiceField(label=_lazy("触发事件"), required=False)
    event_windows = forms.CharField(
        label=_lazy("事件后服务时段（天）"),
        required=False,
        max_length=200,
        help_text=_lazy("按事件的服务：事件后第几天至第几天，多段用逗号分隔，如“3-7, 28-30”。"),
    )
    lead_days = forms.IntegerField(label=_lazy("提前通知天数"), initial=14)
    roles = forms.MultipleChoiceField(
        label=_lazy("服务人员角色"), required=False, widget=forms.CheckboxSelectMultiple
    )
    facility_kind = forms.ChoiceField(label=_lazy("服务机构类型"), required=False)
    form = forms.CharField(
        label=_lazy("记录项目"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control font-monospace"}),
        help_text=_lazy('JSON 列表，如 [{"name": "result", "label": "结果", "type": "choice", '
                        '"choices": ["未见异常", "需进一步检查"]}]；类型可为 text、number、choice、bool、date。'),
    )  # fmt: skip
    consent_required = forms.BooleanField(label=_lazy("须先记录知情同意"), required=False)
    clinical = forms.BooleanField(label=_lazy("结果属临床敏感信息（仅服务机构人员可见）"), required=False)
    active = forms.BooleanField(label=_lazy("启用"), required=False, initial=True)
    order = forms.IntegerField(label=_lazy("排序"), initial=100, min_value=0, max_value=9999)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
            self.fields["version"].required = True
        else:
            del self.fields["version"]
        self.fields["event_kind"].choices = [("", "—")] + [(k, EventKind(k).label) for k in SERVICE_EVENTS]
        self.fields["roles"].choices = [(r, Role(r).label) for r in DELIVERING_ROLES]
        self.fields["facility_kind"].choices = [("", "—"), *FacilityKind.choices]

    @classmethod
    def initial_for(cls, service: ServiceType) -> dict:
        return {
            "name": service.name,
            "description": service.description,
            "condition": json.dumps(service.condition, ensure_ascii=False),
            "schedule": service.schedule,
            "interval_months": service.interval_months,
            "event_kind": service.event_kind,
            "event_windows": format_windows(service.event_windows),
            "lead_days": service.lead_days,
            "roles": list(service.roles),
            "facility_kind": service.facility_kind,
            "form": json.dumps(service.form, ensure_ascii=False, indent=1),
            "consent_required": service.consent_required,
            "clinical": service.clinical,
            "active": service.active,
            "order": service.order,
            "version": service.version,
        }

    def clean_event_windows(self) -> list[list[int]]:
        text = self.cleaned_data.get("event_windows") or ""
        try:
            return parse_windows(text)
        except ValueError as exc:
            raise forms.ValidationError(
                _(
                    "事件后服务时段：无法识别“%(part)s”，请写成“起始天-截止天”，多段用逗号分隔，如“3-7, 28-30”。"
                )
                % {"part": str(exc)[:20]}
            ) from None

    def clean_form(self) -> list:
        text = (self.cleaned_data.get("form") or "").strip()
        if not text:
            return []
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("记录项目：不是有效的 JSON，第 %(line)d 行第 %(col)d 列附近有误。")
                % {"line": exc.lineno, "col": exc.colno}
            ) from None

    def definition(self) -> dict:
        """The values service_type_create/update take (the condition as typed: the catalogue parses it)."""
        c = self.cleaned_data
        return {
            k: c[k]
            for k in (
                "name", "description", "condition", "schedule", "interval_months", "event_kind",
                "event_windows", "lead_days", "roles", "facility_kind", "form", "consent_required",
                "clinical", "active", "order",
            )
        }  # fmt: skip
