from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import StyledForm

from .models import PlaceKind


class PlaceForm(StyledForm):
    kind = forms.ChoiceField(label=_("类型"), choices=PlaceKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    code = forms.CharField(label=_("代码"), max_length=20, required=False)


class DwellingForm(StyledForm):
    address = forms.CharField(label=_("门牌"), max_length=120)
