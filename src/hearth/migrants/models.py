"""流动人口与以房管人: inflow and outflow records on registry persons, landlords, and tenancies."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from hearth.accounts.scoping import ScopedQuerySet
from hearth.core.models import PublicIdModel


class InflowReason(models.TextChoices):
    WORK = "work", _("务工")
    BUSINESS = "business", _("经商")
    STUDY = "study", _("就学")
    FAMILY = "family", _("随迁家属")
    OTHER = "other", _("其他")


class Housing(models.TextChoices):
    OWN = "own", _("自有住房")
    RENTED = "rented", _("租赁房屋")
    DORM = "dorm", _("单位宿舍")


class PersonScopedQuerySet(ScopedQuerySet):
    scope_path_field = "person__place_path"


class InflowRecord(PublicIdModel):
    """流入人口登记: where from, since when, why, and the legacy certificate fields the seeds count."""

    person = models.OneToOneField(
        "registry.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="inflow"
    )
    from_region = models.CharField(_("来自地区"), max_length=6, help_text=_("GB/T 2260 行政区划代码"))
    since = models.DateField(_("流入日期"))
    reason = models.CharField(_("流入原因"), max_length=10, choices=InflowReason.choices)
    employer = models.CharField(_("工作单位或经营场所"), max_length=100, blank=True)
    housing = models.CharField(_("居住方式"), max_length=10, choices=Housing.choices)
    # Legacy fields kept for the seeds' figures (婚育证明); the certificate is not issued here.
    certificate_held = models.BooleanField(_("持有婚育证明"), default=False)
    certificate_checked_on = models.DateField(_("查验日期"), null=True, blank=True)
    agreement_signed = models.BooleanField(_("已签订租房协议"), default=False)
    agreement_date = models.DateField(_("协议日期"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = PersonScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("流入人口登记")
        verbose_name_plural = _("流入人口登记")

    @property
    def audit_place_path(self) -> str:
        return self.person.place_path


class OutflowRecord(PublicIdModel):
    """流出人口登记: where to, since when, a contact, and who is informed at the destination."""

    person = models.OneToOneField(
        "registry.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="outflow"
    )
    to_region = models.CharField(_("流往地区"), max_length=6, help_text=_("GB/T 2260 行政区划代码"))
    to_address = models.CharField(_("流往地址"), max_length=150, blank=True)
    since = models.DateField(_("流出日期"))
    contact = models.CharField(_("联系方式"), max_length=50, blank=True)
    informed = models.CharField(_("流入地告知对象"), max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = PersonScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("流出人口登记")
        verbose_name_plural = _("流出人口登记")

    @property
    def audit_place_path(self) -> str:
        return self.person.place_path


class LandlordQuerySet(ScopedQuerySet):
    scope_path_field = "place__path"


class Landlord(PublicIdModel):
    """房东: registered with the community where the dwellings are; may or may not be a registry person."""

    place = models.ForeignKey("places.Place", verbose_name=_("登记社区"), on_delete=models.PROTECT)
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("对应人员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="landlord_roles",
    )
    # 以房管人: the landlord's registration agreement with the community.
    agreement_signed = models.BooleanField(_("已签订房屋出租登记协议"), default=False)
    agreement_date = models.DateField(_("协议日期"), null=True, blank=True)
    dwellings = models.ManyToManyField(
        "places.Dwelling", verbose_name=_("名下房屋"), blank=True, related_name="+"
    )
    notes = models.CharField(_("备注"), max_length=300, blank=True)

    objects = LandlordQuerySet.as_manager()

    class Meta:
        verbose_name = _("房东")
        verbose_name_plural = _("房东")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place_path(self) -> str:
        return self.place.path


class TenancyQuerySet(ScopedQuerySet):
    scope_path_field = "dwelling__place__path"


class Tenancy(PublicIdModel):
    """租赁: a rented dwelling, its landlord, and its current tenants (registry persons)."""

    dwelling = models.ForeignKey(
        "places.Dwelling", verbose_name=_("出租房屋"), on_delete=models.PROTECT, related_name="tenancies"
    )
    landlord = models.ForeignKey(
        Landlord, verbose_name=_("房东"), on_delete=models.PROTECT, related_name="tenancies"
    )
    started_on = models.DateField(_("起租日期"))
    ended_on = models.DateField(_("退租日期"), null=True, blank=True)
    declared_tenants = models.PositiveSmallIntegerField(_("申报租住人数"), default=1)
    tenants = models.ManyToManyField(
        "registry.Person", verbose_name=_("租住人员"), blank=True, related_name="tenancies"
    )

    objects = TenancyQuerySet.as_manager()

    class Meta:
        verbose_name = _("租赁")
        verbose_name_plural = _("租赁")
        ordering = ["-started_on", "id"]

    def __str__(self) -> str:
        return f"{self.dwelling} · {self.landlord}"

    @property
    def audit_place_path(self) -> str:
        return self.dwelling.place.path
