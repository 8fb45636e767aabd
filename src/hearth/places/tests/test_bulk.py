import hashlib
import io
from datetime import datetime

import pytest
import xlsxwriter
from django.contrib.auth.hashers import check_password
from django.core.files.uploadedfile import SimpleUploadedFile

from hearth.accounts.models import Grant, User
from hearth.accounts.roles import Role
from hearth.audit.models import AuditEntry
from hearth.core.errors import DomainError
from hearth.core.spreadsheet import read_table
from hearth.places import bulk
from hearth.places.models import Dwelling, Place
from tests.authz import ACCOUNT_MANAGERS, GRANT_MANAGERS, PLACE_MANAGERS, ROLES

PLACE_HEADER = ["上级", "类型", "名称", "代码"]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def xlsx(rows: list[list]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    # A fixed creation time makes the bytes (and so the audited hash) the same on every call.
    book.set_properties({"created": datetime(2026, 1, 1)})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def csv(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(",".join(str(v) for v in row) for row in rows).encode(encoding)


def run(world, role, kind, rows, *, commit=False, fmt="xlsx"):
    data = xlsx(rows) if fmt == "xlsx" else csv(rows)
    return bulk.sheet_import(
        actor=world.actor(role), kind=kind, data=data, filename=f"upload.{fmt}", commit=commit
    )


def statuses(report) -> list[tuple[int, str, str]]:
    return [(r.number, r.status, r.code) for r in report.rows]


def imports() -> int:
    return AuditEntry.objects.filter(action="setup.import").count()


PLACES = [
    PLACE_HEADER,
    ["410103001001", "楼院", "5号楼", ""],
    ["祥和社区/5号楼", "单元", "1单元", None],
    ["大学路街道/祥和社区/5号楼", "单元", "2单元", None],
    ["祥和社区", "楼", "6号楼", "X6"],
]


# --------------------------------------------------------------------------------------- places


def test_dry_run_writes_nothing(world):
    places, audit_rows = Place.objects.count(), AuditEntry.objects.count()
    report = run(world, "community_officer", "places", PLACES)
    assert report.counts == {"new": 4, "unchanged": 0, "rejected": 0}
    assert not report.committed and report.result_workbook is None
    assert Place.objects.count() == places
    assert AuditEntry.objects.count() == audit_rows


def test_commit_creates_all_rows_referring_to_earlier_rows(world):
    report = run(world, "community_officer", "places", PLACES, commit=True)
    assert report.committed and report.counts["new"] == 4
    building = Place.objects.get(name="5号楼", parent=world.places["A1a"])
    assert building.kind == "building"
    assert set(building.children.values_list("name", "kind")) == {("1单元", "unit"), ("2单元", "unit")}
    assert Place.objects.get(name="6号楼").code == "X6"
    assert AuditEntry.objects.filter(action="place.create").count() >= 4
    entry = AuditEntry.objects.get(action="setup.import")
    assert entry.data["kind"] == "places" and entry.data["new"] == 4 and entry.row_count == 4
    assert entry.data["sha256"] == report.sha256 == hashlib.sha256(xlsx(PLACES)).hexdigest()
    assert entry.actor_username == "u_community_officer"


def test_second_commit_of_the_same_file_changes_nothing(world):
    run(world, "community_officer", "places", PLACES, commit=True)
    places = Place.objects.count()
    report = run(world, "community_officer", "places", PLACES, commit=True)
    assert report.counts == {"new": 0, "unchanged": 4, "rejected": 0}
    assert Place.objects.count() == places
    # One summary row per commit, even a commit that had nothing new to write.
    assert imports() == 2


def test_one_bad_row_refuses_the_commit_and_writes_nothing(world):
    places, audit_rows = Place.objects.count(), AuditEntry.objects.count()
    rows = [*PLACES, ["祥和社区", "大楼", "7号楼", ""]]
    with pytest.raises(bulk.ImportRefused) as exc:
        run(world, "community_officer", "places", rows, commit=True)
    assert exc.value.code == "setup.rejected_rows"
    report = exc.value.report
    assert report.counts == {"new": 4, "unchanged": 0, "rejected": 1}
    assert report.rejected[0].number == 6 and report.rejected[0].code == "setup.place_kind"
    assert report.rejected[0].column == "类型"
    assert Place.objects.count() == places
    assert AuditEntry.objects.count() == audit_rows


@pytest.mark.parametrize(
    "parent",
    [
        "学苑社区",  # a sibling community
        "410102001001",  # a community in another district, by code
        "中原区/林山寨街道/建设路社区",
        "大学路街道",  # the officer's own parent: above her grant
    ],
)
def test_out_of_scope_parent_is_refused(world, parent):
    report = run(world, "community_officer", "places", [PLACE_HEADER, [parent, "楼院", "9号楼", ""]])
    assert statuses(report) == [(2, "rejected", "setup.place_not_found")]
    assert report.rejected[0].column == "上级"


def test_row_problems_are_reported_each_with_its_column(world):
    rows = [
        PLACE_HEADER,
        ["", "楼院", "9号楼", ""],
        ["祥和社区", "单元", "9单元", ""],  # a unit may not sit directly under a community
        ["1号楼", "单元", "1单元", ""],  # already there, as written
        ["1号楼", "单元", "1单元", ""],  # the same row twice in one file
        ["祥和社区", "村民小组", "1号楼", ""],  # name taken by a building
        ["大学路街道", "社区", "新社区", "12"],  # bad statistical code
        ["祥和社区", "楼院", "名" * 101, ""],
    ]
    report = run(world, "subdistrict_officer", "places", rows)
    assert statuses(report) == [
        (2, "rejected", "place.parent_required"),
        (3, "rejected", "place.kind_under_parent"),
        (4, "unchanged", ""),
        (5, "rejected", "setup.duplicate_row"),
        (6, "rejected", "setup.place_conflict"),
        (7, "rejected", "place.code_length"),
        (8, "rejected", "setup.too_long"),
    ]
    assert [r.column for r in report.rejected] == ["上级", "类型", "名称", "名称", "代码", "名称"]


def test_ambiguous_names_need_a_path_or_a_code(world):
    run(
        world, "subdistrict_officer", "places", [PLACE_HEADER, ["学苑社区", "楼院", "1号楼", ""]], commit=True
    )
    rows = [
        ["所在地区", "门牌"],
        ["1号楼", "101室"],
        ["学苑社区/1号楼", "101室"],
        ["祥和社区／1号楼", "102室"],
    ]
    report = run(world, "subdistrict_officer", "dwellings", rows)
    assert statuses(report) == [
        (2, "rejected", "setup.place_ambiguous"),
        (3, "new", ""),
        (4, "new", ""),
    ]


def test_missing_columns_and_csv_in_gbk(world):
    with pytest.raises(DomainError) as exc:
        run(world, "community_officer", "places", [["上级", "名称"], ["祥和社区", "9号楼"]])
    assert exc.value.code == "spreadsheet.missing_columns" and "类型" in str(exc.value.message)
    data = csv([["上级 ", "类 型", "名称"], ["祥和社区", "楼院", "9号楼"]], encoding="gbk")
    report = bulk.sheet_import(
        actor=world.actor("community_officer"), kind="places", data=data, filename="x.csv", commit=True
    )
    assert report.counts["new"] == 1 and Place.objects.filter(name="9号楼").exists()


# ------------------------------------------------------------------------------------ dwellings


def test_dwellings_commit_and_rerun(world):
    rows = [
        ["所在地区", "门牌"],
        ["大学路街道/祥和社区/1号楼/1单元", "501室"],
        ["祥和社区/2号楼", 602],
        ["学苑社区", "1室"],  # out of the community officer's scope
        ["祥和社区", ""],
    ]
    report = run(world, "community_officer", "dwellings", rows)
    assert statuses(report) == [
        (2, "new", ""),
        (3, "new", ""),
        (4, "rejected", "setup.place_not_found"),
        (5, "rejected", "dwelling.address_required"),
    ]
    good = rows[:3]
    run(world, "community_officer", "dwellings", good, commit=True)
    dwelling = Dwelling.objects.get(place=world.places["A1a-b1-u1"], address="501室")
    assert dwelling.full_address == "祥和社区1号楼1单元501室"
    assert Dwelling.objects.filter(place=world.places["A1a-b2"], address="602").exists()
    again = run(world, "community_officer", "dwellings", good, commit=True)
    assert again.counts == {"new": 0, "unchanged": 2, "rejected": 0}


def test_dwelling_above_community_level_is_refused(world):
    report = run(world, "district_admin", "dwellings", [["所在地区", "门牌"], ["大学路街道", "1号"]])
    assert statuses(report) == [(2, "rejected", "dwelling.place_level")]


# ------------------------------------------------------------------------------ accounts, grants

ACCOUNTS = [
    ["用户名", "姓名", "联系电话", "角色", "授权地区", "服务机构"],
    ["zhang.san", "张三", "13800000001", "社区计生专干", "大学路街道/祥和社区", ""],
    ["li_si", "李四", "", "服务机构人员", "", "大学路社区卫生服务站"],
    ["wang@wu", "王五", "", "信息员", "祥和社区/1号楼", ""],
]


def test_accounts_dry_run_then_commit_hands_out_passwords_once(world):
    users = User.objects.count()
    dry = run(world, "system_admin", "accounts", ACCOUNTS)
    assert dry.counts["new"] == 3 and dry.result_workbook is None
    assert User.objects.count() == users
    report = run(world, "system_admin", "accounts", ACCOUNTS, commit=True)
    assert User.objects.count() == users + 3
    table = read_table(report.result_workbook, "result.xlsx")
    assert table.header == ["原行号", "用户名", "姓名", "初始密码"]
    passwords = {r.cells[1]: r.cells[3] for r in table.rows}
    assert set(passwords) == {"zhang.san", "li_si", "wang@wu"}
    assert len(set(passwords.values())) == 3
    for username, password in passwords.items():
        assert len(password) >= 12
        assert check_password(password, User.objects.get(username=username).password)
    zhang = User.objects.get(username="zhang.san")
    assert (zhang.full_name, zhang.phone) == ("张三", "13800000001")
    assert not Grant.objects.filter(user=zhang).exists()  # grants are the security administrator's
    entry = AuditEntry.objects.get(action="setup.import")
    assert entry.data["result_sha256"] == hashlib.sha256(report.result_workbook).hexdigest()
    assert "password" not in str(entry.data).lower() and passwords["li_si"] not in str(entry.data)
    again = run(world, "system_admin", "accounts", ACCOUNTS, commit=True)
    assert again.counts == {"new": 0, "unchanged": 3, "rejected": 0}
    assert read_table(again.result_workbook, "r.xlsx").rows == []


def test_account_rows_refused(world):
    rows = [
        ["用户名", "姓名"],
        ["u_community_officer", "别人"],  # taken, by someone else
        ["bad name", "甲"],
        ["new1", ""],
        ["NEW1", "乙"],
        ["new1", "丙"],
    ]
    report = run(world, "system_admin", "accounts", rows)
    assert statuses(report) == [
        (2, "rejected", "user.username_taken"),
        (3, "rejected", "user.username_format"),
        (4, "rejected", "setup.full_name_required"),
        (5, "new", ""),
        (6, "rejected", "setup.duplicate_row"),
    ]


def test_grants_sheet_by_the_security_administrator(world):
    run(world, "system_admin", "accounts", ACCOUNTS, commit=True)
    grants = [r[:1] + r[3:] for r in ACCOUNTS]  # the same sheet, without 姓名 and 联系电话
    report = run(world, "security_admin", "grants", grants, commit=True)
    assert report.counts == {"new": 3, "unchanged": 0, "rejected": 0}
    zhang = Grant.objects.get(user__username="zhang.san")
    assert (zhang.role, zhang.place, zhang.facility) == (Role.COMMUNITY_OFFICER, world.places["A1a"], None)
    li = Grant.objects.get(user__username="li_si")
    assert (li.role, li.place, li.facility) == (Role.CLINIC_STAFF, None, world.facility)
    assert Grant.objects.get(user__username="wang@wu").place == world.places["A1a-b1"]
    again = run(world, "security_admin", "grants", ACCOUNTS, commit=True)  # extra columns are ignored
    assert again.counts == {"new": 0, "unchanged": 3, "rejected": 0}
    assert imports() == 3


def test_grant_rows_refused(world):
    rows = [
        ["用户名", "角色", "授权地区", "服务机构"],
        ["nobody", "信息员", "祥和社区", ""],
        ["u_assistant", "队长", "祥和社区", ""],
        ["u_assistant", "信息员", "中原区/林山寨街道/建设路社区", ""],  # another district
        ["u_assistant", "服务机构人员", "祥和社区", ""],
        ["u_assistant", "community_officer", "", ""],
        ["u_assistant", "计生助理员", "410103001001", ""],  # exactly the grant the fixture gave
        ["u_assistant", "信息员", "", "不存在的医院"],
    ]
    report = run(world, "security_admin", "grants", rows)
    assert statuses(report) == [
        (2, "rejected", "setup.user_not_found"),
        (3, "rejected", "setup.role"),
        (4, "rejected", "setup.place_not_found"),
        (5, "rejected", "grant.facility_required"),
        (6, "rejected", "grant.place_required"),
        (7, "unchanged", ""),
        (8, "rejected", "setup.facility_not_found"),
    ]
    with pytest.raises(DomainError) as exc:
        run(world, "security_admin", "grants", [["用户名", "角色"], ["u_assistant", "信息员"]])
    assert exc.value.code == "spreadsheet.missing_columns"


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        ("security_admin", "accounts"),
        ("system_admin", "grants"),
        ("system_admin", "places"),
        ("community_officer", "accounts"),
        ("community_officer", "grants"),
        ("auditor", "places"),
        ("building_volunteer", "dwellings"),
    ],
)
def test_sheets_are_refused_for_the_wrong_role(world, role, kind):
    rows = {"accounts": ACCOUNTS, "grants": ACCOUNTS, "places": PLACES, "dwellings": [["所在地区", "门牌"]]}
    with pytest.raises(DomainError) as exc:
        run(world, role, kind, rows[kind])
    assert exc.value.code == "setup.forbidden"


