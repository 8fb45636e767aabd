"""Derived lists (派生名单): persons selected by a condition (registry/conditions.py) kept as data.

Reads are scoped with `Person.objects.visible_to(actor)` and evaluated `as_of` a date that is passed in;
each request for members writes one audit row. A definition changes only through
`list_definition_update`, which validates the spec, bumps the version and records the new spec.
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from hearth.accounts.roles import Perm
from hearth.audit import services as audit
from hearth.audit.models import AuditEntry
from hearth.core import time
from hearth.core.errors import DomainError, DomainErrors, as_list

from . import conditions, selectors
from .models import ListDefinition, Person

# as_of dates a list can be asked for: the registry holds nobody born before 1880.
AS_OF_MIN = date(1900, 1, 1)
AS_OF_MAX = date(2199, 12, 31)
NAME_MAX = 100
DESCRIPTION_MAX = 2000


def require_reader(actor) -> None:
    """Lists show persons in full (masked ID): officers with a place grant. Others get a 404.

    Clinic staff read persons only through their facility's enrolments, so whole-population lists are
    not theirs; volunteers and the administrative roles do not see full records at all.
    """
    if not actor.can(Perm.PERSON_VIEW_FULL) or not actor.sees_personal_data or actor.facility is not None:
        raise Http404


def check_as_of(as_of: date) -> date:
    if not AS_OF_MIN <= as_of <= AS_OF_MAX:
        raise DomainError(
            "list.as_of_range",
            _("统计日期应在 %(min)s 至 %(max)s 之间。") % {"min": AS_OF_MIN, "max": AS_OF_MAX},
            "as_of",
        )
    return as_of


def parse_as_of(raw: str | None) -> date:
    """The as_of date from a query string: today when absent; a Chinese message naming as_of when bad."""
    raw = (raw or "").strip()
    if not raw:
        return time.today()
    try:
        parsed = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise DomainError("list.as_of_format", _("统计日期格式应为 YYYY-MM-DD，如 2025-01-01。"), "as_of")
    return check_as_of(parsed)


def definitions(*, include_inactive: bool = False) -> QuerySet[ListDefinition]:
    qs = ListDefinition.objects.order_by("code")
    return qs if include_inactive else qs.filter(active=True)


def definition_get(code: str, *, include_inactive: bool = False) -> ListDefinition:
    found = definitions(include_inactive=include_inactive).filter(code=code[:60]).first()
    if found is None:
        raise Http404
    return found


def members_queryset(
    *, actor, definition: ListDefinition, as_of: date, resolver: conditions.Resolver | None = None
) -> QuerySet[Person]:
    """Members of the list on `as_of`, within the actor's scope (raises DomainError for a broken spec)."""
    cond = conditions.compile_q(definition.spec, check_as_of(as_of), code=definition.code, resolver=resolver)
    return Person.objects.visible_to(actor).filter(cond)


def list_members(
    *, actor, definition: ListDefinition, as_of: date, limit: int, offset: int
) -> tuple[list[Person], int]:
    """One page of members (by name) and the total; one audit row per request."""
    qs = members_queryset(actor=actor, definition=definition, as_of=as_of)
    rows = list(
        qs.select_related("dwelling__place").order_by("pinyin", "name", "id")[offset : offset + limit]
    )
    # A short first page is the whole list: no second scan to count it.
    total = len(rows) if offset == 0 and len(rows) < limit else qs.count()
    audit.record(
        actor=actor,
        action="list.view",
        target=definition,
        row_count=total,
        data={"list": definition.code, "as_of": as_of.isoformat()},
    )
    return rows, total


def member_rows(persons: list[Person], actor, as_of: date) -> list[dict]:
    """What the actor may see of each member (selectors.person_row), with the age on `as_of`."""
    rows = []
    for person in persons:
        row = selectors.person_row(person, actor)
        if "age" in row:
            row["age_as_of"] = time.age_on(person.birth_date, as_of)
        rows.append(row)
    return rows


def preview_count(*, actor, spec: dict, code: str) -> int | None:
    """How many persons of the actor's scope a draft spec selects today (None: the actor sees nobody)."""
    if not actor.can(Perm.PERSON_VIEW_FULL) or not actor.sees_personal_data:
        return None
    return (
        Person.objects.visible_to(actor).filter(conditions.compile_q(spec, time.today(), code=code)).count()
    )


