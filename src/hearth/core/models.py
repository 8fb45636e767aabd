import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from . import time


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), default=time.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=time.now)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.updated_at = time.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "updated_at" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "updated_at"]
        super().save(*args, **kwargs)


def public_id_field() -> models.UUIDField:
    """Records are addressed by an opaque UUID in URLs and the API, never by the row id."""
    return models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)


class PublicIdModel(TimeStampedModel):
    public_id = public_id_field()

    class Meta:
        abstract = True


class SystemSetting(models.Model):
    """Policy values set as data by the system administrator (e.g. the export approval threshold)."""

    key = models.CharField(_("键"), max_length=80, unique=True)
    value = models.JSONField(_("值"))
    updated_at = models.DateTimeField(_("更新时间"), default=time.now)

    class Meta:
        verbose_name = _("系统设置")
        verbose_name_plural = _("系统设置")

    def __str__(self) -> str:
        return self.key


class Job(TimeStampedModel):
    """Progress of a long task, polled by the page that started it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("类型"), max_length=60)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("总数"), default=0)
    done = models.PositiveIntegerField(_("已完成数"), default=0)
    message = models.TextField(_("说明"), blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("后台任务")

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == "done" else 0)
