"""人员导入 and 部门名单比对 in a real browser: a community officer's messy spreadsheet and a police list.

Both run as background tasks (the conftest's db_worker) behind an htmx progress card that reloads the page
when the task ends. Each test runs at desktop and phone width with its own people, so the two runs share
nothing (a decision on a partner row is remembered by the row's fingerprint). Screenshots go to
var/screenshots/{desktop,phone}-{import-*,link-*}.png.
"""

import io
import re
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from hearth.core import citizen_id

pytestmark = pytest.mark.browser

PASSWORD = "hearth-demo"
OWN = "祥和社区"
TASK_TIMEOUT = 45_000  # ms: a dry run or a match on 2 shared cores, the worker polling every 0.5 s
# New residents of the import, per run: (name, birth date, ID sequence); odd sequence = male.
NEWCOMERS = {
    "desktop": [("郝欣怡", date(1993, 4, 17), 442), ("郝建国", date(1961, 11, 2), 451)],
    "phone": [("聂雨桐", date(1996, 8, 9), 462), ("聂志强", date(1958, 1, 30), 471)],
}
# Someone on the police list who is on file nowhere (漏档), per run.
ABSENT = {
    "desktop": ("孙晓峰", date(1991, 4, 5), 213),
    "phone": ("钱晓峰", date(1989, 6, 12), 233),
}
# The last character of a given name and another character read the same: the police clerk's spelling.
HOMOPHONES = dict(
    zip(
        "英华明红丽伟静霞军平芳杰涵晨阳敏娟燕磊强勇秀兰梅玲琳婷峰刚辉",
        "莹化鸣虹莉玮婧侠君萍方洁寒辰杨闽鹃艳垒墙涌绣蓝玫苓霖亭锋钢晖",
        strict=True,
    )
)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _log_in(screen, username: str = "community_officer"):
    page = screen.page
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.url == f"{screen.base_url}/", f"login as {username} landed on {page.url}"


def _fits_width(screen):
    """Nothing pushes the page sideways (a phone would zoom out): wide tables stack or scroll inside."""
    width = screen.page.evaluate("window.innerWidth")
    scroll = screen.page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, (
        f"{screen.kind}: page is {scroll}px wide on a {width}px screen ({screen.page.url})"
    )


def _look(screen, name: str):
    screen.shot(name)
    _fits_width(screen)


def _choose_place(page):
    """The officer's own community in the upload form's place list (options are keyed by public id)."""
    option = page.locator("select[name=place] option", has_text=OWN).first
    page.select_option("select[name=place]", value=option.get_attribute("value"))


def _upload(page, name: str, data: bytes):
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": "text/csv", "buffer": data}])


def _tiles(page, scope: str) -> dict[str, int]:
    """The result tiles of a card: {label: count}."""
    out = {}
    for tile in page.locator(f"{scope} .row.text-center .col").all():
        label = tile.locator(".small").inner_text().strip()
        out[label] = int(tile.locator(".fs-4").inner_text().strip())
    return out


def _wait_for_task(screen, done: str, shot: str):
    """The progress card while the worker runs (when the page caught it running), then the reloaded page."""
    page = screen.page
    if page.locator("#progress progress").count():
        screen.shot(shot)
        _fits_width(screen)
    page.locator(done).wait_for(timeout=TASK_TIMEOUT)
    assert page.locator("#progress").count() == 0


# ------------------------------------------------------------------------------------------------ import


