"""批量导入: set up places, dwellings, accounts and grants from a spreadsheet, by the hundred.

The dry run and the commit are one code path. Every row goes through the ordinary services (`place_create`,
`dwelling_create`, `user_create`, `grant_create`), so validation, scoping and audit stay where they are, inside
one transaction, each row in its own savepoint so that a refused row does not poison the rows after it. Rows
may refer to places created by earlier rows. At the end a dry run, or a commit with any refused row, rolls the
whole transaction back: the dry run reports exactly what the commit would do, and a commit is all or nothing.

Re-importing a file is harmless: a row that already exists exactly as written is reported as unchanged and
skipped.
"""

import hashlib
import io
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DataError, transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hearth.accounts.models import Grant, User
from hearth.accounts.roles import Perm, Role
from hearth.accounts.services import grant_create, user_create
from hearth.audit import services as audit
from hearth.core import time
from hearth.core.errors import DomainError, as_list
from hearth.core.spreadsheet import map_headers, normalize_header, read_table

from .models import Dwelling, Facility, Place, PlaceKind
from .services import dwelling_create, place_create

NEW, UNCHANGED, REJECTED = "new", "unchanged", "rejected"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------------------------------ the sheets


@dataclass(frozen=True)
class Column:
    field: str  # the service argument it feeds, so a DomainError's field names its column
    names: tuple[str, ...]  # accepted headers; the first is the column's proper name
    help: Promise
    example: str = ""
    required: bool = True

    @property
    def label(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Sheet:
    kind: str
    label: Promise
    permission: str
    columns: tuple[Column, ...]
    handler: Callable[["_Run", dict[str, str]], str]
    note: str | Promise = ""
    # Alternatives of which at least one column must be present (grants: a place or a facility).
    one_of: tuple[str, ...] = ()

    def column_label(self, fld: str | None) -> str:
        for c in self.columns:
            if c.field == fld:
                return c.label
        return ""


_PLACE_REF_HELP = gettext_lazy("6 位或 12 位区划代码，或从上往下的名称路径，如“大学路街道/祥和社区/1号楼”")


@dataclass
class RowResult:
    number: int  # the row number in the uploaded file
    status: str  # new | unchanged | rejected
    message: str = ""
    column: str = ""
    code: str = ""


@dataclass
class ImportReport:
    kind: str
    filename: str
    sha256: str
    rows: list[RowResult] = field(default_factory=list)
    committed: bool = False
    # Accounts: the initial passwords, as a workbook handed out once and never stored (only its hash is).
    result_workbook: bytes | None = None
    result_sha256: str = ""

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.rows)
        return {NEW: c[NEW], UNCHANGED: c[UNCHANGED], REJECTED: c[REJECTED]}

    @property
    def rejected(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == REJECTED]

    def error_list(self) -> list[tuple[int, str]]:
        """(row number, problem) for each refused row, as the error workbook writes them."""
        return [(r.number, f"{r.column}：{r.message}" if r.column else r.message) for r in self.rejected]


class ImportRefused(DomainError):
    """A commit with refused rows: nothing was written. The report says which rows and why."""

    def __init__(self, report: ImportReport):
        super().__init__(
            "setup.rejected_rows",
            _("有 %(n)d 行未通过检查，本次没有导入任何数据。") % {"n": len(report.rejected)},
            "file",
        )
        self.report = report


# ---------------------------------------------------------------------------------------- row running


