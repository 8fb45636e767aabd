"""Import jobs (数据导入): a spreadsheet of residents, checked in a dry run, then committed in one transaction."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import ScopedQuerySet
from hearth.core.models import PublicIdModel, TimeStampedModel


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("待确认表头")
    CHECKING = "checking", _("检查中")
    CHECKED = "checked", _("已检查，待导入")
    COMMITTING = "committing", _("导入中")
    COMMITTED = "committed", _("已导入")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


ACTIVE_STATUSES = (JobStatus.CHECKING, JobStatus.COMMITTING)


class StagedSheet(PublicIdModel):
    """A spreadsheet uploaded for a background run (an import, a partner list): the file's identity, its
    header and confirmed column mapping, and the run's progress, counts and stage times."""

    filename = models.CharField(_("文件名"), max_length=200)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64)
    file_size = models.PositiveIntegerField(_("文件大小"))
    token = models.CharField(max_length=64, blank=True)  # the staged upload (core.spreadsheet)
    header = models.JSONField(_("表头"), default=list)  # the header cells as written
    mapping = models.JSONField(_("列对应"), default=dict)  # {field: column index}
    stage = models.CharField(_("阶段"), max_length=40, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(_("统计"), default=dict)
    stage_seconds = models.JSONField(_("各阶段用时"), default=dict)
    message = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class ImportJobQuerySet(ScopedQuerySet):
    scope_path_field = "place__path"
    view_permission = Perm.PERSON_IMPORT


class ImportJob(StagedSheet):
    """导入任务: one uploaded file of residents into one place (a community or below), with its dry run and commit.

    The file itself stays in the upload staging area (core.spreadsheet) until the job is committed or expires;
    the job keeps its hash, the confirmed column mapping, the counts and the rows' problems.
    """

    place = models.ForeignKey(
        "places.Place", verbose_name=_("导入到"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_by = models.ForeignKey(
        "accounts.Grant", verbose_name=_("导入人"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("数据来源"), max_length=60)
    header_row = models.PositiveIntegerField(_("表头行"), default=1)
    keep_unverified = models.BooleanField(_("保留无法核验的旧证件号"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=JobStatus.choices, default=JobStatus.UPLOADED, db_index=True
    )
    cancel_requested = models.BooleanField(default=False)
    problems = models.JSONField(_("问题行"), default=dict)  # {"row number": "message"}, capped
    samples = models.JSONField(_("样例"), default=dict)  # a few rows per outcome, masked, for the page
    checked_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    committed_at = models.DateTimeField(_("导入时间"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} · {self.get_status_display()}"

    @property
    def audit_place_path(self) -> str:
        return self.place.path

    @property
    def running(self) -> bool:
        return self.status in ACTIVE_STATUSES


class SourceMapping(TimeStampedModel):
    """A saved column mapping for a recurring source (派出所户籍名单, 某社区台账): headers as written → fields."""

    source = models.CharField(_("数据来源"), max_length=60, unique=True)
    headers = models.JSONField(_("表头对应"), default=dict)  # {normalised header text: field}
    saved_by = models.ForeignKey(
        "accounts.Grant", verbose_name=_("保存人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("表头对应方案")
        verbose_name_plural = _("表头对应方案")
        ordering = ["source"]

    def __str__(self) -> str:
        return self.source
