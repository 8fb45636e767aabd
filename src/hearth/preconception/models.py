"""孕前优生: the free pre-pregnancy eugenic check (免费孕前优生健康检查, seed 004) of a couple who chose it.

A couple enrols with the woman's agreement (登记); each partner is examined only with their own consent; clinic
staff of the station enter the 19 items, a risk category and advice; the assessment (评估建议书) is delivered as
the person asks and the delivery recorded; abnormal results get follow-up entries; a pregnancy-outcome follow-up
is recorded only if the woman agreed to it. Results are clinical (PIPL sensitive): only clinic staff read them.
Nothing here counts or pushes pregnancies (DOMAIN.md "Scope").
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hearth.accounts.roles import Perm
from hearth.accounts.scoping import ScopedQuerySet
from hearth.core.models import PublicIdModel


class Partner(models.TextChoices):
    WOMAN = "woman", _("女方")
    MAN = "man", _("男方")


class Status(models.TextChoices):
    ENROLLED = "enrolled", _("已登记")
    EXAMINED = "examined", _("已检查")
    ASSESSED = "assessed", _("已评估")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("本人已退出")


# An enrolment in progress: one per woman at a time (a delivered one may be followed by a new one later).
IN_PROGRESS = (Status.ENROLLED, Status.EXAMINED, Status.ASSESSED)


class Risk(models.TextChoices):
    GENERAL = "general", _("一般人群")
    HIGH = "high", _("高风险人群")


class DeliveryMethod(models.TextChoices):
    SELF = "self", _("本人签收")
    FAMILY = "family", _("家属代收")
    MAIL = "mail", _("邮寄")
    KEPT = "kept", _("代为保存")


class OutcomeKind(models.TextChoices):
    EARLY_PREGNANCY = "early_pregnancy", _("早孕随访")
    LIVE_BIRTH = "live_birth", _("活产")
    BIRTH_DEFECT = "birth_defect", _("活产，有出生缺陷")
    MISCARRIAGE = "miscarriage", _("自然流产")
    STILLBIRTH = "stillbirth", _("死胎死产")
    ECTOPIC = "ectopic", _("异位妊娠")
    OTHER = "other", _("其他")


class EnrolmentQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW
    facility_person_field = "woman_id"

    def for_facility(self, facility):
        # The station's staff see the enrolments made with their station, not every enrolment of a woman they
        # happen to reach through some other relation.
        return self.filter(facility=facility)


class Enrolment(PublicIdModel):
    """参检登记: a couple enrolled for the free pre-pregnancy check at a station serving the woman's place."""

    woman = models.ForeignKey("registry.Person", verbose_name=_("女方"), on_delete=models.PROTECT,
                              related_name="+")  # fmt: skip
    # The man when he is on this registry; otherwise his name and a masked ID number typed in (never the
    # plaintext number: this table has no encryption of its own).
    man = models.ForeignKey("registry.Person", verbose_name=_("男方"), on_delete=models.PROTECT, null=True,
                            blank=True, related_name="+")  # fmt: skip
    man_name = models.CharField(_("男方姓名"), max_length=50, blank=True)
    man_id_masked = models.CharField(_("男方证件号码（隐去）"), max_length=20, blank=True)
    woman_consent = models.BooleanField(_("女方同意检查"), default=False)
    woman_consent_at = models.DateTimeField(_("女方同意时间"), null=True, blank=True)
    man_consent = models.BooleanField(_("男方同意检查"), default=False)
    man_consent_at = models.DateTimeField(_("男方同意时间"), null=True, blank=True)
    # A separate agreement of the woman to be asked about the pregnancy's outcome later (妊娠结局随访).
    outcome_consent = models.BooleanField(_("同意妊娠结局随访"), default=False)
    outcome_consent_at = models.DateTimeField(_("同意随访时间"), null=True, blank=True)
    facility = models.ForeignKey("places.Facility", verbose_name=_("检查机构"), on_delete=models.PROTECT,
                                 related_name="+")  # fmt: skip
    agreed_on = models.DateField(_("约定检查日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ENROLLED)
    # The woman's place when enrolled, for scoping.
    place_path = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        "accounts.Grant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    withdrawn_at = models.DateTimeField(_("退出时间"), null=True, blank=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("孕前优生检查登记")
        verbose_name_plural = _("孕前优生检查登记")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["place_path", "created_at"], name="precon_enrolment_path"),
            models.Index(fields=["facility", "status"], name="precon_enrolment_facility"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["woman"], condition=Q(status__in=IN_PROGRESS),
                                    name="precon_enrolment_one_open"),
            # The woman's agreement is what an enrolment is.
            models.CheckConstraint(condition=Q(woman_consent=True) | Q(status="withdrawn"),
                                   name="precon_enrolment_woman_consent"),
            # The man is on the registry, or named in text (with no registry record beside it).
            models.CheckConstraint(condition=Q(man__isnull=False, man_name="", man_id_masked="")
                                   | Q(man__isnull=True) & ~Q(man_name=""),
                                   name="precon_enrolment_man_named"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.woman_id}:{self.created_at:%Y-%m-%d}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path

    @property
    def man_display(self) -> str:
        return self.man.name if self.man_id else self.man_name

    def consent_of(self, who: str) -> bool:
        return self.woman_consent if who == Partner.WOMAN else self.man_consent

    @property
    def is_open(self) -> bool:
        return self.status != Status.WITHDRAWN


class ExaminationQuerySet(ScopedQuerySet):
    scope_path_field = "place_path"
    view_permission = Perm.CARE_VIEW
    facility_person_field = "person_id"

    def for_facility(self, facility):
        return self.filter(enrolment__facility=facility)


class Examination(PublicIdModel):
    """检查结果: one partner's 19 (or 9) items, the risk category and advice. Clinical: shown only to those with
    the clinical permission; others learn only that it was done and whether follow-up is needed."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="examinations")
    who = models.CharField(_("参检人"), max_length=5, choices=Partner.choices)
    # Empty for a man who is not on the registry.
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")  # fmt: skip
    items = models.JSONField(_("检查项目"), default=dict)
    risk = models.CharField(_("风险评估"), max_length=8, choices=Risk.choices, blank=True)
    advice = models.TextField(_("咨询指导建议"), max_length=2000, blank=True)
    # Any item abnormal, or assessed as high risk: said to everyone who sees the enrolment as "需随访".
    needs_follow_up = models.BooleanField(_("需随访"), default=False)
    examined_on = models.DateField(_("检查日期"))
    examined_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, related_name="+",
                                    db_index=False)  # fmt: skip
    place_path = models.CharField(max_length=200)

    objects = ExaminationQuerySet.as_manager()

    class Meta:
        verbose_name = _("孕前优生检查结果")
        verbose_name_plural = _("孕前优生检查结果")
        ordering = ["enrolment", "who"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "who"], name="precon_examination_once"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id}:{self.who}"

    @property
    def audit_place_path(self) -> str:
        return self.place_path

    @property
    def assessed(self) -> bool:
        return bool(self.risk)


class _ChildQuerySet(ScopedQuerySet):
    """Rows hanging off an examination: scoped by its place, reached by the facility of its enrolment."""

    scope_path_field = "examination__place_path"
    view_permission = Perm.CARE_VIEW

    def for_facility(self, facility):
        return self.filter(examination__enrolment__facility=facility)


class Delivery(PublicIdModel):
    """送达: how the assessment (评估建议书) reached the person — signed for in person, by a family member, by
    mail, or kept at the station, as the person asked. A person with abnormal results signs for it in person."""

    examination = models.OneToOneField(Examination, on_delete=models.PROTECT, related_name="delivery")
    method = models.CharField(_("送达方式"), max_length=8, choices=DeliveryMethod.choices)
    recipient = models.CharField(_("代收人"), max_length=50, blank=True)
    delivered_on = models.DateField(_("送达日期"))
    delivered_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, related_name="+",
                                     db_index=False)  # fmt: skip

    objects = _ChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("评估建议书送达")
        verbose_name_plural = _("评估建议书送达")
        constraints = [
            models.CheckConstraint(condition=~Q(method="family") | ~Q(recipient=""),
                                   name="precon_delivery_family_named"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.examination_id}:{self.method}"


class FollowUp(PublicIdModel):
    """随访: a contact about abnormal results (guidance, a visit, a call). A note written by clinic staff is
    clinical and shown only to those with the clinical permission."""

    examination = models.ForeignKey(Examination, on_delete=models.PROTECT, related_name="follow_ups")
    occurred_on = models.DateField(_("随访日期"))
    note = models.CharField(_("随访情况"), max_length=500)
    clinical = models.BooleanField(_("临床内容"), default=False)
    recorded_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, related_name="+",
                                    db_index=False)  # fmt: skip

    objects = _ChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("孕前优生随访")
        verbose_name_plural = _("孕前优生随访")
        ordering = ["occurred_on", "id"]

    def __str__(self) -> str:
        return f"{self.examination_id}:{self.occurred_on}"


class OutcomeQuerySet(ScopedQuerySet):
    scope_path_field = "enrolment__place_path"
    view_permission = Perm.CARE_CLINICAL

    def for_facility(self, facility):
        return self.filter(enrolment__facility=facility)


class PregnancyOutcome(PublicIdModel):
    """妊娠结局随访: recorded by clinic staff only when the woman agreed to it at or after enrolment."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="outcomes")
    kind = models.CharField(_("随访结果"), max_length=16, choices=OutcomeKind.choices)
    occurred_on = models.DateField(_("日期"))
    note = models.CharField(_("备注"), max_length=500, blank=True)
    recorded_by = models.ForeignKey("accounts.Grant", on_delete=models.PROTECT, related_name="+",
                                    db_index=False)  # fmt: skip

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        verbose_name = _("妊娠结局随访")
        verbose_name_plural = _("妊娠结局随访")
        ordering = ["occurred_on", "id"]

    def __str__(self) -> str:
        return f"{self.enrolment_id}:{self.kind}"
