"""The shared date widget renders ISO dates whatever the language (a browser's date input takes only ISO)."""

from datetime import date

from django import forms
from django.utils import translation

from hearth.core.forms import DateInput


class _Form(forms.Form):
    on = forms.DateField(widget=DateInput())


def test_date_input_is_iso_in_chinese_and_english():
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            html = str(_Form(initial={"on": date(1991, 4, 5)})["on"])
        assert 'type="date"' in html
        assert 'value="1991-04-05"' in html, (lang, html)