class _Run:
    """State shared by the rows of one import: the actor, resolved places, keys already seen."""

    def __init__(self, actor):
        self.actor = actor
        self.row_number = 0
        self._places: dict[str, Place] = {}
        self._seen: dict[tuple, int] = {}
        self.passwords: list[tuple[int, str, str, str]] = []

    def scope(self):
        places = Place.objects.all() if self.actor.is_system else Place.objects.visible_to(self.actor)
        return places.current()

    def place(self, ref: str, fld: str, label: str) -> Place:
        """A place named by code (6/9/12 digits) or by a `/`-separated name path, inside the actor's scope."""
        ref = ref.strip()
        if not ref:
            raise DomainError("setup.place_required", _("请填写%(column)s。") % {"column": label}, fld)
        if ref in self._places:
            return self._places[ref]
        code = unicodedata.normalize("NFKC", ref)
        if re.fullmatch(r"\d{6}|\d{9}|\d{12}", code):
            found = list(self.scope().filter(code=code)[:2])
        else:
            parts = [p.strip() for p in re.split(r"[/／\\]", ref) if p.strip()]
            if len(parts) > 8:
                found = []
            else:
                # The last name is the place, each one before it the parent of the next: one query.
                lookup = {"parent__" * i + "name": part for i, part in enumerate(reversed(parts))}
                found = list(self.scope().filter(**lookup)[:2])
        if not found:
            raise DomainError(
                "setup.place_not_found",
                _("找不到地区“%(ref)s”，或它不在您的管辖范围内。") % {"ref": ref},
                fld,
            )
        if len(found) > 1:
            raise DomainError(
                "setup.place_ambiguous",
                _("“%(ref)s”对应多个地区，请写出上级名称（如“祥和社区/1号楼”）或填写代码。") % {"ref": ref},
                fld,
            )
        self._places[ref] = found[0]
        return found[0]

    def places_changed(self) -> None:
        # A new place can make a name that resolved before ambiguous: resolve again from here on.
        self._places.clear()

    def facility(self, name: str) -> Facility:
        facility = Facility.objects.filter(name=name.strip(), place__in=self.scope()).first()
        if facility is None:
            raise DomainError(
                "setup.facility_not_found",
                _("找不到服务机构“%(name)s”，或它不在您的管辖范围内。") % {"name": name},
                "facility",
            )
        return facility

    def claim(self, key: tuple, fld: str) -> None:
        """Refuse a row that repeats an earlier row of the same file."""
        first = self._seen.setdefault(key, self.row_number)
        if first != self.row_number:
            raise DomainError("setup.duplicate_row", _("与第 %(row)d 行重复。") % {"row": first}, fld)


def _check_length(value: str, limit: int, fld: str, label: str) -> None:
    if len(value) > limit:
        raise DomainError(
            "setup.too_long", _("%(column)s不能超过 %(n)d 个字。") % {"column": label, "n": limit}, fld
        )


# Words people write in the 类型 column, read after NFKC and without spaces.
_KIND_WORDS: dict[str, str] = {
    "市": PlaceKind.CITY,
    "地级市": PlaceKind.CITY,
    "区": PlaceKind.DISTRICT,
    "县": PlaceKind.DISTRICT,
    "区县": PlaceKind.DISTRICT,
    "区/县": PlaceKind.DISTRICT,
    "县级市": PlaceKind.DISTRICT,
    "街道": PlaceKind.SUBDISTRICT,
    "街道办事处": PlaceKind.SUBDISTRICT,
    "镇": PlaceKind.SUBDISTRICT,
    "乡": PlaceKind.SUBDISTRICT,
    "街道/镇": PlaceKind.SUBDISTRICT,
    "社区": PlaceKind.COMMUNITY,
    "社区居委会": PlaceKind.COMMUNITY,
    "居委会": PlaceKind.COMMUNITY,
    "村": PlaceKind.COMMUNITY,
    "村委会": PlaceKind.COMMUNITY,
    "社区/村": PlaceKind.COMMUNITY,
    "楼院": PlaceKind.BUILDING,
    "楼": PlaceKind.BUILDING,
    "楼栋": PlaceKind.BUILDING,
    "院落": PlaceKind.BUILDING,
    "单元": PlaceKind.UNIT,
    "门栋": PlaceKind.UNIT,
    "村民小组": PlaceKind.VILLAGER_GROUP,
    "组": PlaceKind.VILLAGER_GROUP,
    **{k.value: k.value for k in PlaceKind},
}
_KIND_CHOICES_TEXT = "市、区、县、街道、镇、社区、村、楼院、单元、村民小组"