# ------------------------------------------------------------------------------------- workbooks


def test_error_workbook_keeps_row_numbers_and_names_each_problem(world):
    rows = [None, PLACE_HEADER, ["祥和社区", "楼院", "9号楼", ""], None, ["祥和社区", "大楼", "7号楼", ""]]
    data = xlsx([r or [] for r in rows])
    report = bulk.sheet_import(
        actor=world.actor("community_officer"), kind="places", data=data, filename="a.xlsx"
    )
    assert [r.number for r in report.rejected] == [5]
    content = bulk.error_workbook(data=data, filename="a.xlsx", errors=report.error_list())
    table = read_table(content, "errors.xlsx")
    assert table.header == [*PLACE_HEADER, "错误"]
    assert table.header_number == 2
    assert [(r.number, r.get(4)) for r in table.rows] == [(3, ""), (5, report.error_list()[0][1])]
    assert table.rows[1].get(4).startswith("类型：")


@pytest.mark.parametrize("kind", list(bulk.SHEETS))
def test_templates_have_the_headers_the_importer_reads(world, kind):
    table = read_table(bulk.template_workbook(kind), "t.xlsx")
    assert table.header == [c.label for c in bulk.SHEETS[kind].columns]
    assert table.rows == []


# ----------------------------------------------------------------------------------------- pages


