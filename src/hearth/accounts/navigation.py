"""The menu follows the permissions of the active grant."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .roles import Perm


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    # One permission, or a tuple of which any one suffices.
    permission: str | tuple[str, ...] | None
    # Pages that work on a place's subtree; a facility grant (clinic staff) has none.
    place_grant_only: bool = False
    # Items of one group share a dropdown (a group with one visible item shows it directly).
    group: str = ""


LISTS = _("名单与申请")
MIGRANTS = _("流动人口")
CARE = _("入户服务")
ADMIN = _("管理")


MENU = [
    MenuItem(_("首页"), "core:home", None),
    MenuItem(_("人员"), "registry:person_list", Perm.PERSON_VIEW),
    MenuItem(_("报告变动"), "registry:report_create", Perm.CHANGE_REPORT_CREATE, place_grant_only=True),
    MenuItem(
        _("变动报告"),
        "registry:report_list",
        (Perm.CHANGE_REPORT_CREATE, Perm.CHANGE_REPORT_DECIDE),
        place_grant_only=True,
        group=LISTS,
    ),
    MenuItem(_("派生名单"), "registry:list_index", Perm.PERSON_VIEW_FULL, place_grant_only=True, group=LISTS),
    MenuItem(
        _("迁移申请"), "registry:transfer_list", Perm.PERSON_VIEW_FULL, place_grant_only=True, group=LISTS
    ),
    MenuItem(
        _("房东与出租房"),
        "migrants:landlord_list",
        Perm.PERSON_VIEW_FULL,
        place_grant_only=True,
        group=MIGRANTS,
    ),
    MenuItem(
        _("出租房屋待办"),
        "migrants:rental_worklist",
        Perm.PERSON_VIEW_FULL,
        place_grant_only=True,
        group=MIGRANTS,
    ),
    MenuItem(
        _("登记流入人员"),
        "migrants:inflow_register",
        Perm.PERSON_CREATE,
        place_grant_only=True,
        group=MIGRANTS,
    ),
    MenuItem(_("服务工作清单"), "care:index", Perm.CARE_VIEW, group=CARE),
    MenuItem(_("服务项目"), "care:catalogue", (Perm.CARE_VIEW, Perm.CARE_MANAGE), group=CARE),
    MenuItem(_("转介与服务对象"), "care:referral_list", Perm.CARE_VIEW, group=CARE),
    MenuItem(_("集中康检日"), "care:checkday_list", Perm.CARE_VIEW, group=CARE),
    MenuItem(_("孕前优生检查"), "preconception:enrolment_list", Perm.CARE_VIEW, group=CARE),
    MenuItem(_("人员导入"), "imports:job_list", Perm.PERSON_IMPORT, place_grant_only=True, group=LISTS),
    MenuItem(_("部门名单比对"), "linkage:list_index", Perm.PERSON_LINK, place_grant_only=True, group=LISTS),
    MenuItem(_("漏档人员"), "linkage:missing", Perm.PERSON_LINK, place_grant_only=True, group=LISTS),
    MenuItem(_("待确认事件"), "linkage:facts", Perm.PERSON_LINK, place_grant_only=True, group=LISTS),
    MenuItem(_("疑似重复人员"), "linkage:duplicates", Perm.PERSON_MERGE, place_grant_only=True, group=LISTS),
    MenuItem(_("地区与房屋"), "places:place_list", Perm.PLACE_VIEW),
    MenuItem(_("服务机构"), "places:facility_list", Perm.PLACE_VIEW),
    MenuItem(
        _("表格导入"),
        "places:bulk_import",
        (Perm.PLACE_MANAGE, Perm.ACCOUNT_MANAGE, Perm.GRANT_MANAGE),
        group=ADMIN,
    ),
    MenuItem(_("导出"), "audit:export_list", Perm.PERSON_EXPORT, group=ADMIN),
    MenuItem(_("账号"), "accounts:user_list", Perm.ACCOUNT_MANAGE, group=ADMIN),
    MenuItem(_("授权"), "accounts:user_list", Perm.GRANT_MANAGE, group=ADMIN),
    MenuItem(_("权限表"), "accounts:permissions", Perm.GRANT_MANAGE, group=ADMIN),
    MenuItem(_("系统设置"), "accounts:settings", Perm.SETTINGS_MANAGE, group=ADMIN),
    MenuItem(_("审计日志"), "audit:log", Perm.AUDIT_VIEW, group=ADMIN),
    MenuItem(_("API 令牌"), "accounts:tokens", None, group=ADMIN),
]


# Apps above accounts may narrow an item further (e.g. a programme the actor's role does not deliver):
# url_name -> predicate(actor). Registered in the apps' ready(), so accounts imports none of them.
_CHECKS: dict[str, Callable[[object], bool]] = {}


def register_menu_check(url_name: str, predicate: Callable[[object], bool]) -> None:
    _CHECKS[url_name] = predicate


@dataclass(frozen=True)
class MenuGroup:
    label: str
    items: list


def menu_for(actor) -> list[MenuItem]:
    seen: set[str] = set()
    items = []
    for item in MENU:
        needed = (item.permission,) if isinstance(item.permission, str) else item.permission or ()
        if needed and not any(actor.can(p) for p in needed):
            continue
        if item.place_grant_only and actor.facility is not None:
            continue
        if item.url_name in seen:
            continue
        if item.url_name in _CHECKS and not _CHECKS[item.url_name](actor):
            continue
        seen.add(item.url_name)
        items.append(item)
    return items


def menu_entries(actor) -> list:
    """The menu as the header shows it: items, and groups of items (a group of one is its item)."""
    entries: list = []
    groups: dict[str, MenuGroup] = {}
    for item in menu_for(actor):
        if not item.group:
            entries.append(item)
        elif item.group in groups:
            groups[item.group].items.append(item)
        else:
            groups[item.group] = MenuGroup(item.group, [item])
            entries.append(groups[item.group])
    return [e.items[0] if isinstance(e, MenuGroup) and len(e.items) == 1 else e for e in entries]