# Titles used in the field for some roles (DOMAIN.md), besides the role labels themselves.
_ROLE_WORDS_EXTRA = {
    "社区计生主任": Role.COMMUNITY_OFFICER,
    "计生专干": Role.COMMUNITY_OFFICER,
    "楼长": Role.BUILDING_VOLUNTEER,
    "单元长": Role.BUILDING_VOLUNTEER,
    "志愿者": Role.BUILDING_VOLUNTEER,
    "计生办": Role.SUBDISTRICT_OFFICER,
}


def _word(text: str) -> str:
    return normalize_header(text).casefold()


def _place_kind(text: str) -> str:
    if not text:
        raise DomainError("setup.kind_required", _("请填写类型。"), "kind")
    kind = _KIND_WORDS.get(_word(text))
    if kind is None:
        raise DomainError(
            "setup.place_kind",
            _("类型“%(value)s”无效，应为%(choices)s之一。") % {"value": text, "choices": _KIND_CHOICES_TEXT},
            "kind",
        )
    return kind


def _role(text: str) -> str:
    words = {_word(k): v for k, v in _ROLE_WORDS_EXTRA.items()}
    for role in Role:
        words[role.value] = role.value
        words[_word(str(role.label))] = role.value
        with translation.override("zh-hans"):
            words[_word(str(role.label))] = role.value
    role = words.get(_word(text)) if text else None
    if role is None:
        raise DomainError("setup.role", _("角色“%(value)s”无效。") % {"value": text}, "role")
    return role


def _place_row(run: _Run, v: dict[str, str]) -> str:
    kind = _place_kind(v["kind"])
    name, code = v["name"], unicodedata.normalize("NFKC", v["code"])
    _check_length(name, 100, "name", _("名称"))
    _check_length(code, 20, "code", _("代码"))
    if v["parent"]:
        parent = run.place(v["parent"], "parent", _("上级"))
    elif run.actor.is_system:
        parent = None  # only a system job may start a new tree (a city)
    else:
        raise DomainError("place.parent_required", _("请填写上级地区。"), "parent")
    run.claim(("place", parent.pk if parent else None, name), "name")
    existing = Place.objects.current().filter(parent=parent, name=name).first() if name else None
    if existing is not None:
        if existing.kind == kind and code in ("", existing.code):
            return UNCHANGED
        raise DomainError(
            "setup.place_conflict",
            _("上级地区下已有“%(name)s”（%(kind)s %(code)s），与本行的类型或代码不一致。")
            % {"name": name, "kind": existing.get_kind_display(), "code": existing.code},
            "name",
        )
    place_create(actor=run.actor, kind=kind, name=name, parent=parent, code=code)
    run.places_changed()
    return NEW


def _dwelling_row(run: _Run, v: dict[str, str]) -> str:
    place = run.place(v["place"], "place", _("所在地区"))
    address = v["address"]
    run.claim(("dwelling", place.pk, address), "address")
    if address and Dwelling.objects.filter(place=place, address=address).exists():
        return UNCHANGED
    dwelling_create(actor=run.actor, place=place, address=address)
    return NEW


# No 0/O, 1/l/I: initial passwords are read off paper. 14 of 55 symbols is about 80 bits.
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def _initial_password(length: int = 14) -> str:
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _i in range(length))
        kinds = (str.islower, str.isupper, str.isdigit)
        if all(any(test(c) for c in password) for test in kinds):
            return password


def _account_row(run: _Run, v: dict[str, str]) -> str:
    username, full_name, phone = v["username"], v["full_name"], v["phone"]
    if not full_name:
        raise DomainError("setup.full_name_required", _("请填写姓名。"), "full_name")
    _check_length(full_name, 60, "full_name", _("姓名"))
    _check_length(phone, 20, "phone", _("联系电话"))
    run.claim(("user", username.casefold()), "username")
    existing = User.objects.filter(username__iexact=username).first() if username else None
    if existing is not None and existing.full_name == full_name and phone in ("", existing.phone):
        return UNCHANGED
    password = _initial_password()
    user = user_create(
        actor=run.actor, username=username, full_name=full_name, password=password, phone=phone
    )
    run.passwords.append((run.row_number, user.username, user.full_name, password))
    return NEW