def upload(rows, name="upload.xlsx"):
    return SimpleUploadedFile(name, xlsx(rows))


def test_page_shows_only_the_actor_s_kinds(world, client, login):
    login(world, "community_officer")
    r = client.get("/setup/import/")
    assert r.status_code == 200
    kinds = [v for v, _ in r.context["form"].fields["kind"].choices]
    assert kinds == ["places", "dwellings"]
    login(world, "system_admin")
    assert [v for v, _ in client.get("/setup/import/").context["form"].fields["kind"].choices] == ["accounts"]
    login(world, "auditor")
    assert client.get("/setup/import/").status_code == 404


def test_dry_run_then_commit_through_the_pages(world, client, login, var_dir):
    login(world, "community_officer")
    r = client.post("/setup/import/", {"action": "dry_run", "kind": "places", "file": upload(PLACES)})
    assert r.status_code == 200
    assert r.context["counts"] == {"new": 4, "unchanged": 0, "rejected": 0} and r.context["can_commit"]
    token = r.context["token"]
    assert not Place.objects.filter(name="5号楼").exists()
    assert (var_dir / "uploads" / f"{token}.bin").exists()
    # Someone else cannot commit or read it.
    login(world, "data_clerk")
    r2 = client.post("/setup/import/", {"action": "commit", "token": token})
    assert r2.status_code == 302 and not Place.objects.filter(name="5号楼").exists()
    assert client.get(f"/setup/import/{token}/errors/").status_code == 404
    login(world, "community_officer")
    r = client.post("/setup/import/", {"action": "commit", "token": token})
    assert r.status_code == 302 and r["Location"] == "/setup/import/"
    assert Place.objects.filter(name="5号楼", parent=world.places["A1a"]).exists()
    assert imports() == 1
    assert not (var_dir / "uploads" / f"{token}.bin").exists()
    # The token is spent: a second click finds nothing and writes nothing.
    r = client.post("/setup/import/", {"action": "commit", "token": token})
    assert r.status_code == 302 and imports() == 1


