"""入户服务: the service catalogue as data, the services recorded, and the worklists computed from both.

Every service is one the person chooses (see DOMAIN.md "Scope"): a worklist says whom to offer a service to,
never whom to push; a person who declines closes the cycle, and nothing here is about procedures.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import ScopedQuerySet
from hearth.core.models import PublicIdModel


class Schedule(models.TextChoices):
    INTERVAL = "interval", _("定期（每隔若干个月）")
    ONCE = "once", _("一次")
    EVENT = "event", _("按事件（如分娩后第3–7天）")
    ON_REQUEST = "on_request", _("应本人要求")


class Outcome(models.TextChoices):
    DONE = "done", _("已服务")
    FOLLOW_UP = "follow_up", _("已服务，需随访")
    DECLINED = "declined", _("本人谢绝")
    NOT_REACHED = "not_reached", _("未见到本人")


# Outcomes that close a person's cycle: a service given, or declined (respected: no make-up, no reminders).
CLOSING = (Outcome.DONE, Outcome.FOLLOW_UP, Outcome.DECLINED)


class ServiceType(PublicIdModel):
    """服务项目: who is offered it, how often, who delivers it and what is recorded. Kept as data."""

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    # A spec in the registry's condition language; never on marital status (services are not rationed by it).
    condition = models.JSONField(_("服务对象条件"))
    schedule = models.CharField(_("周期"), max_length=12, choices=Schedule.choices)
    interval_months = models.PositiveSmallIntegerField(_("间隔月数"), null=True, blank=True)
    event_kind = models.CharField(_("触发事件"), max_length=20, blank=True)
    # Days after the event: [[3, 7], [28, 30]] is one visit on days 3–7 and one on days 28–30.
    event_windows = models.JSONField(_("事件后服务时段（天）"), default=list, blank=True)
    lead_days = models.PositiveSmallIntegerField(_("提前通知天数"), default=14)
    roles = models.JSONField(_("服务人员角色"), default=list, blank=True)
    facility_kind = models.CharField(_("服务机构类型"), max_length=20, blank=True)
    form = models.JSONField(_("记录项目"), default=list, blank=True)
    consent_required = models.BooleanField(_("须先记录知情同意"), default=False)
    clinical = models.BooleanField(_("结果属临床敏感信息"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class ServiceTypeVersion(models.Model):
    """服务项目的历史版本: what a service type said from each change on (records name the version they used)."""

    service = models.ForeignKey(ServiceType, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("版本"))
    snapshot = models.JSONField(_("内容"))
    changed_by = models.ForeignKey(
        "accounts.Grant", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    changed_at = models.DateTimeField(_("修改时间"))

    class Meta:
        verbose_name = _("服务项目版本")
        verbose_name_plural = _("服务项目版本")
        ordering = ["service", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["service", "version"], name="service_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} v{self.version}"


class ServiceRecordQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW
    facility_person_field = "person_id"


class ServiceRecord(PublicIdModel):
    """服务记录: one contact — a service given, declined, or a visit that found nobody. Never edited."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="service_records")
    service = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="records")
    service_version = models.PositiveIntegerField(_("项目版本"))
    occurred_on = models.DateField(_("服务日期"))
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices)
    # The form's values; for a clinical service shown only to those with the clinical permission.
    data = models.JSONField(_("记录内容"), default=dict, blank=True)
    consent = models.BooleanField(_("本人同意"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    # The person's place when recorded, for scoping: a person who moves keeps their history where it was made.
    place_path = models.CharField(max_length=200)
    facility = models.ForeignKey(
        "places.Facility", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    recorded_by = models.ForeignKey(
        "accounts.Grant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Sent by the page or the app with each submission: a double tap or a retry finds the first record.
    client_token = models.UUIDField(null=True, blank=True, unique=True)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            # One record of a service per person per day: a second submission is the same visit.
            models.UniqueConstraint(
                fields=["person", "service", "occurred_on"], name="service_record_once_a_day"
            ),
        ]
        indexes = [
            models.Index(fields=["service", "person", "occurred_on"], name="service_record_last"),
            models.Index(fields=["place_path", "occurred_on"], name="service_record_path"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.person_id}:{self.occurred_on}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path


class DueQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW
    facility_person_field = "person_id"


class Due(models.Model):
    """工作清单的一行: a person to offer a service to, from `due_on` (recomputed from the catalogue and records)."""

    # No database constraints: the rows are derived and rewritten wholesale (a million at a time), and checking
    # each one's service and person would cost a third of a recomputation; services and persons are never deleted.
    service = models.ForeignKey(
        ServiceType, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    person = models.ForeignKey(
        "registry.Person", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    place_path = models.CharField(max_length=200)
    dwelling = models.ForeignKey(
        "places.Dwelling", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+",
        db_constraint=False, db_index=False,
    )  # fmt: skip
    # Empty: due now — a cycle never closed (never offered, or not yet reached). Stable from day to day.
    due_on = models.DateField(_("应服务日期"), null=True, blank=True)
    window_end = models.DateField(_("最迟服务日期"), null=True, blank=True)  # event-based windows
    last_on = models.DateField(_("最近联系"), null=True, blank=True)
    last_outcome = models.CharField(_("最近结果"), max_length=12, choices=Outcome.choices, blank=True)
    offered = models.BooleanField(_("曾提供过"), default=False)

    objects = DueQuerySet.as_manager()

    class Meta:
        verbose_name = _("待服务")
        verbose_name_plural = _("待服务")
        # Recomputed, never edited: no Django-side ordering, the worklist query orders.
        indexes = [
            models.Index(fields=["place_path", "service", "due_on"], name="due_path_service"),
            models.Index(
                fields=["person"], name="due_person"
            ),  # a person's page; the unique one leads with service
        ]
        constraints = [
            models.UniqueConstraint(fields=["service", "person", "due_on"], name="due_unique"),
            models.CheckConstraint(condition=Q(window_end__isnull=True) | Q(window_end__gte=models.F("due_on")),
                                   name="due_window_after_start"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.service_id}:{self.person_id}:{self.due_on}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path


class ReferralKind(models.TextChoices):
    REFERRAL = "referral", _("转介")
    ENROLMENT = "enrolment", _("本机构登记")


class ReferralQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW
    facility_person_field = "person_id"


class Referral(PublicIdModel):
    """转介/登记: a person put in a facility's care — referred by an officer, or enrolled at the facility itself —
    always with the person's agreement. Clinic staff reach persons only through these (and what they did)."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="referrals")
    facility = models.ForeignKey("places.Facility", verbose_name=_("服务机构"), on_delete=models.PROTECT,
                                 related_name="referrals")  # fmt: skip
    service = models.ForeignKey(ServiceType, verbose_name=_("服务项目"), on_delete=models.PROTECT, null=True,
                                blank=True, related_name="referrals")  # fmt: skip
    kind = models.CharField(_("方式"), max_length=12, choices=ReferralKind.choices)
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    consent = models.BooleanField(_("本人同意"), default=False)
    place_path = models.CharField(max_length=200)
    made_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, related_name="+", db_index=False)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.Grant", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("转介")
        verbose_name_plural = _("转介")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["facility", "person"], name="referral_facility",
                         condition=Q(closed_at__isnull=True)),
            models.Index(fields=["place_path"], name="referral_path"),
        ]  # fmt: skip
        constraints = [
            # One open referral of a person to a facility at a time.
            models.UniqueConstraint(fields=["person", "facility"], condition=Q(closed_at__isnull=True),
                                    name="referral_open_once"),
            models.CheckConstraint(condition=Q(consent=True), name="referral_with_consent"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.person_id}→{self.facility_id}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path


# --------------------------------------------------------------------------------------------- check days


class CheckDayStatus(models.TextChoices):
    PLANNED = "planned", _("已安排")
    HELD = "held", _("已举行")
    # Its absent were invited to a make-up day (补检): nothing more is recorded on this one.
    CLOSED = "closed", _("已转补检")


class InvitationStatus(models.TextChoices):
    INVITED = "invited", _("待点名")
    ATTENDED = "attended", _("到场")
    ABSENT = "absent", _("未到")


class AbsenceReason(models.TextChoices):
    AWAY = "away", _("外出")
    ILL = "ill", _("生病")
    HEALTH = "health", _("身体原因")
    # Respected: it closes the person's cycle, with no make-up and no further notices for it.
    DECLINED = "declined", _("本人谢绝")
    OTHER = "other", _("其他")


class CheckDayQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW
    # A check day names no person; clinic staff see the days held at their facility instead (below).
    facility_person_field = ""

    def for_facility(self, facility):
        return self.filter(facility=facility)


class CheckDay(PublicIdModel):
    """集中康检日: a periodic service offered to a community's eligible on one day at one place; or a make-up
    day (补检) for those of an earlier day who could not come (not those who declined)."""

    service = models.ForeignKey(ServiceType, verbose_name=_("服务项目"), on_delete=models.PROTECT,
                                related_name="check_days")  # fmt: skip
    place = models.ForeignKey("places.Place", verbose_name=_("社区"), on_delete=models.PROTECT,
                              related_name="+", db_index=False)  # fmt: skip
    place_path = models.CharField(max_length=200)
    held_on = models.DateField(_("康检日期"))
    location = models.CharField(_("地点"), max_length=200)
    facility = models.ForeignKey("places.Facility", verbose_name=_("服务机构"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")  # fmt: skip
    makeup_of = models.ForeignKey("self", verbose_name=_("补检自"), on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", db_index=False)  # fmt: skip
    # The first day of a make-up chain (empty on that day itself): rates are counted over the chain.
    origin = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("状态"), max_length=10, choices=CheckDayStatus.choices,
                              default=CheckDayStatus.PLANNED)  # fmt: skip
    created_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, related_name="+",
                                   db_index=False)  # fmt: skip

    objects = CheckDayQuerySet.as_manager()

    class Meta:
        verbose_name = _("集中康检日")
        verbose_name_plural = _("集中康检日")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["place_path", "held_on"], name="checkday_path")]
        constraints = [
            # One make-up per day: a chain, so "attended after make-up" is counted once per person.
            models.UniqueConstraint(fields=["makeup_of"], name="checkday_one_makeup"),
            models.CheckConstraint(condition=Q(makeup_of__isnull=True, origin__isnull=True)
                                   | Q(makeup_of__isnull=False, origin__isnull=False),
                                   name="checkday_makeup_has_origin"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.service_id}@{self.place_id}:{self.held_on}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path


class InvitationQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW
    facility_person_field = "person_id"


class Invitation(models.Model):
    """康检邀请: a person invited to a check day, and whether they came (one tap) or why not (a coded reason)."""

    # No index of its own: the unique constraint (check_day, person) leads with it.
    check_day = models.ForeignKey(CheckDay, on_delete=models.PROTECT, related_name="invitations",
                                  db_index=False)  # fmt: skip
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="checkday_invitations"
    )
    status = models.CharField(_("到场情况"), max_length=10, choices=InvitationStatus.choices,
                              default=InvitationStatus.INVITED)  # fmt: skip
    reason = models.CharField(_("未到原因"), max_length=10, choices=AbsenceReason.choices, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    # The person's place when invited, for scoping (like service records).
    place_path = models.CharField(max_length=200)
    recorded_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", db_index=False)  # fmt: skip
    recorded_at = models.DateTimeField(_("记录时间"), null=True, blank=True)
    # The token of the tap that set the status: the same tap again (a double tap, a retry) changes nothing.
    client_token = models.UUIDField(null=True, blank=True, unique=True)
    # The contact this tap wrote (removed again if the tap is corrected on the day).
    record = models.ForeignKey(ServiceRecord, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", db_index=False)  # fmt: skip

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("康检邀请")
        verbose_name_plural = _("康检邀请")
        ordering = ["place_path", "id"]
        indexes = [models.Index(fields=["place_path"], name="invitation_path")]
        constraints = [
            models.UniqueConstraint(fields=["check_day", "person"], name="invitation_once"),
            # A reason says why someone did not come, and only that.
            models.CheckConstraint(condition=Q(status="absent") & ~Q(reason="")
                                   | ~Q(status="absent") & Q(reason=""),
                                   name="invitation_reason_if_absent"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.check_day_id}:{self.person_id}:{self.status}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path
