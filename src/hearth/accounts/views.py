import base64

import segno
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from hearth.audit import services as audit
from hearth.core.errors import DomainError
from hearth.core.forms import add_domain_error
from hearth.places.models import Facility, Place

from . import services
from .actor import Actor, actor_for
from .forms import GrantForm, LoginForm, OtpForm, TokenForm, UserCreateForm
from .middleware import client_ip, grant_optional
from .models import ApiToken, Grant, RolePermission, User
from .roles import Perm, Role


def lockout_response(request, original_response=None, credentials=None):
    return render(
        request,
        "accounts/login.html",
        {"form": LoginForm(), "locked": True},
        status=429,
    )


def _safe_next(request, default="core:home"):
    nxt = request.POST.get("next") or request.GET.get("next")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


@login_not_required
def login_view(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        anonymous = Actor.anonymous(client_ip(request))
        if getattr(request, "axes_locked_out", False):
            services.login_record(actor=anonymous, username=username, success=False, reason="locked out")
            return lockout_response(request)
        if user is None:
            services.login_record(actor=anonymous, username=username, success=False)
            form.add_error(None, _("用户名或密码错误。"))
        else:
            login(request, user)
            request.session.pop("grant_id", None)
            grants = list(Grant.objects.active().filter(user=user)[:2])
            if len(grants) == 1:
                request.session["grant_id"] = grants[0].pk
            services.login_record(
                actor=actor_for(grants[0], ip=anonymous.ip)
                if len(grants) == 1
                else Actor(user=user, grant=None, ip=anonymous.ip),
                username=username,
                success=True,
            )
            if len(grants) != 1:
                return redirect("accounts:choose_grant")
            return redirect(_safe_next(request))
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@login_not_required
@require_POST
def logout_view(request):
    logout(request)
    return redirect("accounts:login")


@grant_optional
def choose_grant(request):
    grants = Grant.objects.active().filter(user=request.user).select_related("place", "facility")
    if request.method == "POST":
        grant = (
            grants.filter(public_id=request.POST.get("grant") or None).first()
            if _is_uuid(request.POST.get("grant"))
            else None
        )
        if grant is None:
            messages.error(request, _("请选择一个身份。"))
        else:
            request.session["grant_id"] = grant.pk
            return redirect("core:home")
    return render(request, "accounts/choose_grant.html", {"grants": grants})


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@require_POST
def switch_grant(request):
    value = request.POST.get("grant")
    grant = (
        Grant.objects.active().filter(user=request.user, public_id=value).first() if _is_uuid(value) else None
    )
    if grant is None:
        raise Http404
    request.session["grant_id"] = grant.pk
    with transaction.atomic():
        audit.record(actor=actor_for(grant, ip=client_ip(request)), action="grant.switch", target=grant)
    return redirect("core:home")


@grant_optional
def otp_verify(request):
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("accounts:otp_enrol")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is None:
            form.add_error("token", _("验证码错误或已过期。"))
        else:
            otp_login(request, device)
            return redirect(_safe_next(request))
    return render(request, "accounts/otp.html", {"form": form})


@grant_optional
def otp_enrol(request):
    device = TOTPDevice.objects.filter(user=request.user).order_by("-confirmed", "id").first()
    if device is not None and device.confirmed:
        messages.info(request, _("已启用双因素认证。"))
        return redirect("core:home")
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="default", confirmed=False)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit.record(actor=request.actor, action="otp.enrol", target=request.user)
            otp_login(request, device)
            messages.success(request, _("双因素认证已启用。"))
            return redirect("core:home")
        form.add_error("token", _("验证码错误，请确认手机时间准确后重试。"))
    svg = segno.make(device.config_url, micro=False).svg_inline(scale=4)
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return render(
        request,
        "accounts/otp_enrol.html",
        {"form": form, "qr": qr, "secret": base64.b32encode(device.bin_key).decode()},
    )


def tokens(request):
    actor = request.actor
    form = TokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        _token, new_secret = services.token_create(
            actor=actor, grant=actor.grant, name=form.cleaned_data["name"]
        )
        form = TokenForm()
    rows = (
        ApiToken.objects.filter(user=request.user)
        .select_related("grant__place", "grant__facility")
        .order_by("-created_at")
    )
    return render(request, "accounts/tokens.html", {"form": form, "tokens": rows, "new_secret": new_secret})


@require_POST
def token_revoke(request, public_id):
    token = ApiToken.objects.filter(user=request.user, public_id=public_id).first()
    if token is None:
        raise Http404
    services.token_revoke(actor=request.actor, token=token)
    messages.success(request, _("令牌已撤销。"))
    return redirect("accounts:tokens")


def _require_any(actor, *perms):
    if not any(actor.can(p) for p in perms):
        raise Http404