def test_dry_run_with_problems_offers_the_error_workbook_not_the_commit(world, client, login):
    login(world, "community_officer")
    rows = [*PLACES, ["学苑社区", "楼院", "9号楼", ""]]
    r = client.post("/setup/import/", {"action": "dry_run", "kind": "places", "file": upload(rows)})
    assert r.status_code == 200 and not r.context["can_commit"]
    assert "找不到地区" in r.content.decode()
    token = r.context["token"]
    errors = client.get(f"/setup/import/{token}/errors/")
    assert errors.status_code == 200
    assert errors["Content-Type"] == bulk.XLSX_CONTENT_TYPE
    table = read_table(errors.content, "e.xlsx")
    assert table.rows[-1].get(4).startswith("上级：")
    # A commit anyway is refused and writes nothing.
    r = client.post("/setup/import/", {"action": "commit", "token": token})
    assert r.status_code == 422 and r.context["refused"]
    assert not Place.objects.filter(name="5号楼").exists() and imports() == 0


def test_bad_files_come_back_on_the_form(world, client, login):
    login(world, "community_officer")
    r = client.post(
        "/setup/import/",
        {"action": "dry_run", "kind": "places", "file": SimpleUploadedFile("a.xlsx", b"not a workbook")},
    )
    assert r.status_code == 422 and r.context["form"].errors
    r = client.post("/setup/import/", {"action": "dry_run", "kind": "places"})
    assert r.status_code == 422 and "file" in r.context["form"].errors


