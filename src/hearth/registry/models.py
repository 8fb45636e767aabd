from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hearth.accounts.scoping import ScopedQuerySet
from hearth.core import time
from hearth.core.models import PublicIdModel

from .codes import DocumentType, Education, Ethnicity, MaritalStatus, RelationToHead


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class ResidenceType(models.TextChoices):
    HUKOU_RESIDENT = "hukou_resident", _("户籍常住")
    SEPARATED = "separated", _("人户分离")
    INFLOW = "inflow", _("流入")
    OUTFLOW = "outflow", _("流出")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    DECEASED = "deceased", _("死亡")
    DEPARTED = "departed", _("迁出")
    # A duplicate record folded into another (PersonMerge): kept with its history, out of every list.
    MERGED = "merged", _("已合并")


class PersonQuerySet(ScopedQuerySet):
    # Denormalised from the dwelling's place so every scoped read is one indexed range on this table.
    scope_path_field = "place_path"
    facility_person_field = "pk"


class Person(PublicIdModel):
    """人员: one resident of the registry (全员人口). State changes only through life events."""

    name = models.CharField(_("姓名"), max_length=50)
    former_names = models.JSONField(_("曾用名"), default=list, blank=True)
    # Computed once when the name is saved: every reading of a heteronym surname, space-separated.
    pinyin = models.CharField(_("姓名拼音"), max_length=200, blank=True)
    initials = models.CharField(_("拼音首字母"), max_length=60, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    ethnicity = models.CharField(_("民族"), max_length=2, choices=Ethnicity.choices, default=Ethnicity.HAN)
    id_type = models.CharField(
        _("证件类型"), max_length=20, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    # The document number is stored only encrypted, with keyed blind indexes for lookups (ADR 0004).
    id_cipher = models.BinaryField(_("证件号码（密文）"), null=True, blank=True)
    # Indexes for these are declared in Meta: equality lookups only, so PostgreSQL needs no `_like` twins.
    id_key = models.CharField(_("密钥编号"), max_length=16, blank=True)
    id_index = models.CharField(max_length=32, null=True, blank=True)
    id_tail6 = models.CharField(max_length=16, blank=True)
    id_tail4 = models.CharField(max_length=16, blank=True)
    # A legacy import may keep a number that fails validation; such persons are a worklist.
    id_unverified = models.BooleanField(_("证件号码待核实"), default=False)
    hukou_code = models.CharField(
        _("户籍地"), max_length=6, blank=True, help_text=_("GB/T 2260 行政区划代码")
    )
    dwelling = models.ForeignKey(
        "places.Dwelling", verbose_name=_("现住房屋"), on_delete=models.PROTECT, related_name="residents"
    )
    place_path = models.CharField(max_length=200, editable=False, default="")
    residence_type = models.CharField(
        _("居住类型"), max_length=20, choices=ResidenceType.choices, default=ResidenceType.HUKOU_RESIDENT
    )
    marital_status = models.CharField(
        _("婚姻状况"), max_length=2, choices=MaritalStatus.choices, default=MaritalStatus.UNSTATED
    )
    education = models.CharField(_("学历"), max_length=2, choices=Education.choices, blank=True)
    occupation = models.CharField(_("职业"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    notes = models.TextField(_("备注"), max_length=500, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=PersonStatus.choices, default=PersonStatus.ACTIVE
    )
    status_since = models.DateField(_("状态日期"), null=True, blank=True)
    household = models.ForeignKey(
        "Household",
        verbose_name=_("户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    relation_to_head = models.CharField(
        _("与户主关系"), max_length=2, choices=RelationToHead.choices, blank=True
    )
    spouse = models.ForeignKey(
        "self",
        verbose_name=_("配偶"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never looked up from the other side
    )
    # Partial indexes in Meta: most persons on file have no parent on file, and no import sets one.
    mother = models.ForeignKey(
        "self",
        verbose_name=_("母亲"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    father = models.ForeignKey(
        "self",
        verbose_name=_("父亲"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # Set with status `merged`: the record this duplicate was folded into (registry/merge.py).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并到"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_records",
        db_index=False,  # partial index in Meta: almost every row is empty
    )
    # Optimistic locking: an edit made from a stale page is refused instead of silently overwriting.
    version = models.PositiveIntegerField(default=1)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["pinyin", "name", "id"]
        indexes = [
            models.Index(fields=["name"], name="person_name"),
            # Scope (a place_path range) and the age lists (birth-date ranges within it) share one index;
            # on PostgreSQL it also carries what a name/pinyin search filters on, so the search finds its
            # ids in an index-only scan (SQLite builds it without the INCLUDE).
            models.Index(
                fields=["place_path", "birth_date"],
                include=["status", "name", "pinyin", "initials", "id"],
                name="person_path_birth",
            ),
            models.Index(fields=["id_tail6"], name="person_id_tail6"),
            models.Index(fields=["id_tail4"], name="person_id_tail4"),
            models.Index(fields=["phone"], name="person_phone", condition=~Q(phone="")),
            models.Index(
                fields=["merged_into"], name="person_merged_into", condition=Q(merged_into__isnull=False)
            ),
            models.Index(fields=["mother"], name="person_mother", condition=Q(mother__isnull=False)),
            models.Index(fields=["father"], name="person_father", condition=Q(father__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="person_sex_valid"),
            models.UniqueConstraint(fields=["id_index"], name="person_id_index_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place_path(self) -> str:
        return self.place_path

    @property
    def is_active(self) -> bool:
        return self.status == PersonStatus.ACTIVE

    def age(self, as_of=None) -> int:
        return time.age_on(self.birth_date, as_of or time.today())


class HouseholdQuerySet(ScopedQuerySet):
    scope_path_field = "dwelling__place__path"


class Household(PublicIdModel):
    """户: the people living in one dwelling, with a head and each member's relation to the head."""

    dwelling = models.ForeignKey(
        "places.Dwelling", verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="households"
    )
    head = models.ForeignKey(
        Person, verbose_name=_("户主"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    number = models.CharField(_("户编号"), max_length=30, blank=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return str(self.dwelling)

    @property
    def audit_place_path(self) -> str:
        return self.dwelling.place.path


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("登记")
    BIRTH = "birth", _("出生")
    CHILDBIRTH = "childbirth", _("生育")
    MARRIAGE = "marriage", _("结婚")
    DIVORCE = "divorce", _("离婚")
    WIDOWHOOD = "widowhood", _("丧偶")
    DEATH = "death", _("死亡")
    MOVE_IN = "move_in", _("迁入")
    MOVE_OUT = "move_out", _("迁出")
    DWELLING_CHANGE = "dwelling_change", _("变更住址")
    HUKOU_CHANGE = "hukou_change", _("户籍变更")
    DETAILS_CHANGE = "details_change", _("信息变更")
    CORRECTION = "correction", _("更正")


class EventSource(models.TextChoices):
    COUNTER = "counter", _("窗口登记")
    VOLUNTEER_REPORT = "volunteer_report", _("信息员报告")
    PARTNER_LIST = "partner_list", _("部门比对")
    IMPORT = "import", _("批量导入")


class LifeEventQuerySet(ScopedQuerySet):
    scope_path_field = "person__place_path"


class LifeEvent(PublicIdModel):
    """生活事件: append-only (database triggers refuse UPDATE and DELETE). A mistake gets a correcting event."""

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=20, choices=EventKind.choices)
    occurred_on = models.DateField(_("发生日期"))
    source = models.CharField(_("来源"), max_length=20, choices=EventSource.choices)
    reporter = models.CharField(_("报告人"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.Grant",
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,  # grants are never deleted; no query starts from the recorder
    )
    # What changed: field names with before/after for ordinary fields; never an ID number's value.
    data = models.JSONField(_("内容"), default=dict, blank=True)
    attachment = models.FileField(_("附件"), upload_to="events/%Y/%m/", blank=True)
    # Almost always empty: partial indexes (Meta) instead of full ones.
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("更正的事件"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    change_report = models.ForeignKey(
        "ChangeReport", on_delete=models.PROTECT, null=True, blank=True, related_name="events", db_index=False
    )

    objects = LifeEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("生活事件")
        verbose_name_plural = _("生活事件")
        ordering = ["occurred_on", "id"]
        indexes = [
            models.Index(fields=["kind", "occurred_on"], name="event_kind_date"),
            models.Index(fields=["corrects"], name="event_corrects", condition=Q(corrects__isnull=False)),
            models.Index(
                fields=["change_report"], name="event_report", condition=Q(change_report__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"

    @property
    def audit_place_path(self) -> str:
        return self.person.place_path


class ChangeKind(models.TextChoices):
    MOVED_IN = "moved_in", _("有人迁入")
    MOVED_OUT = "moved_out", _("有人迁出")
    BIRTH = "birth", _("出生")
    DEATH = "death", _("死亡")
    MARRIAGE = "marriage", _("结婚")
    OTHER = "other", _("其他")


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已退回")


class ChangeReportQuerySet(ScopedQuerySet):
    scope_path_field = "dwelling__place__path"


class ChangeReport(PublicIdModel):
    """变动报告: what a building volunteer (信息员) saw at a dwelling, for the community officer to confirm."""

    dwelling = models.ForeignKey(
        "places.Dwelling", verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="change_reports"
    )
    kind = models.CharField(_("变动类型"), max_length=20, choices=ChangeKind.choices)
    text = models.TextField(_("情况说明"), max_length=500, blank=True)
    reported_by = models.ForeignKey(
        "accounts.Grant", verbose_name=_("报告人"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        "accounts.Grant",
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    # The reason given when rejecting (the volunteer sees it), or the officer's note when confirming.
    decision_reason = models.CharField(_("处理意见"), max_length=300, blank=True)

    objects = ChangeReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("变动报告")
        verbose_name_plural = _("变动报告")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.dwelling}"

    @property
    def audit_place_path(self) -> str:
        return self.dwelling.place.path


class ListDefinition(PublicIdModel):
    """派生名单: a list of persons defined by a condition (registry/conditions.py), kept as data."""

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    spec = models.JSONField(_("条件"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("派生名单")
        verbose_name_plural = _("派生名单")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    APPROVED = "approved", _("已同意")
    DECLINED = "declined", _("未同意")


class TransferRequestQuerySet(ScopedQuerySet):
    # The place holding the person decides; the requester finds their own through `requested_by`.
    scope_path_field = "person__place_path"


class TransferRequest(PublicIdModel):
    """迁移申请: a person registered elsewhere asks to be moved to a dwelling in the requester's scope.

    The requester never sees the other place's record: only that a request exists and how it was decided.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="transfer_requests")
    to_dwelling = models.ForeignKey(
        "places.Dwelling", verbose_name=_("迁入房屋"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        "accounts.Grant", verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=300, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=TransferStatus.choices,
        default=TransferStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        "accounts.Grant",
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_reason = models.CharField(_("处理意见"), max_length=300, blank=True)

    objects = TransferRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("迁移申请")
        verbose_name_plural = _("迁移申请")
        ordering = ["-created_at", "-id"]

    @property
    def audit_place_path(self) -> str:
        return self.person.place_path


class MergeStatus(models.TextChoices):
    MERGED = "merged", _("已合并")
    UNDONE = "undone", _("已撤销")


class PersonMergeQuerySet(ScopedQuerySet):
    # Seen by those who see the kept record; undoing also needs the merged one (checked in merge.py).
    scope_path_field = "keep__place_path"


class PersonMerge(PublicIdModel):
    """人员合并: a duplicate record (`other`) folded into the record kept (`keep`), reversibly.

    `moved` lists exactly what the merge changed (fields filled on the kept record, the ID number, references
    moved from the duplicate to the kept record), so `merge.unmerge` can put back exactly that.
    """

    keep = models.ForeignKey(
        Person, verbose_name=_("保留记录"), on_delete=models.PROTECT, related_name="merges_kept"
    )
    other = models.ForeignKey(
        Person, verbose_name=_("被合并记录"), on_delete=models.PROTECT, related_name="merges_folded"
    )
    reason = models.CharField(_("合并原因"), max_length=300)
    merged_by = models.ForeignKey(
        "accounts.Grant",
        verbose_name=_("合并人"),
        on_delete=models.PROTECT,
        null=True,  # a system job
        related_name="+",
        db_index=False,
    )
    merged_at = models.DateTimeField(_("合并时间"), default=time.now)
    moved = models.JSONField(_("变更内容"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=MergeStatus.choices, default=MergeStatus.MERGED
    )
    undone_by = models.ForeignKey(
        "accounts.Grant",
        verbose_name=_("撤销人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undo_reason = models.CharField(_("撤销原因"), max_length=300, blank=True)

    objects = PersonMergeQuerySet.as_manager()

    class Meta:
        verbose_name = _("人员合并")
        verbose_name_plural = _("人员合并")
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(keep=models.F("other")), name="merge_two_records"),
            # A record is folded into one other record at a time.
            models.UniqueConstraint(fields=["other"], condition=Q(status="merged"), name="merge_other_once"),
        ]

    def __str__(self) -> str:
        return f"{self.other} → {self.keep}"

    @property
    def audit_place_path(self) -> str:
        return self.keep.place_path
