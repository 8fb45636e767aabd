from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hearth.core.models import PublicIdModel

from . import tree


class PlaceKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区/县")
    SUBDISTRICT = "subdistrict", _("街道/镇")
    COMMUNITY = "community", _("社区/村")
    BUILDING = "building", _("楼院")
    UNIT = "unit", _("单元")
    VILLAGER_GROUP = "villager_group", _("村民小组")


# Which kind may lie directly under which: the tree's shape, enforced by the services.
ALLOWED_CHILDREN: dict[str, set[str]] = {
    PlaceKind.CITY: {PlaceKind.DISTRICT},
    PlaceKind.DISTRICT: {PlaceKind.SUBDISTRICT},
    PlaceKind.SUBDISTRICT: {PlaceKind.COMMUNITY},
    PlaceKind.COMMUNITY: {PlaceKind.BUILDING, PlaceKind.VILLAGER_GROUP},
    PlaceKind.BUILDING: {PlaceKind.UNIT},
    PlaceKind.UNIT: set(),
    PlaceKind.VILLAGER_GROUP: set(),
}


class PlaceQuerySet(models.QuerySet):
    def current(self):
        return self.filter(valid_to__isnull=True)

    def subtree(self, place: "Place"):
        return self.filter(tree.subtree_q("path", place.path))

    def visible_to(self, actor):
        """Places are not personal data: an actor sees the subtree of the grant's place (or facility's place)."""
        path = getattr(actor, "scope_path", None)
        if not path:
            return self.none()
        return self.filter(tree.subtree_q("path", path))


class Place(PublicIdModel):
    """A node of the place tree (市/区/街道/社区/楼院/单元/村民小组)."""

    kind = models.CharField(_("类型"), max_length=20, choices=PlaceKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(
        _("代码"),
        max_length=20,
        blank=True,
        help_text=_("GB/T 2260 六位代码（至县级）、十二位统计用区划代码（街道、社区）或本地编码"),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=200, db_index=True, editable=False, default="")
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("地区")
        verbose_name_plural = _("地区")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                condition=Q(valid_to__isnull=True),
                name="place_unique_current_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return tree.depth(self.path)

    def ancestors(self):
        """This place and its ancestors, root first (one query)."""
        return Place.objects.filter(path__in=tree.ancestor_paths(self.path)).order_by("path")


class PlaceNameHistory(models.Model):
    """Former names and codes of a place, so old records stay readable after a rename."""

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="name_history")
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("代码"), max_length=20, blank=True)
    valid_to = models.DateField(_("停用日期"))

    class Meta:
        verbose_name = _("地区曾用名")
        ordering = ["-valid_to"]

    def __str__(self) -> str:
        return self.name


class Dwelling(PublicIdModel):
    """房屋: an address where people live (3号楼2单元501室, a village house). It lies in the lowest place."""

    place = models.ForeignKey(
        Place, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="dwellings"
    )
    address = models.CharField(_("门牌"), max_length=120, help_text=_("如 501室，或村内门牌号"))
    # The address read from the community down (祥和社区3号楼2单元501室), kept so lists need no tree walk;
    # place renames refresh it.
    full_address = models.CharField(_("地址"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["place__path", "address"]
        constraints = [models.UniqueConstraint(fields=["place", "address"], name="dwelling_unique_address")]

    def __str__(self) -> str:
        return self.full_address or self.address

    @property
    def audit_place_path(self) -> str:
        return self.place.path


class FacilityKind(models.TextChoices):
    STATION = "station", _("服务站")
    TOWNSHIP_HOSPITAL = "township_hospital", _("卫生院")
    HOSPITAL = "hospital", _("医院")


class Facility(PublicIdModel):
    """A service station, township hospital or hospital, located in one place and serving several."""

    name = models.CharField(_("名称"), max_length=120, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=FacilityKind.choices)
    place = models.ForeignKey(
        Place, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="facilities"
    )
    served_places = models.ManyToManyField(
        Place, verbose_name=_("服务地区"), related_name="served_by", blank=True
    )

    class Meta:
        verbose_name = _("服务机构")
        verbose_name_plural = _("服务机构")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