def user_list(request):
    actor = request.actor
    _require_any(actor, Perm.ACCOUNT_MANAGE, Perm.GRANT_MANAGE)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST":
        actor.require(Perm.ACCOUNT_MANAGE)
        if form.is_valid():
            try:
                user = services.user_create(actor=actor, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("账号 %(u)s 已创建。") % {"u": user.username})
                return redirect("accounts:user_list")
    users = User.objects.order_by("username").prefetch_related("grants__place", "grants__facility")
    return render(request, "accounts/user_list.html", {"users": users, "form": form})


def user_detail(request, public_id):
    actor = request.actor
    _require_any(actor, Perm.ACCOUNT_MANAGE, Perm.GRANT_MANAGE)
    user = User.objects.filter(public_id=public_id).first() if _is_uuid(public_id) else None
    if user is None:
        raise Http404
    places = (
        Place.objects.visible_to(actor)
        .current()
        .filter(
            kind__in=["city", "district", "subdistrict", "community", "building", "unit", "villager_group"]
        )[:2000]
    )
    facilities = Facility.objects.filter(place__in=Place.objects.visible_to(actor))
    form = GrantForm(request.POST or None, places=places, facilities=facilities)
    if request.method == "POST":
        actor.require(Perm.GRANT_MANAGE)
        if form.is_valid():
            place = (
                Place.objects.visible_to(actor).filter(public_id=form.cleaned_data["place"]).first()
                if form.cleaned_data["place"]
                else None
            )
            facility = (
                facilities.filter(public_id=form.cleaned_data["facility"]).first()
                if form.cleaned_data["facility"]
                else None
            )
            try:
                services.grant_create(
                    actor=actor, user=user, role=form.cleaned_data["role"], place=place, facility=facility
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("授权已添加。"))
                return redirect("accounts:user_detail", public_id=user.public_id)
    grants = user.grants.select_related("place", "facility").order_by("revoked_at", "role")
    return render(request, "accounts/user_detail.html", {"account": user, "grants": grants, "form": form})


@require_POST
def grant_revoke(request, public_id):
    actor = request.actor
    actor.require(Perm.GRANT_MANAGE)
    grant = (
        Grant.objects.filter(public_id=public_id).select_related("user", "place", "facility__place").first()
        if _is_uuid(public_id)
        else None
    )
    if grant is None or not Place.objects.visible_to(actor).filter(pk=grant.scope_place.pk).exists():
        raise Http404
    services.grant_revoke(actor=actor, grant=grant)
    messages.success(request, _("授权已撤销。"))
    return redirect("accounts:user_detail", public_id=grant.user.public_id)


def permissions(request):
    actor = request.actor
    _require_any(actor, Perm.GRANT_MANAGE, Perm.ACCOUNT_MANAGE, Perm.AUDIT_VIEW)
    if request.method == "POST":
        actor.require(Perm.GRANT_MANAGE)
        try:
            services.role_permission_set(
                actor=actor,
                role=request.POST.get("role", ""),
                permission=request.POST.get("permission", ""),
                allowed=request.POST.get("allowed") == "1",
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("accounts:permissions")
    held = set(RolePermission.objects.values_list("role", "permission"))
    table = [
        {"perm": p, "cells": [{"role": r, "on": (r.value, p.value) in held} for r in Role]} for p in Perm
    ]
    return render(
        request,
        "accounts/permissions.html",
        {"roles": list(Role), "table": table, "editable": actor.can(Perm.GRANT_MANAGE)},
    )


def system_settings(request):
    """The system administrator sets policy values kept as data."""
    from hearth.core.models import SystemSetting
    from hearth.core.settings_store import DEFAULTS, get_setting

    actor = request.actor
    actor.require(Perm.SETTINGS_MANAGE)
    errors = {}
    if request.method == "POST":
        for key in DEFAULTS:
            raw = request.POST.get(key)
            if raw is None:
                continue
            try:
                value = int(raw)
                if value < 1:
                    raise ValueError
            except ValueError:
                errors[key] = _("请输入正整数。")
                continue
            with transaction.atomic():
                old = get_setting(key)
                if old != value:
                    SystemSetting.objects.update_or_create(key=key, defaults={"value": value})
                    audit.record(
                        actor=actor,
                        action="settings.change",
                        object_type="setting",
                        object_id=key,
                        data={"from": old, "to": value},
                    )
        if not errors:
            messages.success(request, _("已保存。"))
            return redirect("accounts:settings")
    labels = {
        "export.approval_threshold": _("导出审批阈值（行）"),
        "audit.retention_days": _("审计日志保留天数"),
    }
    rows = [
        {"key": k, "label": labels.get(k, k), "value": get_setting(k), "error": errors.get(k)}
        for k in DEFAULTS
    ]
    return render(request, "accounts/settings.html", {"rows": rows}, status=422 if errors else 200)
