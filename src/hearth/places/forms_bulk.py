from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import SpreadsheetUploadMixin, StyledForm


class BulkImportForm(SpreadsheetUploadMixin, StyledForm):
    kind = forms.ChoiceField(label=_("导入内容"), choices=())
    file = forms.FileField(
        label=_("文件"),
        help_text=_("xlsx、xls、ods 或 csv（UTF-8 或 GBK 编码），不超过 20 MB；只读取第一个工作表。"),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.xls,.ods,.csv,.txt"}),
    )

    def __init__(self, *args, sheets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(s.kind, s.label) for s in sheets]