def _import_csv(kind: str, addresses: list[str]) -> bytes:
    """A community ledger as it comes: title and 填报 rows, a spaced header, a blank row, a totals row."""
    (n1, b1, s1), (n2, b2, s2) = NEWCOMERS[kind]
    id1, id2 = citizen_id.make("410103", b1, s1), citizen_id.make("410103", b2, s2)
    bad = citizen_id.make("410103", date(1990, 1, 1), 123)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")  # a wrong check digit
    # One address as the community writes it (no community name), one with full-width digits.
    short = addresses[0].removeprefix(OWN)
    wide = addresses[1].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    lines = [
        f"{OWN}常住人口登记表",
        f"填报单位：{OWN},,,,填报日期：2026年3月",
        "姓　名,公民身份号码,性 别,出生年月,现住址,联系电话,备注",
        f"{n1},{id1},女,{b1:%Y.%m.%d},{short},138 0013 8000,",
        ",,,,,,",
        f"{n2},{id2[:6]} {id2[6:14]} {id2[14:]},男,{b2.year}年{b2.month}月{b2.day}日,{wide},,新迁入",
        f"吴有误,{bad},男,1990-01-01,{short},,",
        "合计,3人,,,,,",
    ]
    return ("\n".join(lines) + "\n").encode("gb18030")


def _addresses(page, count: int) -> list[str]:
    page.goto("/persons/")
    found = []
    for text in page.locator("#results tbody td[data-label='现住址']").all_inner_texts():
        text = text.strip()
        if text.startswith(OWN) and text not in found:
            found.append(text)
    assert len(found) >= count, found
    return found[:count]


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_officer_imports_a_messy_ledger(screen_factory, kind):
    screen = screen_factory(kind)
    page = screen.page
    _log_in(screen)
    addresses = _addresses(page, 2)

    page.goto("/imports/")
    _upload(page, f"台账-{kind}.csv", _import_csv(kind, addresses))
    page.fill("input[name=source]", f"{OWN}台账")
    _choose_place(page)
    _look(screen, "import-upload")
    with page.expect_navigation():
        page.locator("form button", has_text="上传并识别表头").click()
    assert re.search(r"/imports/[0-9a-f-]{36}/$", page.url), page.url

    # The header below the title rows is found; `姓　名` and the others are mapped by their synonyms.
    assert page.locator("main", has_text="表头在第3行").count()
    chosen = {
        label: page.locator(f"#column_{i}").input_value()
        for i, label in enumerate(["姓名", "证件", "性别", "出生", "住址", "电话", "备注"])
    }
    assert chosen == {
        "姓名": "name", "证件": "id_number", "性别": "sex", "出生": "birth_date", "住址": "address",
        "电话": "phone", "备注": "notes",
    }, chosen  # fmt: skip
    _look(screen, "import-mapping")

    # The dry run: progress card, then the page reloads itself with the result tiles.
    with page.expect_navigation():
        page.locator("form button", has_text="检查（不写入数据）").click()
    _wait_for_task(screen, "h2:text('检查结果（尚未写入）')", "import-progress")
    tiles = _tiles(page, "section.card")
    assert tiles == {"新增": 2, "有变化": 0, "无变化": 0, "文件内重复": 0, "有问题": 1}, tiles
    problems = page.locator("section.card table", has_text="吴有误")
    assert problems.count() == 1, "the rejected row is not among the samples"
    _look(screen, "import-checked")

    # The commit: the same run again, written in one transaction.
    with page.expect_navigation():
        page.locator("form button", has_text="确认导入（新增 2，更新 0）").click()
    _wait_for_task(screen, "h2:text('导入结果')", "import-committing")
    tiles = _tiles(page, "section.card")
    assert tiles["新增"] == 2 and tiles["有问题"] == 1, tiles
    assert page.locator(".badge", has_text="已导入").count(), "the job is not marked committed"
    _look(screen, "import-committed")

    # The problem rows as a workbook, to fix and upload again.
    with page.expect_download() as download:
        page.locator("a", has_text="下载问题行").click()
    data = download.value.path().read_bytes()
    assert data[:2] == b"PK", "the error workbook is not an xlsx (zip) file"
    assert download.value.suggested_filename.endswith(".xlsx")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert any("吴有误" in [str(c) for c in r] for r in rows), rows[:5]
    assert not any(n in str(rows) for n, _b, _s in NEWCOMERS[kind])

    # The newcomers are residents now, at the dwellings the ledger named.
    for (name, _born, _seq), address in zip(NEWCOMERS[kind], addresses, strict=True):
        page.goto(f"/persons/?q={name}")
        shown = page.locator("#results tbody td[data-label='现住址']").all_inner_texts()
        assert [a.strip() for a in shown] == [address], (name, shown)
    screen.assert_no_errors()