@dataclass
class Summary:
    definition: ListDefinition
    rule: str
    count: int | None
    error: str = ""


def list_summaries(*, actor, as_of: date) -> list[Summary]:
    """Each active list with its rule in Chinese and how many persons of the actor's scope it holds.

    Counts only, no personal data, so no audit row. A broken definition is reported, not raised.
    """
    resolver = conditions.Resolver()
    out = []
    for definition in definitions():
        try:
            rule = conditions.describe(definition.spec, resolver=resolver)
            count = members_queryset(
                actor=actor, definition=definition, as_of=as_of, resolver=resolver
            ).count()
        except DomainError as exc:
            out.append(Summary(definition, "", None, str(exc.message)))
        else:
            out.append(Summary(definition, rule, count))
    return out


def describe(definition: ListDefinition) -> tuple[str, str]:
    """(rule text, error message) for a stored definition."""
    try:
        return conditions.describe(definition.spec), ""
    except DomainError as exc:
        return "", str(exc.message)


EXPORT_HEADER = ["姓名", "性别", "年龄（统计日期）", "证件号码（末四位）", "现住址", "居住类型"]


def export_rows(*, actor, definition: ListDefinition, as_of: date) -> list[list]:
    qs = members_queryset(actor=actor, definition=definition, as_of=as_of)
    return [
        [
            r["name"],
            r["sex_display"],
            r.get("age_as_of", r.get("age_band")),
            r.get("id_number_masked", ""),
            r["dwelling"],
            r["residence_type_display"],
        ]
        for r in member_rows(
            list(qs.select_related("dwelling__place").order_by("pinyin", "name", "id")), actor, as_of
        )
    ]


def _stale_error(definition: ListDefinition, current: int) -> DomainError:
    last = (
        AuditEntry.objects.filter(
            action="list.update", object_type="registry.listdefinition", object_id=str(definition.public_id)
        )
        .order_by("-id")
        .first()
    )
    if last is not None:
        message = _("该名单已被 %(who)s 于 %(when)s 修改（当前为第 %(version)d 版），请刷新后重新编辑。") % {
            "who": last.actor_username,
            "when": time.localtime_str(last.at),
            "version": current,
        }
    else:
        message = _("该名单已被他人修改（当前为第 %(version)d 版），请刷新后重新编辑。") % {
            "version": current
        }
    return DomainError("list.stale", message, "version")


@transaction.atomic
def list_definition_update(
    *, actor, definition: ListDefinition, spec, name: str, description: str, version: int
) -> ListDefinition:
    """Change a list's condition, name or description (维护派生名单条件); audited with the new spec.

    Optimistic locking: `version` is the one the editor started from; a stale one is refused.
    """
    if not actor.is_system and not actor.can(Perm.LIST_MANAGE):
        raise DomainError("permission.denied", _("您没有此操作的权限。"))
    errors: list[DomainError] = []
    name = (name or "").strip()
    if not name:
        errors.append(DomainError("list.name_required", _("请填写名单名称。"), "name"))
    elif len(name) > NAME_MAX:
        errors.append(DomainError("list.name_length", _("名单名称不能超过100个字。"), "name"))
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors.append(DomainError("list.description_length", _("说明不能超过2000个字。"), "description"))
    try:
        conditions.validate(spec, code=definition.code)
    except DomainError as exc:
        errors.extend(as_list(exc))
    DomainErrors.raise_if_any(errors)
    current = ListDefinition.objects.select_for_update().get(pk=definition.pk)
    if current.version != version:
        raise _stale_error(definition, current.version)
    previous = current.spec
    current.spec, current.name, current.description = spec, name, description
    current.version = version + 1
    current.save(update_fields=["spec", "name", "description", "version"])
    definition.spec, definition.name, definition.description = spec, name, description
    definition.version, definition.updated_at = current.version, current.updated_at
    # A spec is a rule, not personal data: the log keeps every version of it.
    audit.record(
        actor=actor,
        action="list.update",
        target=definition,
        data={
            "list": definition.code,
            "version": definition.version,
            "spec": spec,
            "previous_spec": previous,
        },
    )
    return definition
