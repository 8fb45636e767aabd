"""Accounts, grants, permissions and API tokens. The three administrative roles act through these."""

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError
from hearth.places.models import Facility, Place

from .models import ApiToken, Grant, RolePermission, User
from .roles import FACILITY_ROLES, Perm, Role


@transaction.atomic
def user_create(*, actor, username: str, full_name: str, password: str, phone: str = "") -> User:
    username = (username or "").strip()
    if not username:
        raise DomainError("user.username_required", _("请填写用户名。"), "username")
    if len(username) > 150 or not all(c.isalnum() or c in "._-@" for c in username):
        raise DomainError("user.username_format", _("用户名只能包含字母、数字和 . _ - @。"), "username")
    if len((full_name or "").strip()) > 60:
        raise DomainError("user.full_name_length", _("姓名不能超过60个字。"), "full_name")
    if len((phone or "").strip()) > 20:
        raise DomainError("user.phone_length", _("联系电话不能超过20个字符。"), "phone")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError("user.username_taken", _("用户名已存在。"), "username")
    user = User(username=username, full_name=(full_name or "").strip(), phone=(phone or "").strip())
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError("user.password_weak", " ".join(exc.messages), "password") from None
    user.set_password(password)
    user.save()
    audit.record(actor=actor, action="user.create", target=user, data={"username": username})
    return user


@transaction.atomic
def grant_create(
    *, actor, user: User, role: str, place: Place | None = None, facility: Facility | None = None
) -> Grant:
    if role not in Role.values:
        raise DomainError("grant.role", _("角色无效。"), "role")
    if role in FACILITY_ROLES:
        if facility is None or place is not None:
            raise DomainError(
                "grant.facility_required", _("服务机构人员应授权到服务机构，而非地区。"), "facility"
            )
    elif place is None or facility is not None:
        raise DomainError("grant.place_required", _("该角色应授权到地区。"), "place")
    target_place = facility.place if facility else place
    if not actor.is_system and not Place.objects.visible_to(actor).filter(pk=target_place.pk).exists():
        raise DomainError("grant.out_of_scope", _("授权地区不在您的管辖范围内。"), "place")
    if Grant.objects.active().filter(user=user, role=role, place=place, facility=facility).exists():
        raise DomainError("grant.duplicate", _("该用户已有相同的授权。"), "role")
    grant = Grant.objects.create(user=user, role=role, place=place, facility=facility)
    audit.record(
        actor=actor,
        action="grant.create",
        target=grant,
        place_path=target_place.path,
        data={"user": user.username, "role": role},
    )
    return grant


@transaction.atomic
def grant_revoke(*, actor, grant: Grant) -> Grant:
    if grant.revoked_at is None:
        grant.revoked_at = time.now()
        grant.save(update_fields=["revoked_at"])
        ApiToken.objects.filter(grant=grant, revoked_at__isnull=True).update(revoked_at=time.now())
        audit.record(actor=actor, action="grant.revoke", target=grant, place_path=grant.scope_place.path)
    return grant


@transaction.atomic
def role_permission_set(*, actor, role: str, permission: str, allowed: bool) -> None:
    """Change the permission table (data). The three administrative roles never gain personal-data rights."""
    if role not in Role.values or permission not in Perm.values:
        raise DomainError("permission.unknown", _("角色或权限无效。"), "permission")
    from .roles import ADMINISTRATIVE_ROLES

    if allowed and role in ADMINISTRATIVE_ROLES and permission.startswith("person."):
        raise DomainError(
            "permission.separation", _("三员分立：管理类角色不能获得人员数据权限。"), "permission"
        )
    if allowed:
        created = RolePermission.objects.get_or_create(role=role, permission=permission)[1]
    else:
        created = bool(RolePermission.objects.filter(role=role, permission=permission).delete()[0])
    if created:
        audit.record(
            actor=actor,
            action="permission.grant" if allowed else "permission.revoke",
            object_type="role",
            object_id=role,
            data={"permission": permission},
        )


@transaction.atomic
def token_create(*, actor, grant: Grant, name: str) -> tuple[ApiToken, str]:
    """Issue a token for one grant; the secret is shown once and only its hash is kept."""
    name = (name or "").strip() or "API"
    if grant.revoked_at is not None:
        raise DomainError("token.grant_revoked", _("该授权已撤销。"), "grant")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=grant.user, grant=grant, name=name[:60], key_id=key_id, key_hash=ApiToken.hash_secret(secret)
    )
    audit.record(actor=actor, action="token.create", target=token, place_path=grant.scope_place.path)
    return token, f"{ApiToken.PREFIX}{key_id}_{secret}"


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = time.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="token.revoke", target=token)
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """Find the active token for a presented secret, in constant time on the secret comparison."""
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    try:
        key_id, secret = raw[len(ApiToken.PREFIX) :].split("_", 1)
    except ValueError:
        return None
    token = (
        ApiToken.objects.select_related("user", "grant__user", "grant__place", "grant__facility__place")
        .filter(key_id=key_id, revoked_at__isnull=True, grant__revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not secrets.compare_digest(token.key_hash, ApiToken.hash_secret(secret)):
        return None
    token.touch()
    return token


def login_record(*, actor, username: str, success: bool, reason: str = "") -> None:
    """Each login success and failure is one audit row (the failure names the username tried)."""
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="login.success" if success else "login.failure",
            object_type="user",
            object_id=username[:64],
            reason=reason,
        )
