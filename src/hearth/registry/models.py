from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hearth.accounts.scoping import ScopedQuerySet
from hearth.core import citizen_id, time
from hearth.core.models import PublicIdModel


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class ResidenceType(models.TextChoices):
    HUKOU_RESIDENT = "hukou_resident", _("户籍常住")
    SEPARATED = "separated", _("人户分离")
    INFLOW = "inflow", _("流入")
    OUTFLOW = "outflow", _("流出")


class PersonQuerySet(ScopedQuerySet):
    scope_path_field = "dwelling__place__path"


class Person(PublicIdModel):
    """人员: one resident of the registry (全员人口). The registry issue extends this record."""

    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    id_number = models.CharField(_("公民身份号码"), max_length=18, null=True, blank=True, unique=True)
    dwelling = models.ForeignKey(
        "places.Dwelling", verbose_name=_("现住房屋"), on_delete=models.PROTECT, related_name="residents"
    )
    residence_type = models.CharField(
        _("居住类型"), max_length=20, choices=ResidenceType.choices, default=ResidenceType.HUKOU_RESIDENT
    )
    # Optimistic locking: an edit made from a stale page is refused instead of silently overwriting.
    version = models.PositiveIntegerField(default=1)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name"], name="person_name")]
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="person_sex_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_place_path(self) -> str:
        return self.dwelling.place.path

    @property
    def id_masked(self) -> str:
        return citizen_id.mask(self.id_number or "")

    def age(self, as_of=None) -> int:
        return time.age_on(self.birth_date, as_of or time.today())