def _grant_row(run: _Run, v: dict[str, str]) -> str:
    username = v["username"]
    if not username:
        raise DomainError("user.username_required", _("请填写用户名。"), "username")
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        raise DomainError(
            "setup.user_not_found",
            _("找不到用户“%(name)s”，请先由系统管理员创建账号。") % {"name": username},
            "username",
        )
    role = _role(v["role"])
    place = run.place(v["place"], "place", _("授权地区")) if v["place"] else None
    facility = run.facility(v["facility"]) if v["facility"] else None
    run.claim(("grant", user.pk, role, getattr(place, "pk", None), getattr(facility, "pk", None)), "role")
    if Grant.objects.active().filter(user=user, role=role, place=place, facility=facility).exists():
        return UNCHANGED
    grant_create(actor=run.actor, user=user, role=role, place=place, facility=facility)
    return NEW


SHEETS: dict[str, Sheet] = {
    s.kind: s
    for s in [
        Sheet(
            kind="places",
            label=gettext_lazy("地区"),
            permission=Perm.PLACE_MANAGE,
            handler=_place_row,
            note=gettext_lazy("后面的行可以引用前面各行新建的地区，所以请按从上到下的顺序排列。"),
            columns=(
                Column("parent", ("上级", "上级地区", "上级代码"), _PLACE_REF_HELP, "410103001001"),
                Column(
                    "kind",
                    ("类型", "地区类型", "层级"),
                    gettext_lazy("市、区、县、街道、镇、社区、村、楼院、单元、村民小组"),
                    "楼院",
                ),
                Column("name", ("名称", "地区名称"), gettext_lazy("本级地区的名称"), "3号楼"),
                Column(
                    "code",
                    ("代码", "区划代码", "编码"),
                    gettext_lazy("选填。区县 6 位，街道、社区 12 位统计用区划代码；楼院、单元可留空"),
                    "",
                    required=False,
                ),
            ),
        ),
        Sheet(
            kind="dwellings",
            label=gettext_lazy("房屋"),
            permission=Perm.PLACE_MANAGE,
            handler=_dwelling_row,
            note=gettext_lazy("房屋应登记在社区/村或其下的楼院、单元、村民小组。"),
            columns=(
                Column(
                    "place",
                    ("所在地区", "地区", "所在楼院", "所在单元"),
                    _PLACE_REF_HELP,
                    "大学路街道/祥和社区/1号楼/1单元",
                ),
                Column(
                    "address", ("门牌", "门牌号", "房号"), gettext_lazy("如 501室，或村内门牌号"), "501室"
                ),
            ),
        ),
        Sheet(
            kind="accounts",
            label=gettext_lazy("账号"),
            permission=Perm.ACCOUNT_MANAGE,
            handler=_account_row,
            note=gettext_lazy(
                "每个新账号生成一个随机初始密码，导入时下载的结果文件是唯一一次提供密码。"
                "表中的“角色”“授权地区”“服务机构”列在此不处理：同一张表交安全管理员按“授权”导入。"
            ),
            columns=(
                Column(
                    "username", ("用户名", "账号", "登录名"), gettext_lazy("字母、数字和 . _ - @"), "zhangsan"
                ),
                Column("full_name", ("姓名",), gettext_lazy("使用人的姓名"), "张三"),
                Column(
                    "phone",
                    ("联系电话", "电话", "手机", "手机号"),
                    gettext_lazy("选填"),
                    "13800000000",
                    required=False,
                ),
            ),
        ),
        Sheet(
            kind="grants",
            label=gettext_lazy("授权"),
            permission=Perm.GRANT_MANAGE,
            handler=_grant_row,
            note=gettext_lazy("服务机构人员授权到服务机构，其他角色授权到地区；账号须已由系统管理员创建。"),
            one_of=("place", "facility"),
            columns=(
                Column(
                    "username", ("用户名", "账号", "登录名"), gettext_lazy("已有账号的用户名"), "zhangsan"
                ),
                Column(
                    "role", ("角色",), gettext_lazy("如 社区计生专干、信息员、服务机构人员"), "社区计生专干"
                ),
                Column(
                    "place",
                    ("授权地区", "地区"),
                    _PLACE_REF_HELP,
                    "大学路街道/祥和社区",
                    required=False,
                ),
                Column(
                    "facility",
                    ("服务机构", "机构"),
                    gettext_lazy("服务机构人员填写机构全称"),
                    "",
                    required=False,
                ),
            ),
        ),
    ]
}


