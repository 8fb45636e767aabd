"""Mapping the one domain error to forms, once."""

from django import forms

from .errors import DomainError, as_list


class DateInput(forms.DateInput):
    """<input type="date">, whose value must be ISO (2026-11-23) whatever the language: with zh-hans's first
    input format (2026/11/23) the browser shows an empty field."""

    input_type = "date"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs, format="%Y-%m-%d")


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    for err in as_list(error):
        field = err.field if err.field in form.fields else None
        if field is not None and form.fields[field].widget.is_hidden:
            field = None  # e.g. a stale `version`: said at the top of the form, where it is seen
        form.add_error(field, str(err.message))


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates render fields one way."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            w = field.widget
            if isinstance(w, forms.RadioSelect | forms.CheckboxInput | forms.HiddenInput):
                continue
            w.attrs.setdefault("class", "form-select" if isinstance(w, forms.Select) else "form-control")


class SpreadsheetUploadMixin:
    """A form's `file` field holding a spreadsheet: refused by size before it is read into memory (the reader
    checks again for callers other than forms)."""

    def clean_file(self):
        from django.utils.translation import gettext as _

        from .spreadsheet import MAX_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("文件过大，上限为 %(max)d MB。"), params={"max": MAX_BYTES // 1048576}
            )
        return upload
