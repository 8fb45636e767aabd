from django.db import models
from django.utils.translation import gettext_lazy as _

from . import time
from .ids import new_public_id


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
    """Records are addressed by an opaque UUID in URLs and the API, never by the row id (time-ordered: ids.py)."""
    return models.UUIDField(_("公开编号"), default=new_public_id, unique=True, editable=False)


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
