from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import DateInput, StyledForm

from .models import FacilityKind, PlaceKind


class PlaceForm(StyledForm):
    kind = forms.ChoiceField(label=_("类型"), choices=PlaceKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    code = forms.CharField(label=_("代码"), max_length=20, required=False)


class DwellingForm(StyledForm):
    address = forms.CharField(label=_("门牌"), max_length=120)


class RenameForm(StyledForm):
    name = forms.CharField(label=_("新名称"), max_length=100)
    code = forms.CharField(label=_("代码"), max_length=20, required=False)
    on = forms.DateField(label=_("更名日期"), widget=DateInput())


class MergeForm(StyledForm):
    into = forms.UUIDField(label=_("合并至"), widget=forms.Select)
    on = forms.DateField(label=_("合并日期"), widget=DateInput())

    def __init__(self, *args, siblings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].widget.choices = [("", "—")] + [(str(p.public_id), p.name) for p in siblings]


class FacilityForm(StyledForm):
    name = forms.CharField(label=_("机构名称"), max_length=120)
    kind = forms.ChoiceField(label=_("类型"), choices=FacilityKind.choices)
    place = forms.UUIDField(label=_("所在地区"), widget=forms.Select)
    served = forms.MultipleChoiceField(
        label=_("服务地区"), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(p.public_id), f"{p.get_kind_display()} {p.name}") for p in places]
        self.fields["place"].widget.choices = [("", "—"), *choices]
        self.fields["served"].choices = choices


class DwellingPicker(forms.Select):
    """A dwelling <select> that renders only the chosen dwelling; others arrive by search (htmx), so a
    district-wide form does not list every dwelling it could choose."""

    template_name = "places/widgets/dwelling_picker.html"

    def get_context(self, name, value, attrs):
        chosen = [v for v in (value if isinstance(value, list | tuple) else [value]) if v]
        options = []
        queryset = getattr(self.choices, "queryset", None)
        if queryset is not None and chosen:
            try:
                options = [(str(d.public_id), str(d)) for d in queryset.filter(public_id__in=chosen)[:5]]
            except (ValueError, ValidationError):
                options = []
        self.choices = [("", "—"), *options]
        return super().get_context(name, value, attrs)
