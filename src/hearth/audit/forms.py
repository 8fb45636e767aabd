from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import DateInput, StyledForm


class AuditSearchForm(StyledForm):
    person = forms.UUIDField(label=_("人员编号"), required=False)
    actor = forms.CharField(label=_("用户"), max_length=150, required=False)
    place = forms.UUIDField(label=_("地区"), required=False, widget=forms.Select)
    action = forms.CharField(label=_("操作"), max_length=60, required=False)
    since = forms.DateField(label=_("起始日期"), required=False, widget=DateInput())
    until = forms.DateField(label=_("截止日期"), required=False, widget=DateInput())

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].widget.choices = [("", "—")] + [
            (str(p.public_id), f"{p.get_kind_display()} {p.name}") for p in places
        ]
