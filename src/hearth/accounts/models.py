import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hearth.core import time
from hearth.core.models import PublicIdModel, TimeStampedModel, public_id_field

from .roles import Perm, Role


class User(AbstractUser):
    """A staff account. What it may do comes from its grants, never from the account itself."""

    public_id = public_id_field()
    full_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    # Demo accounts (HEARTH_DEMO=1) are not held to two-factor login.
    is_demo = models.BooleanField(_("演示账号"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username


class RolePermission(models.Model):
    """One row per (role, permission): the permission table, shown and edited as data."""

    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    permission = models.CharField(_("权限"), max_length=40, choices=Perm.choices)

    class Meta:
        verbose_name = _("角色权限")
        constraints = [models.UniqueConstraint(fields=["role", "permission"], name="role_permission_unique")]

    def __str__(self) -> str:
        return f"{self.role}:{self.permission}"


class GrantQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class Grant(PublicIdModel):
    """授权: a role held by a user at a place (or, for clinic staff, at a facility)."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="grants")
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    place = models.ForeignKey(
        "places.Place",
        verbose_name=_("地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    facility = models.ForeignKey(
        "places.Facility",
        verbose_name=_("服务机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(place__isnull=False, facility__isnull=True)
                    | Q(place__isnull=True, facility__isnull=False)
                ),
                name="grant_place_xor_facility",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.where}"

    @property
    def where(self):
        return self.facility if self.facility_id else self.place

    @property
    def scope_place(self):
        """The place whose subtree this grant reaches (a facility's grants reach its own place)."""
        return self.facility.place if self.facility_id else self.place


class ApiToken(TimeStampedModel):
    """A personal API token acting exactly as one grant. Only a hash of the secret is stored."""

    PREFIX = "hth_"

    public_id = public_id_field()
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=60)
    key_id = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_secret(secret: str) -> str:
        # The secret has 256 bits of entropy, so one SHA-256 is enough (no password-style stretching).
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.grant.revoked_at is None

    def touch(self) -> None:
        ApiToken.objects.filter(pk=self.pk).update(last_used_at=time.now())
