"""Actions on the place tree, dwellings and facilities. Each writes its audit row in its own transaction."""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from hearth.audit import services as audit
from hearth.core.errors import DomainError

from . import tree
from .models import ALLOWED_CHILDREN, Dwelling, Facility, FacilityKind, Place, PlaceKind, PlaceNameHistory
from .signals import subtree_moved

# Kinds whose names make up a dwelling's full address, from the community down.
_ADDRESS_KINDS = {PlaceKind.COMMUNITY, PlaceKind.BUILDING, PlaceKind.UNIT, PlaceKind.VILLAGER_GROUP}


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("place.name_required", _("请填写地区名称。"), "name")
    if len(name) > 100:
        raise DomainError("place.name_length", _("地区名称不能超过100个字。"), "name")
    return name


def _check_code(kind: str, code: str) -> None:
    if not code:
        return
    if len(code) > 20:
        raise DomainError("place.code_length", _("代码不能超过20个字符。"), "code")
    if not code.isdigit() and kind in {
        PlaceKind.CITY,
        PlaceKind.DISTRICT,
        PlaceKind.SUBDISTRICT,
        PlaceKind.COMMUNITY,
    }:
        raise DomainError("place.code_format", _("代码应为数字。"), "code")
    if kind in {PlaceKind.CITY, PlaceKind.DISTRICT} and len(code) != 6:
        raise DomainError("place.code_length", _("市、区县代码应为 GB/T 2260 六位数字。"), "code")
    if kind in {PlaceKind.SUBDISTRICT, PlaceKind.COMMUNITY} and len(code) not in {9, 12}:
        raise DomainError("place.code_length", _("街道、社区代码应为 12 位统计用区划代码。"), "code")


def _check_in_scope(actor, place: Place | None) -> None:
    if actor.is_system:
        return
    if place is None or not Place.objects.visible_to(actor).filter(pk=place.pk).exists():
        raise DomainError("place.out_of_scope", _("所选上级地区不在您的管辖范围内。"), "parent")


@transaction.atomic
def place_create(
    *, actor, kind: str, name: str, parent: Place | None, code: str = "", valid_from: date | None = None
) -> Place:
    name = _clean_name(name)
    if kind not in PlaceKind.values:
        raise DomainError("place.kind", _("地区类型无效。"), "kind")
    if parent is None:
        if kind != PlaceKind.CITY or not actor.is_system:
            raise DomainError("place.parent_required", _("请选择上级地区。"), "parent")
    else:
        _check_in_scope(actor, parent)
        if parent.valid_to is not None:
            raise DomainError("place.parent_retired", _("上级地区已撤销或合并。"), "parent")
        if kind not in ALLOWED_CHILDREN[parent.kind]:
            raise DomainError(
                "place.kind_under_parent",
                _("%(parent)s下不能直接设立%(kind)s。")
                % {"parent": parent.get_kind_display(), "kind": PlaceKind(kind).label},
                "kind",
            )
    _check_code(kind, code)
    try:
        with transaction.atomic():
            place = Place.objects.create(
                kind=kind, name=name, parent=parent, code=code, valid_from=valid_from
            )
    except IntegrityError:
        raise DomainError("place.duplicate_name", _("同一上级下已有同名地区。"), "name") from None
    place.path = (parent.path if parent else "") + tree.segment(place.pk)
    place.save(update_fields=["path"])
    audit.record(actor=actor, action="place.create", target=place, place_path=place.path, data={"name": name})
    return place


@transaction.atomic
def place_rename(*, actor, place: Place, name: str, code: str | None = None, on: date) -> Place:
    """Rename keeps the former name readable (PlaceNameHistory) and refreshes addresses below."""
    _check_in_scope(actor, place)
    name = _clean_name(name)
    code = place.code if code is None else code
    _check_code(place.kind, code)
    PlaceNameHistory.objects.create(place=place, name=place.name, code=place.code, valid_to=on)
    old = place.name
    place.name, place.code = name, code
    try:
        with transaction.atomic():
            place.save(update_fields=["name", "code"])
    except IntegrityError:
        raise DomainError("place.duplicate_name", _("同一上级下已有同名地区。"), "name") from None
    _refresh_addresses(place)
    audit.record(
        actor=actor,
        action="place.rename",
        target=place,
        place_path=place.path,
        data={"from": old, "to": name},
    )
    return place