# ----------------------------------------------------------------------------------------------- linkage


def _residents(page, kind: str) -> list[dict]:
    """Residents from the persons list, with birth date and sex from their pages: two to list as they are,
    and one whose name has a homophone. Each run takes other people (desktop the first, phone the next)."""
    page.goto("/persons/")
    rows = []
    for row in page.locator("#results tbody tr").all():
        link = row.locator("td[data-label='姓名'] a")
        rows.append(
            {
                "name": link.inner_text().strip(),
                "href": link.get_attribute("href"),
                "address": row.locator("td[data-label='现住址']").inner_text().strip(),
            }
        )
    imported = {n for runs in NEWCOMERS.values() for n, _b, _s in runs}
    rows = [r for r in rows if r["name"] not in imported and r["address"].startswith(OWN)]
    names = [r["name"] for r in rows]
    rows = [r for r in rows if names.count(r["name"]) == 1]
    skip = 0 if kind == "desktop" else 1
    plain = rows[2 * skip : 2 * skip + 2]
    sounding = [r for r in rows if r not in rows[:4] and r["name"][-1] in HOMOPHONES][skip : skip + 1]
    assert len(plain) == 2 and sounding, "not enough residents on the first page of the persons list"
    chosen = [*plain, *sounding]
    # Where the police have the third one: a real flat in another building (her hukou address, say).
    building = sounding[0]["address"].split("号楼")[0]
    sounding[0]["listed_address"] = next(
        r["address"] for r in rows if r["address"].split("号楼")[0] != building
    )
    for r in chosen:
        page.goto(r["href"])
        born = page.locator("dt:text-is('出生日期') + dd").inner_text()
        r["birth_date"] = DATE.search(born).group(0)
        r["sex"] = page.locator("dt:text-is('性别') + dd").inner_text().strip()
    return chosen


