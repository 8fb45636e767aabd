from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import SpreadsheetUploadMixin, StyledForm
from hearth.places.models import Place, PlaceKind

from .models import PartnerKind


def _places(actor):
    return (
        Place.objects.visible_to(actor)
        .current()
        .filter(kind__in=[PlaceKind.SUBDISTRICT, PlaceKind.COMMUNITY])
        .order_by("path")
    )


class PartnerListForm(SpreadsheetUploadMixin, StyledForm):
    file = forms.FileField(
        label=_("文件"),
        help_text=_("xlsx、xls、ods 或 csv（UTF-8 或 GBK 编码），不超过 20 MB；标题行会自动跳过。"),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.xls,.ods,.csv,.txt"}),
    )
    kind = forms.ChoiceField(label=_("名单类型"), choices=[("", "—"), *PartnerKind.choices])
    source = forms.CharField(label=_("提供部门"), max_length=60, help_text=_("如“幸福派出所”“区民政局”。"))
    place = forms.ModelChoiceField(label=_("比对范围"), queryset=Place.objects.none(), empty_label="—")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = _places(actor)
        self.fields["place"].to_field_name = "public_id"


class FindDuplicatesForm(StyledForm):
    place = forms.ModelChoiceField(label=_("查找范围"), queryset=Place.objects.none(), empty_label="—")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = _places(actor)
        self.fields["place"].to_field_name = "public_id"
