from django import forms
from django.utils.translation import gettext_lazy as _

from hearth.core.forms import StyledForm

from .roles import Role


class LoginForm(StyledForm):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput, max_length=200)


class OtpForm(StyledForm):
    token = forms.RegexField(
        label=_("动态验证码"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("请输入6位数字验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class TokenForm(StyledForm):
    name = forms.CharField(label=_("名称"), max_length=60)


class UserCreateForm(StyledForm):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=60)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, max_length=200)


class GrantForm(StyledForm):
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    place = forms.UUIDField(label=_("地区"), required=False, widget=forms.Select)
    facility = forms.UUIDField(label=_("服务机构"), required=False, widget=forms.Select)

    def __init__(self, *args, places=(), facilities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].widget.choices = [("", "—")] + [
            (str(p.public_id), f"{p.get_kind_display()} {p.name}") for p in places
        ]
        self.fields["facility"].widget.choices = [("", "—")] + [
            (str(f.public_id), f.name) for f in facilities
        ]