def sheets_for(actor) -> list[Sheet]:
    """The kinds of sheet this actor may import (for the form and for 404s)."""
    return [s for s in SHEETS.values() if actor.is_system or actor.can(s.permission)]


def _sheet(actor, kind: str) -> Sheet:
    sheet = SHEETS.get(kind)
    if sheet is None:
        raise DomainError("setup.kind", _("导入内容无效。"), "kind")
    if not (actor.is_system or actor.can(sheet.permission)):
        raise DomainError(
            "setup.forbidden", _("您当前的身份不能导入%(kind)s。") % {"kind": sheet.label}, "kind"
        )
    return sheet


def _columns(sheet: Sheet, header: list[str]) -> dict[str, int]:
    found = map_headers(
        header,
        {c.field: list(c.names) for c in sheet.columns},
        required=[c.field for c in sheet.columns if c.required],
    )
    if sheet.one_of and not any(f in found for f in sheet.one_of):
        raise DomainError(
            "spreadsheet.missing_columns",
            _("表头缺少必填列：%(names)s。")
            % {"names": _("或").join(sheet.column_label(f) for f in sheet.one_of)},
            "file",
        )
    return found


# ------------------------------------------------------------------------------------------ the action


def sheet_import(*, actor, kind: str, data: bytes, filename: str, commit: bool = False) -> ImportReport:
    """Import one sheet. `commit=False` is the dry run: every row is checked, nothing is kept.

    A commit keeps everything or nothing: with any refused row it raises `ImportRefused` (carrying the
    report). A successful commit writes one `setup.import` audit row beside the services' own rows.
    """
    sheet = _sheet(actor, kind)
    table = read_table(data, filename)
    columns = _columns(sheet, table.header)
    report = ImportReport(kind=kind, filename=filename, sha256=hashlib.sha256(data).hexdigest())
    run = _Run(actor)
    with transaction.atomic():
        for row in table.rows:
            run.row_number = row.number
            values = {c.field: row.get(columns.get(c.field)) for c in sheet.columns}
            try:
                with transaction.atomic():  # a savepoint: a refused row leaves no trace for the next
                    status = sheet.handler(run, values)
            except DomainError as exc:
                err = as_list(exc)[0]
                report.rows.append(
                    RowResult(row.number, REJECTED, str(err.message), sheet.column_label(err.field), err.code)
                )
            except DataError:
                # A value the database column cannot hold that no check above caught.
                report.rows.append(
                    RowResult(row.number, REJECTED, _("本行有超出长度或格式限制的内容。"), "", "setup.data")
                )
            else:
                report.rows.append(RowResult(row.number, status))
        if commit and not report.rejected:
            _finish_commit(actor, report, run)
        else:
            transaction.set_rollback(True)
    if commit and not report.committed:
        raise ImportRefused(report)
    return report


def _finish_commit(actor, report: ImportReport, run: _Run) -> None:
    counts = report.counts
    data = {
        "kind": report.kind,
        "filename": report.filename[-200:],
        "sha256": report.sha256,
        "rows": len(report.rows),
        "new": counts[NEW],
        "unchanged": counts[UNCHANGED],
    }
    if report.kind == "accounts":
        report.result_workbook = password_workbook(run.passwords)
        report.result_sha256 = hashlib.sha256(report.result_workbook).hexdigest()
        # The passwords are never stored; the hash proves later which file was handed out.
        data["result_sha256"] = report.result_sha256
    audit.record(
        actor=actor,
        action="setup.import",
        object_type="setup.import",
        object_id=report.kind,
        data=data,
        row_count=counts[NEW],
    )
    report.committed = True


# ------------------------------------------------------------------------------------------ workbooks


def _workbook(build) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    build(book)
    book.close()
    return out.getvalue()


