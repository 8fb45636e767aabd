"""文书: documents issued to a person (a notice now, certificates later) and the batches that print many at once.

An issued document records that something was given or sent to a person — on paper (the PDF's SHA-256 is kept,
not the PDF) or by SMS (the text is kept: it is short and holds nothing clinical) — and whether it reached them.
Rows are scoped like the person's place when issued. A batch is one combined PDF made in the background (a
thousand notices for a check day), with its progress for the page that waits for it.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import ScopedQuerySet
from hearth.core.models import PublicIdModel

from . import policies


class DocumentKind(models.TextChoices):
    NOTICE = "notice", _("通知单")


class Channel(models.TextChoices):
    PRINT = "print", _("纸质")
    SMS = "sms", _("短信")


class DocumentStatus(models.TextChoices):
    ISSUED = "issued", _("已生成")
    SENT = "sent", _("已发出")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("未送达")


# Which permission reads and which changes the documents of each kind (certificates will add theirs).
VIEW_PERMISSION = {DocumentKind.NOTICE: Perm.CARE_VIEW}
CHANGE_PERMISSION = {DocumentKind.NOTICE: Perm.CARE_RECORD}


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队等待")
    RUNNING = "running", _("正在生成")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


ACTIVE_BATCH = (BatchStatus.QUEUED, BatchStatus.RUNNING)


class DocumentBatchQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW

    def visible_to(self, actor):
        return super().visible_to(actor).filter(policies.visible_q(actor))

    def for_facility(self, facility):
        # Clinic staff see the batches made at their facility (each holds only persons it reaches).
        return self.filter(facility=facility)


class DocumentBatch(PublicIdModel):
    """批量文书: one PDF of many documents of a kind (通知单 for a service, a place), made by a background task."""

    kind = models.CharField(_("类型"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    # What the documents are about, named by the app that makes them (a service's code): who may see them
    # is decided per kind and topic by that app's policy (policies.py).
    topic = models.CharField(_("主题"), max_length=60, blank=True)
    # The place the batch covers (the actor's scope or the place chosen), for scoping.
    place_path = models.CharField(max_length=200)
    facility = models.ForeignKey(
        "places.Facility", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    requested_by = models.ForeignKey(
        "accounts.Grant", verbose_name=_("生成人"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # What to make, for the task (e.g. {"service": "health_check", "place": "<uuid>", "limit": 1000}).
    params = models.JSONField(_("参数"), default=dict)
    status = models.CharField(
        _("状态"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    stage = models.CharField(_("阶段"), max_length=20, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # The PDF holds names and addresses: it is served only through the scoped download view, never as media.
    file = models.FileField(_("文件"), upload_to="documents/batches/%Y/%m/", blank=True)
    sha256 = models.CharField(_("文件摘要"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("文件大小"), default=0)
    count = models.PositiveIntegerField(_("份数"), default=0)
    seconds = models.FloatField(_("用时（秒）"), null=True, blank=True)
    message = models.CharField(_("说明"), max_length=300, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = DocumentBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("批量文书")
        verbose_name_plural = _("批量文书")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["place_path", "created_at"], name="document_batch_path")]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_place_path(self) -> str:
        return self.place_path

    @property
    def running(self) -> bool:
        return self.status in ACTIVE_BATCH

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class IssuedDocumentQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW
    facility_person_field = "person_id"

    def visible_to(self, actor):
        # The person's place (or the facility's reach), and then what the issuing app lets the actor see: a
        # volunteer must not learn from a notice's title that a neighbour is offered a health check.
        return super().visible_to(actor).filter(policies.visible_q(actor))


class IssuedDocument(PublicIdModel):
    """已发文书: one document given or sent to one person, and whether it reached them. Never clinical values."""

    kind = models.CharField(_("类型"), max_length=20, choices=DocumentKind.choices)
    person = models.ForeignKey(
        "registry.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="issued_documents"
    )
    # The person's place when issued, for scoping (like service records).
    place_path = models.CharField(max_length=200)
    title = models.CharField(_("标题"), max_length=200)
    topic = models.CharField(_("主题"), max_length=60, blank=True)
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices)
    # The SMS text, or a short summary of a printed document; never clinical values.
    body_text = models.CharField(_("内容"), max_length=500, blank=True)
    # What the document is about, named by the app that issued it (e.g. "care.due", "health_check:2025-06-01").
    related_type = models.CharField(_("关联类型"), max_length=40, blank=True)
    related_id = models.CharField(_("关联编号"), max_length=80, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED
    )
    issued_by = models.ForeignKey(
        "accounts.Grant", verbose_name=_("生成人"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    sent_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    failed_at = models.DateTimeField(_("未送达登记时间"), null=True, blank=True)
    status_note = models.CharField(_("说明"), max_length=200, blank=True)
    # Printed: the SHA-256 of the PDF it was printed in (its own, or its batch's).
    sha256 = models.CharField(_("文件摘要"), max_length=64, blank=True)
    batch = models.ForeignKey(
        DocumentBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        db_index=False,
    )

    objects = IssuedDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("已发文书")
        verbose_name_plural = _("已发文书")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["place_path", "created_at"], name="issued_document_path"),
            models.Index(fields=["topic", "place_path"], name="issued_document_topic"),
            models.Index(fields=["person", "created_at"], name="issued_document_person"),
            models.Index(fields=["related_type", "related_id", "channel"], name="issued_document_related"),
            models.Index(fields=["batch"], name="issued_document_batch", condition=Q(batch__isnull=False)),
        ]
        constraints = [
            # An SMS is its text; a status names when it was reached.
            models.CheckConstraint(condition=~Q(channel="sms") | ~Q(body_text=""), name="issued_document_sms_text"),
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False),
                                   name="issued_document_sent_at"),
            models.CheckConstraint(condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                                   name="issued_document_delivered_at"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.kind}:{self.person_id}:{self.channel}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path
