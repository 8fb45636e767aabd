from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import StyledForm

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
    on = forms.DateField(label=_("更名日期"), widget=forms.DateInput(attrs={"type": "date"}))


class MergeForm(StyledForm):
    into = forms.UUIDField(label=_("合并至"), widget=forms.Select)
    on = forms.DateField(label=_("合并日期"), widget=forms.DateInput(attrs={"type": "date"}))

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