def _police_csv(kind: str, residents: list[dict]) -> tuple[bytes, str]:
    a, b, c = residents
    name, born, seq = ABSENT[kind]
    absent_id = citizen_id.make("410103", born, seq)
    homophone = c["name"][:-1] + HOMOPHONES[c["name"][-1]]
    lines = [
        "幸福派出所户籍人口名单",
        "姓名,身份证号,性别,出生日期,现住址,联系电话",
        # Two residents as the police know them, without their ID numbers; the first with a new phone.
        f"{a['name']},,{a['sex']},{a['birth_date']},{a['address']},13900000002",
        f"{b['name']},,{b['sex']},{b['birth_date'].replace('-', '/')},{b['address']},",
        # The police clerk's spelling of the name, no ID, no sex, another address: an officer must decide
        # (homophone and birth date for, the address against: a weight between 0 and the sure 12).
        f"{homophone},,,{c['birth_date']},{c['listed_address']},",
        # On the police list, on file nowhere: 漏档.
        f"{name},{absent_id},{'男' if seq % 2 else '女'},{born.isoformat()},1号楼1单元301室,",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8"), homophone


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_officer_matches_a_police_list(screen_factory, kind):
    screen = screen_factory(kind)
    page = screen.page
    _log_in(screen)
    residents = _residents(page, kind)
    data, homophone = _police_csv(kind, residents)
    absent_name, absent_born, absent_seq = ABSENT[kind]
    absent_tail = citizen_id.make("410103", absent_born, absent_seq)[-4:]

    page.goto("/linkage/")
    _upload(page, f"户籍名单-{kind}.csv", data)
    page.select_option("select[name=kind]", value="police_hukou")
    page.fill("input[name=source]", "幸福派出所")
    _choose_place(page)
    _look(screen, "link-upload")
    with page.expect_navigation():
        page.locator("form button", has_text="上传并识别表头").click()
    assert page.locator("h1", has_text="幸福派出所").count(), page.url
    assert page.locator("#column_0").input_value() == "name"
    assert page.locator("#column_3").input_value() == "birth_date"
    _look(screen, "link-mapping")

    with page.expect_navigation():
        page.locator("form button", has_text="开始比对").click()
    _wait_for_task(screen, "h2:text('比对结果')", "link-progress")
    tiles = _tiles(page, "section.card")
    assert tiles["未在册（漏档）"] == 1, tiles
    assert tiles["确定匹配"] + tiles["待人工确认"] == 3, tiles
    _look(screen, "link-results")

    # A tile opens the records of its status; 全部 shows the four rows.
    with page.expect_navigation():
        page.locator("section.card a", has_text="未在册（漏档）").click()
    assert page.locator("#status").input_value() == "unmatched"
    assert [t.strip() for t in page.locator("tbody td:nth-child(2)").all_inner_texts()] == [absent_name]
    with page.expect_navigation():
        page.select_option("#status", value="")
    rows = {
        r.locator("td").nth(1).inner_text().strip(): r.locator("td").nth(5).inner_text().strip()
        for r in page.locator("tbody tr").all()
    }
    names = [r["name"] for r in residents[:2]]
    assert set(rows) == {*names, homophone, absent_name}, rows
    assert rows[absent_name] == "未在册（漏档）"
    assert all(rows[n] in ("确定匹配", "待人工确认") for n in names), rows
    assert rows[homophone] == "待人工确认", rows
    absent_id = page.locator("tbody tr", has_text=absent_name).locator("td").nth(2).inner_text().strip()
    assert absent_id == "*" * 14 + absent_tail, absent_id
    _look(screen, "link-records")

    # Each possible match side by side with its candidates; the officer says which is the same person.
    records = page.url
    sources = {residents[2]["name"] if n == homophone else n: n for n in [*names, homophone]}
    for registered, listed in sources.items():
        if rows[listed] != "待人工确认":
            continue
        page.goto(records)
        with page.expect_navigation():
            page.locator("tbody tr", has_text=listed).locator("a", has_text="确认").click()
        assert page.locator("h1", has_text="确认是否同一人").count()
        card = page.locator(".card", has=page.locator("dd a", has_text=registered))
        assert card.count() == 1, f"{registered} is not among the candidates for {listed}"
        if listed == homophone:
            assert "姓名同音" in card.inner_text(), card.inner_text()
            _look(screen, "link-review")
        with page.expect_navigation():
            card.get_by_role("button", name="是同一人", exact=True).click()
        assert page.locator(".alert", has_text="已记录").count(), "no confirmation after the decision"
    page.goto(records)
    assert page.locator("tbody tr", has_text=homophone).locator("td").nth(5).inner_text() == "已确认为同一人"

    # 漏档: the absent person, masked, with the list that named her (from this list's page: the demo has lists too).
    detail = records.split("records/")[0]
    page.goto(detail)
    with page.expect_navigation():
        page.locator("a.btn", has_text="漏档人员").click()
    row = page.locator("tbody tr", has_text=absent_name)
    assert row.count() == 1 and absent_tail in row.inner_text() and "幸福派出所" in row.inner_text()
    _look(screen, "link-missing")

    # 信息不一致: the first resident's new phone, and the name as the police spell it, now both are matched.
    page.goto(detail)
    with page.expect_navigation():
        page.locator("a.btn", has_text="信息不一致").click()
    phone = page.locator("tbody tr", has=page.locator("td a", has_text=residents[0]["name"]))
    assert "13900000002" in phone.first.inner_text(), page.locator("main").inner_text()
    name = page.locator("tbody tr", has=page.locator("td a", has_text=residents[2]["name"]))
    assert f"名单 {homophone}" in name.first.inner_text(), page.locator("main").inner_text()
    _look(screen, "link-disagreements")

    # 待确认事件 and 疑似重复人员: nothing comes to them from a police list, but they load clean on a phone.
    for url, title, shot in [
        ("/linkage/facts/", "待确认事件", "link-facts"),
        ("/linkage/duplicates/", "疑似重复人员", "link-duplicates"),
    ]:
        page.goto(url)
        assert page.locator("h1").inner_text().strip() == title
        _look(screen, shot)
    screen.assert_no_errors()