@transaction.atomic
def place_merge(*, actor, place: Place, into: Place, on: date) -> Place:
    """Merge `place` into a sibling of the same kind: its children and dwellings move, it is kept as history."""
    _check_in_scope(actor, place)
    _check_in_scope(actor, into)
    if into.kind != place.kind or into.pk == place.pk or into.valid_to is not None:
        raise DomainError("place.merge_target", _("只能合并到同类型的现有地区。"), "into")
    if into.path.startswith(place.path):
        raise DomainError("place.merge_target", _("不能合并到自己的下级地区。"), "into")
    old_prefix, new_prefix = place.path, into.path
    for child in Place.objects.filter(parent=place, valid_to__isnull=True):
        if Place.objects.filter(parent=into, name=child.name, valid_to__isnull=True).exists():
            raise DomainError(
                "place.merge_conflict",
                _("合并后将出现同名下级地区：%(name)s。") % {"name": child.name},
                "into",
            )
    Place.objects.filter(parent=place).update(parent=into)
    # One UPDATE moves the whole subtree: replace the old path prefix by the new one.
    Place.objects.filter(tree.subtree_q("path", old_prefix)).exclude(pk=place.pk).update(
        path=Concat(Value(new_prefix), Substr(F("path"), len(old_prefix) + 1))
    )
    Dwelling.objects.filter(place=place).update(place=into)
    subtree_moved.send(sender=Place, old_prefix=old_prefix, new_prefix=new_prefix)
    place.valid_to, place.successor = on, into
    place.save(update_fields=["valid_to", "successor"])
    _refresh_addresses(into)
    audit.record(
        actor=actor,
        action="place.merge",
        target=place,
        place_path=into.path,
        data={"into": str(into.public_id)},
    )
    return into


def _address_prefix(place: Place) -> str:
    return "".join(p.name for p in place.ancestors() if p.kind in _ADDRESS_KINDS)


def _refresh_addresses(place: Place) -> None:
    places = Place.objects.filter(tree.subtree_q("path", place.path))
    for p in places:
        prefix = _address_prefix(p)
        dwellings = list(Dwelling.objects.filter(place=p))
        for d in dwellings:
            d.full_address = prefix + d.address
        Dwelling.objects.bulk_update(dwellings, ["full_address"], batch_size=500)


@transaction.atomic
def dwelling_create(*, actor, place: Place, address: str) -> Dwelling:
    address = (address or "").strip()
    if not address:
        raise DomainError("dwelling.address_required", _("请填写门牌。"), "address")
    if len(address) > 120:
        raise DomainError("dwelling.address_length", _("门牌不能超过120个字。"), "address")
    _check_in_scope(actor, place)
    if place.valid_to is not None:
        raise DomainError("dwelling.place_retired", _("所在地区已撤销或合并。"), "place")
    if place.kind in {PlaceKind.CITY, PlaceKind.DISTRICT, PlaceKind.SUBDISTRICT}:
        raise DomainError("dwelling.place_level", _("房屋应登记在社区/村或其下级地区。"), "place")
    try:
        with transaction.atomic():
            dwelling = Dwelling.objects.create(
                place=place, address=address, full_address=_address_prefix(place) + address
            )
    except IntegrityError:
        raise DomainError("dwelling.duplicate", _("该地区已有相同门牌的房屋。"), "address") from None
    audit.record(actor=actor, action="dwelling.create", target=dwelling, place_path=place.path)
    return dwelling


@transaction.atomic
def facility_create(*, actor, name: str, kind: str, place: Place, served_places: list[Place]) -> Facility:
    name = (name or "").strip()
    if not name:
        raise DomainError("facility.name_required", _("请填写机构名称。"), "name")
    if len(name) > 120:
        raise DomainError("facility.name_length", _("机构名称不能超过120个字。"), "name")
    if kind not in FacilityKind.values:
        raise DomainError("facility.kind", _("机构类型无效。"), "kind")
    _check_in_scope(actor, place)
    for p in served_places:
        _check_in_scope(actor, p)
    if Facility.objects.filter(name=name).exists():
        raise DomainError("facility.duplicate", _("已有同名机构。"), "name")
    facility = Facility.objects.create(name=name, kind=kind, place=place)
    facility.served_places.set(served_places)
    audit.record(actor=actor, action="facility.create", target=facility, place_path=place.path)
    return facility