def test_accounts_commit_answers_with_the_password_workbook(world, client, login):
    login(world, "system_admin")
    r = client.post("/setup/import/", {"action": "dry_run", "kind": "accounts", "file": upload(ACCOUNTS)})
    assert r.status_code == 200 and r.context["can_commit"]
    r = client.post("/setup/import/", {"action": "commit", "token": r.context["token"]})
    assert r.status_code == 200 and r["Content-Type"] == bulk.XLSX_CONTENT_TYPE
    assert "attachment" in r["Content-Disposition"] and r["Cache-Control"] == "no-store"
    table = read_table(r.content, "p.xlsx")
    assert {row.cells[1] for row in table.rows} == {"zhang.san", "li_si", "wang@wu"}
    entry = AuditEntry.objects.get(action="setup.import")
    assert entry.data["result_sha256"] == hashlib.sha256(r.content).hexdigest()


def test_templates_by_kind(world, client, login):
    login(world, "community_officer")
    r = client.get("/setup/import/template/places/")
    assert r.status_code == 200 and r["Content-Type"] == bulk.XLSX_CONTENT_TYPE
    assert client.get("/setup/import/template/accounts/").status_code == 404
    assert client.get("/setup/import/template/nothing/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("kind", "rows", "allowed"),
    [
        ("places", [PLACE_HEADER, ["410103001001", "楼院", "9号楼", ""]], PLACE_MANAGERS),
        ("accounts", ACCOUNTS, ACCOUNT_MANAGERS),
        ("grants", [["用户名", "角色", "授权地区"], ["u_assistant", "信息员", "祥和社区"]], GRANT_MANAGERS),
    ],
)
def test_posting_a_sheet_needs_its_permission(world, client, login, role, kind, rows, allowed):
    login(world, role)
    r = client.post("/setup/import/", {"action": "dry_run", "kind": kind, "file": upload(rows)})
    assert r.status_code == (200 if role in {str(x) for x in allowed} else 404)
    if r.status_code == 200:
        assert r.context["counts"]["new"] == (3 if kind == "accounts" else 1)
