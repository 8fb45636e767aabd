"""Record linkage (部门名单比对): partner departments' lists matched against the registry, and duplicates in it.

A partner list's rows are kept without the plaintext ID number: only its blind indexes (as the registry's)
and a masked form to show. What a row is matched to, how sure, and why (the weights per comparison) stay
with the row; an officer's decision on a pair is remembered by a keyed fingerprint of the row, so the same
person on next month's list is not asked about again.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import ScopedQuerySet
from hearth.core.models import PublicIdModel, TimeStampedModel
from hearth.imports.models import StagedSheet


class PartnerKind(models.TextChoices):
    POLICE_HUKOU = "police_hukou", _("公安户籍名单")
    TEMPORARY_RESIDENCE = "temporary_residence", _("暂住登记名单")
    MARRIAGE = "marriage", _("婚姻登记名单")
    BIRTH = "birth", _("出生医学证明名单")
    DEATH = "death", _("死亡（火化）名单")
    HOSPITAL = "hospital", _("医院就诊名单")
    OTHER = "other", _("其他部门名单")


class ListStatus(models.TextChoices):
    UPLOADED = "uploaded", _("待确认表头")
    LINKING = "linking", _("比对中")
    LINKED = "linked", _("已比对")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class PartnerListQuerySet(ScopedQuerySet):
    scope_path_field = "place__path"
    view_permission = Perm.PERSON_LINK


class PartnerList(StagedSheet):
    """部门名单: one partner department's list, matched against the registry below one place."""

    place = models.ForeignKey(
        "places.Place", verbose_name=_("比对范围"), on_delete=models.PROTECT, related_name="partner_lists"
    )
    created_by = models.ForeignKey(
        "accounts.Grant", verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("名单类型"), max_length=24, choices=PartnerKind.choices)
    source = models.CharField(_("提供部门"), max_length=60)
    status = models.CharField(
        _("状态"), max_length=12, choices=ListStatus.choices, default=ListStatus.UPLOADED, db_index=True
    )
    candidate_pairs = models.JSONField(_("候选对数"), default=dict)  # per blocking rule
    linked_at = models.DateTimeField(_("比对时间"), null=True, blank=True)

    objects = PartnerListQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门名单")
        verbose_name_plural = _("部门名单")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} · {self.filename}"

    @property
    def audit_place_path(self) -> str:
        return self.place.path

    @property
    def running(self) -> bool:
        return self.status == ListStatus.LINKING


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("待比对")
    SURE = "sure", _("确定匹配")
    POSSIBLE = "possible", _("待人工确认")
    ACCEPTED = "accepted", _("已确认为同一人")
    UNMATCHED = "unmatched", _("未在册（漏档）")
    ELSEWHERE = "elsewhere", _("已在其他地区登记")
    REGISTERED = "registered", _("已补登")


MATCHED = (RecordStatus.SURE, RecordStatus.ACCEPTED)


class PartnerRecordQuerySet(ScopedQuerySet):
    # The community the row's address resolves to, else the list's place: the 漏档 worklist is per community.
    scope_path_field = "place_path"
    view_permission = Perm.PERSON_LINK


