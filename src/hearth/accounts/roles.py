"""Roles and the permissions code checks. Which role holds which permission is data (RolePermission)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", _("区卫健委管理员")
    SUBDISTRICT_OFFICER = "subdistrict_officer", _("街道计生办")
    COMMUNITY_OFFICER = "community_officer", _("社区计生专干")
    ASSISTANT = "assistant", _("计生助理员")
    BUILDING_VOLUNTEER = "building_volunteer", _("信息员")
    DATA_CLERK = "data_clerk", _("微机员")
    CLINIC_STAFF = "clinic_staff", _("服务机构人员")
    ASSOCIATION_OFFICER = "association_officer", _("计生协会")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDITOR = "auditor", _("审计员")


# Roles granted at a facility instead of a place.
FACILITY_ROLES = {Role.CLINIC_STAFF}
# The three separated administrative roles (三员分立): none of them sees personal data.
ADMINISTRATIVE_ROLES = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR}


class Perm(models.TextChoices):
    PERSON_VIEW = "person.view", _("查看人员（基本信息）")
    PERSON_VIEW_FULL = "person.view_full", _("查看人员完整信息")
    PERSON_CREATE = "person.create", _("登记人员")
    PERSON_CHANGE = "person.change", _("修改人员")
    PERSON_REVEAL_ID = "person.reveal_id", _("查看完整身份证号码")
    PERSON_EXPORT = "person.export", _("导出人员")
    PERSON_IMPORT = "person.import", _("批量导入人员")
    PERSON_LINK = "person.link", _("部门名单比对")
    PERSON_MERGE = "person.merge", _("合并重复人员")
    EXPORT_APPROVE = "export.approve", _("审批导出")
    CHANGE_REPORT_CREATE = "change_report.create", _("报告人口变动")
    CHANGE_REPORT_DECIDE = "change_report.decide", _("确认或退回变动报告")
    LIST_MANAGE = "list.manage", _("维护派生名单条件")
    PLACE_VIEW = "place.view", _("浏览地区与房屋")
    PLACE_MANAGE = "place.manage", _("维护地区、房屋与机构")
    ACCOUNT_MANAGE = "account.manage", _("管理账号")
    GRANT_MANAGE = "grant.manage", _("管理授权与权限")
    SETTINGS_MANAGE = "settings.manage", _("管理系统设置")
    AUDIT_VIEW = "audit.view", _("查阅审计日志")
    AUDIT_EXPORT = "audit.export", _("导出审计日志")
    REQUIRE_2FA = "auth.require_2fa", _("必须使用双因素认证")
    CARE_VIEW = "care.view", _("查看服务工作清单")
    CARE_RECORD = "care.record", _("记录入户服务")
    CARE_MANAGE = "care.manage", _("维护服务项目")
    CARE_CLINICAL = "care.clinical", _("查看临床服务结果")


_PERSONAL = {Perm.PERSON_VIEW, Perm.PERSON_VIEW_FULL, Perm.PLACE_VIEW}
_EDIT = {Perm.PERSON_CREATE, Perm.PERSON_CHANGE}
_DECIDE = {Perm.CHANGE_REPORT_CREATE, Perm.CHANGE_REPORT_DECIDE}
_CARE = {Perm.CARE_VIEW, Perm.CARE_RECORD}

# The permission table shipped; the security administrator may change it afterwards (it is data).
DEFAULT_PERMISSIONS: dict[str, set[str]] = {
    Role.DISTRICT_ADMIN: _PERSONAL
    | {
        Perm.PERSON_REVEAL_ID,
        Perm.PERSON_EXPORT,
        Perm.EXPORT_APPROVE,
        Perm.PLACE_MANAGE,
        Perm.REQUIRE_2FA,
        Perm.LIST_MANAGE,
        Perm.CARE_VIEW,
        Perm.CARE_MANAGE,
    },
    Role.SUBDISTRICT_OFFICER: _PERSONAL
    | _EDIT
    | {
        Perm.PERSON_REVEAL_ID,
        Perm.PERSON_EXPORT,
        Perm.EXPORT_APPROVE,
        Perm.PLACE_MANAGE,
        Perm.REQUIRE_2FA,
        Perm.PERSON_IMPORT,
        Perm.PERSON_LINK,
        Perm.PERSON_MERGE,
    }
    | _CARE,
    Role.COMMUNITY_OFFICER: _PERSONAL
    | _EDIT
    | _DECIDE
    | {Perm.PERSON_EXPORT, Perm.PLACE_MANAGE, Perm.PERSON_IMPORT, Perm.PERSON_LINK, Perm.PERSON_MERGE}
    | _CARE,
    Role.ASSISTANT: _PERSONAL | _EDIT | _DECIDE | _CARE,
    # A volunteer sees and records only the services that name their role (the household visit).
    Role.BUILDING_VOLUNTEER: {Perm.PERSON_VIEW, Perm.PLACE_VIEW, Perm.CHANGE_REPORT_CREATE} | _CARE,
    Role.DATA_CLERK: _PERSONAL
    | _EDIT
    | {Perm.PERSON_EXPORT, Perm.PLACE_MANAGE, Perm.PERSON_IMPORT, Perm.PERSON_LINK, Perm.CARE_VIEW},
    # Clinic staff reach persons only through their facility; they do not browse the place tree.
    Role.CLINIC_STAFF: {Perm.PERSON_VIEW, Perm.PERSON_VIEW_FULL, Perm.REQUIRE_2FA, Perm.CARE_CLINICAL}
    | _CARE,
    Role.ASSOCIATION_OFFICER: _PERSONAL | _CARE,
    Role.SYSTEM_ADMIN: {Perm.ACCOUNT_MANAGE, Perm.SETTINGS_MANAGE, Perm.PLACE_VIEW},
    Role.SECURITY_ADMIN: {Perm.GRANT_MANAGE, Perm.REQUIRE_2FA, Perm.PLACE_VIEW},
    Role.AUDITOR: {Perm.AUDIT_VIEW, Perm.AUDIT_EXPORT, Perm.REQUIRE_2FA},
}
