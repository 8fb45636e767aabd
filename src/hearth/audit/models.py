import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from hearth.core import time

# Columns a sealing update must leave untouched; the database triggers compare exactly these.
CONTENT_COLUMNS = (
    "at",
    "actor_user_id",
    "actor_username",
    "grant_id",
    "role",
    "via",
    "action",
    "object_type",
    "object_id",
    "place_path",
    "ip",
    "reason",
    "row_count",
    "data",
)


class AuditEntry(models.Model):
    """One audited action or read. Append-only; sealed into a hash chain by the sealer (ADR 0002)."""

    seq = models.BigIntegerField(_("序号"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")
    at = models.DateTimeField(_("时间"), default=time.now, db_index=True)
    # The user's id and name are copied, not only referenced, so the row reads the same forever.
    actor_user_id = models.BigIntegerField(_("用户编号"), null=True, blank=True, db_index=True)
    actor_username = models.CharField(_("用户"), max_length=150, blank=True)
    grant_id = models.BigIntegerField(_("授权编号"), null=True, blank=True)
    role = models.CharField(_("角色"), max_length=30, blank=True)
    via = models.CharField(_("途径"), max_length=12, blank=True)
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=40, blank=True)
    object_id = models.CharField(_("对象"), max_length=64, blank=True, db_index=True)
    place_path = models.CharField(_("地区路径"), max_length=200, blank=True, db_index=True)
    ip = models.CharField(_("IP"), max_length=45, blank=True)
    reason = models.CharField(_("事由"), max_length=300, blank=True)
    row_count = models.IntegerField(_("行数"), null=True, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["seq"], name="audit_unsealed", condition=models.Q(seq__isnull=True))]

    def __str__(self) -> str:
        return f"{self.seq or '-'} {self.action}"


class MaintenanceWindow(models.Model):
    """While a row here is open (closed_at null) in the current transaction, the triggers allow deletes.

    Opened and closed inside one transaction by the retention job (and the test teardown), together with
    the audit row that records why; other connections never see it open.
    """

    opened_at = models.DateTimeField(default=time.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300)

    class Meta:
        verbose_name = _("审计维护窗口")

    def __str__(self) -> str:
        return self.reason


class ExportRequest(models.Model):
    """A request to export personal data. Above the threshold it waits for the grant above to approve."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")
        DOWNLOADED = "downloaded", _("已下载")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("导出内容"), max_length=40)
    params = models.JSONField(_("条件"), default=dict)
    row_count = models.IntegerField(_("行数"))
    reason = models.CharField(_("用途"), max_length=300)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), default=time.now)
    place_path = models.CharField(max_length=200, db_index=True)
    decided_by = models.ForeignKey(
        "accounts.Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    file_hash = models.CharField(_("文件摘要"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("导出申请")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.row_count}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path
