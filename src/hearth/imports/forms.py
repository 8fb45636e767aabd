from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hearth.core.errors import DomainError
from hearth.core.forms import SpreadsheetUploadMixin, StyledForm
from hearth.places.models import Place, PlaceKind


class UploadForm(SpreadsheetUploadMixin, StyledForm):
    file = forms.FileField(
        label=_("文件"),
        help_text=_(
            "xlsx、xls、ods 或 csv（UTF-8 或 GBK 编码），不超过 20 MB；读取第一个工作表，标题行和填报单位行会自动跳过。"
        ),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.xls,.ods,.csv,.txt"}),
    )
    source = forms.CharField(
        label=_("数据来源"),
        max_length=60,
        help_text=_("如“祥和社区台账”“派出所户籍名单”；同一来源可保存表头对应方案。"),
    )
    place = forms.ModelChoiceField(label=_("导入到"), queryset=Place.objects.none(), empty_label="—")
    keep_unverified = forms.BooleanField(
        label=_("保留无法核验的旧证件号（标为“证件号待核实”，进入待核实名单）"), required=False
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = (
            Place.objects.visible_to(actor)
            .current()
            .filter(kind__in=[PlaceKind.SUBDISTRICT, PlaceKind.COMMUNITY])
            .order_by("path")
        )
        self.fields["place"].to_field_name = "public_id"


def posted_mapping(data, columns: int, labels: dict[str, str]) -> dict[str, int]:
    """The mapping page's answer (`column_<i>` = field) as {field: column}; a field chosen twice is refused."""
    mapping: dict[str, int] = {}
    for index in range(columns):
        fld = data.get(f"column_{index}", "")
        if not fld:
            continue
        if fld in mapping:
            raise DomainError(
                "import.mapping_twice", gettext("“%(f)s”被指定给了多列。") % {"f": labels.get(fld, fld)}, fld
            )
        mapping[fld] = index
    return mapping