def password_workbook(rows: list[tuple[int, str, str, str]]) -> bytes:
    def build(book):
        bold = book.add_format({"bold": True})
        sheet = book.add_worksheet(_("初始密码"))
        for col, title in enumerate([_("原行号"), _("用户名"), _("姓名"), _("初始密码")]):
            sheet.write_string(0, col, title, bold)
        for r, (number, username, full_name, password) in enumerate(rows, start=1):
            sheet.write_number(r, 0, number)
            sheet.write_string(r, 1, username)
            sheet.write_string(r, 2, full_name)
            sheet.write_string(r, 3, password)
        sheet.set_column(0, 0, 8)
        sheet.set_column(1, 3, 20)
        note = book.add_worksheet(_("说明"))
        note.write_string(
            0, 0, _("初始密码只提供这一次：请分别告知本人，提醒其首次登录后修改密码，分发后删除本文件。")
        )
        note.write_string(1, 0, _("生成时间：%(at)s") % {"at": time.now().strftime("%Y-%m-%d %H:%M")})

    return _workbook(build)


def error_workbook(*, data: bytes, filename: str, errors: list[tuple[int, str]] | dict[int, str]) -> bytes:
    """The uploaded rows, each at its original row number, with a column 错误 naming each row's problem."""
    table = read_table(data, filename)
    problems = {int(k): v for k, v in (errors.items() if isinstance(errors, dict) else errors)}
    width = max([len(table.header), *(len(r.cells) for r in table.rows)])

    def build(book):
        bold = book.add_format({"bold": True})
        red = book.add_format({"font_color": "#b02a37"})
        sheet = book.add_worksheet(_("错误"))
        for col, title in enumerate(table.header):
            sheet.write_string(table.header_number - 1, col, title, bold)
        sheet.write_string(table.header_number - 1, width, _("错误"), bold)
        for row in table.rows:
            for col, text in enumerate(row.cells):
                sheet.write_string(row.number - 1, col, text)
            if row.number in problems:
                sheet.write_string(row.number - 1, width, problems[row.number], red)
        sheet.set_column(0, width - 1, 16)
        sheet.set_column(width, width, 48)
        sheet.freeze_panes(table.header_number, 0)

    return _workbook(build)


def template_workbook(kind: str) -> bytes:
    """An empty sheet with the right headers, and a second sheet explaining each column."""
    sheet_spec = SHEETS[kind]

    def build(book):
        bold = book.add_format({"bold": True, "bg_color": "#e9ecef"})
        # Text cells, so codes such as 410103001001 are not turned into numbers by Excel.
        text = book.add_format({"num_format": "@"})
        sheet = book.add_worksheet(str(sheet_spec.label))
        for col, column in enumerate(sheet_spec.columns):
            sheet.write_string(0, col, column.label, bold)
            sheet.set_column(col, col, max(14, len(column.example) * 2), text)
            choices = None
            if column.field == "kind":
                choices = _KIND_CHOICES_TEXT.split("、")
            elif column.field == "role":
                with translation.override("zh-hans"):
                    choices = [str(r.label) for r in Role]
            if choices:
                sheet.data_validation(
                    1, col, 10_000, col, {"validate": "list", "source": choices, "error_type": "warning"}
                )
        sheet.freeze_panes(1, 0)
        help_sheet = book.add_worksheet(_("说明"))
        for col, title in enumerate([_("列名"), _("必填"), _("说明"), _("示例"), _("也可写作")]):
            help_sheet.write_string(0, col, title, bold)
        for r, column in enumerate(sheet_spec.columns, start=1):
            help_sheet.write_string(r, 0, column.label)
            help_sheet.write_string(r, 1, _("是") if column.required else _("否"))
            help_sheet.write_string(r, 2, str(column.help))
            help_sheet.write_string(r, 3, column.example)
            help_sheet.write_string(r, 4, "、".join(column.names[1:]))
        help_sheet.write_string(len(sheet_spec.columns) + 2, 0, str(sheet_spec.note))
        help_sheet.set_column(0, 1, 10)
        help_sheet.set_column(2, 2, 60)
        help_sheet.set_column(3, 4, 30)

    return _workbook(build)