class PartnerRecord(models.Model):
    """名单中的一行. The ID number is kept only as blind indexes and a masked form."""

    partner_list = models.ForeignKey(PartnerList, on_delete=models.CASCADE, related_name="records")
    row = models.PositiveIntegerField(_("行号"))
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    sex = models.CharField(_("性别"), max_length=1, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_masked = models.CharField(_("证件号码"), max_length=24, blank=True)
    id_index = models.CharField(max_length=32, null=True, blank=True)
    id_tail6 = models.CharField(max_length=16, blank=True)
    id_tail4 = models.CharField(max_length=16, blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    address_key = models.CharField(max_length=200, blank=True)  # the address's local key, for matching
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    event_date = models.DateField(_("事件日期"), null=True, blank=True)  # death, marriage, birth …
    dwelling = models.ForeignKey(
        "places.Dwelling", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    place_path = models.CharField(max_length=200, default="")
    fingerprint = models.CharField(max_length=32)  # keyed: name, birth date, sex, ID index
    status = models.CharField(
        _("比对结果"), max_length=12, choices=RecordStatus.choices, default=RecordStatus.PENDING
    )
    # No database constraint: the ids come from the registry in the same run, and checking a million of
    # them at COMMIT costs ~20 s of a run; persons are never deleted (their append-only events protect them).
    person = models.ForeignKey(
        "registry.Person", verbose_name=_("匹配人员"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_constraint=False,
    )  # fmt: skip
    match_weight = models.FloatField(_("匹配权重"), null=True, blank=True)
    match_probability = models.FloatField(_("匹配概率"), null=True, blank=True)
    explanation = models.JSONField(_("比对说明"), default=list, blank=True)
    # Facts of a matched row that the registry holds differently: {field: [registry, partner]}.
    disagreements = models.JSONField(_("不一致的信息"), default=dict, blank=True)
    decided_by = models.ForeignKey(
        "accounts.Grant", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = PartnerRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("名单记录")
        verbose_name_plural = _("名单记录")
        ordering = ["partner_list", "row"]
        indexes = [
            models.Index(fields=["partner_list", "status"], name="partner_record_status"),
            models.Index(fields=["place_path", "status"], name="partner_record_path"),
            models.Index(fields=["person"], name="partner_record_person", condition=Q(person__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.partner_list_id}:{self.row}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path


class Candidate(models.Model):
    """A possible match of a row (候选): up to three per row, for the side-by-side review."""

    record = models.ForeignKey(PartnerRecord, on_delete=models.CASCADE, related_name="candidates")
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    match_weight = models.FloatField()
    match_probability = models.FloatField()
    explanation = models.JSONField(default=list)

    class Meta:
        ordering = ["record", "-match_weight"]
        constraints = [models.UniqueConstraint(fields=["record", "person"], name="candidate_unique")]

    def __str__(self) -> str:
        return f"{self.record_id}→{self.person_id}"


class Decision(models.TextChoices):
    SAME = "same", _("是同一人")
    DIFFERENT = "different", _("不是同一人")


class LinkDecision(TimeStampedModel):
    """An officer's answer for one row fingerprint and one person, reused when the same pair comes again."""

    fingerprint = models.CharField(max_length=32)
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(_("结论"), max_length=10, choices=Decision.choices)
    decided_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fingerprint", "person"], name="link_decision_unique"),
        ]


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("不采纳")


class FactProposalQuerySet(ScopedQuerySet):
    scope_path_field = "person__place_path"
    view_permission = Perm.PERSON_LINK


class FactProposal(PublicIdModel):
    """A life fact from a partner list (death, marriage, childbirth) proposed for an officer to confirm."""

    record = models.ForeignKey(PartnerRecord, on_delete=models.CASCADE, related_name="proposals")
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("事件"), max_length=20)  # registry EventKind
    occurred_on = models.DateField(_("发生日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    event = models.ForeignKey(
        "registry.LifeEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    decided_by = models.ForeignKey(
        "accounts.Grant", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = FactProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("待确认事件")
        verbose_name_plural = _("待确认事件")
        ordering = ["occurred_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "kind"], name="fact_proposal_unique"),
        ]

    @property
    def audit_place_path(self) -> str:
        return self.person.place_path


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    MERGED = "merged", _("已合并")
    DISMISSED = "dismissed", _("不是同一人")


class DuplicatePairQuerySet(ScopedQuerySet):
    scope_path_field = "first__place_path"
    view_permission = Perm.PERSON_MERGE


class DuplicatePair(PublicIdModel):
    """Two registry persons that look like one (疑似重复), found by the same model; merged or dismissed."""

    first = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    match_weight = models.FloatField()
    match_probability = models.FloatField()
    explanation = models.JSONField(default=list)
    status = models.CharField(
        _("状态"), max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    decided_by = models.ForeignKey(
        "accounts.Grant", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = DuplicatePairQuerySet.as_manager()

    class Meta:
        verbose_name = _("疑似重复人员")
        verbose_name_plural = _("疑似重复人员")
        ordering = ["-match_weight", "id"]
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_unique")]

    @property
    def audit_place_path(self) -> str:
        return self.first.place_path
