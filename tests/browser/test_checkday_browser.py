"""Check days, notices and the pre-pregnancy check in a real browser, at desktop and phone width: the officer
calls the roll of today's check day (集中康检日) one tap per person, prints notices (通知单) for the health check,
and the pre-pregnancy enrolments show their results to the station's staff only.

The demo (the conftest's server) planned today's check day in 祥和社区 with part of its sheet tapped, and three
pre-pregnancy enrolments at the station. Each run taps its own people: the first still waiting at the time.
Screenshots go to var/screenshots/checkday-{desktop,phone}-*.png.
"""

import math
import re
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_care_browser import (
    HEALTH_CHECK,
    OWN,
    _big_enough,
    _fits_width,
    _int,
    _log_in,
    _no_errors,
    _open_menu,
    _press,
)

pytestmark = pytest.mark.browser

DAY_ID = re.compile(r"/care/checkdays/([0-9a-f-]{36})/$")
BATCH_ID = re.compile(r"/care/notices/batches/([0-9a-f-]{36})/$")
ENROLMENT_ID = re.compile(r"/preconception/([0-9a-f-]{36})/$")
LOCATION = "祥和社区党群服务中心"
WORKLIST_STATUSES = {"从未提供", "已逾期", "待服务", "未到期"}
# What the clinic recorded for the high-risk woman of the demo: clinical, for the station's staff only.
RESULTS = ("血红蛋白偏低", "补充铁剂", "高风险人群", "风险评估", "咨询指导建议", "血常规")


# ------------------------------------------------------------------------------------------------ helpers


def _look(screen, name: str):
    """A full-page screenshot as var/screenshots/checkday-<kind>-<name>.png, and the width check.

    The caret is left alone: hiding it, Playwright leaves style="" on every input, which htmx then copies onto
    the swapped-in line (its settle step), and the Content Security Policy refuses that (a console error no
    person's browser would see)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"checkday-{screen.kind}-{name}.png"
    screen.page.screenshot(path=str(path), full_page=True, caret="initial")
    _fits_width(screen)


def _today() -> str:
    """The server's today (Asia/Shanghai): the demo's check day is held on it."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _pct(part: int, base: int) -> str:
    """A rate as the pages write it: one decimal, rounded down, no trailing .0."""
    text = f"{math.floor(part / base * 1000 + 1e-9) / 10:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _counters(page) -> dict[str, int]:
    """The sheet's counters: {邀请, 到场, 未到, 待点名, 谢绝 (of 未到)}."""
    section = page.locator("#checkday-counters")
    out = {}
    for cell in section.locator(".row > div").all():
        label = cell.locator(".small").inner_text().split("\n")[0].strip()
        out[label] = _int(cell.locator(".fs-4").inner_text())
    declined = re.search(r"含谢绝 (\d+)", section.inner_text())
    out["谢绝"] = int(declined.group(1)) if declined else 0
    return out


def _same_day_rate(page) -> str:
    return page.locator("#checkday-counters label[for=rate-same-day] strong").inner_text().strip()


def _sheet_tabs(page) -> dict[str, int]:
    out = {}
    for tab in page.locator("nav[aria-label='按到场情况筛选'] a").all():
        out[tab.inner_text().rsplit(" ", 1)[0].strip()] = _int(tab.locator(".badge").inner_text())
    return out


def _line(page, line_id: str):
    return page.locator(f"#checkday-sheet > li#{line_id}")


def _lines(page) -> list[dict]:
    """The sheet's lines: their id (inv-<person>), name and badge."""
    out = []
    for li in page.locator("#checkday-sheet > li[id^='inv-']").all():
        out.append(
            {
                "id": li.get_attribute("id"),
                "name": li.locator(".fw-semibold").first.inner_text().strip(),
                "badge": li.locator(".badge").first.inner_text().strip(),
            }
        )
    return out


def _list_entry(page, day_id: str):
    """The day's entry on the list of check days, and its figures."""
    entry = page.locator("li.list-group-item", has=page.locator(f"a[href$='/care/checkdays/{day_id}/']"))
    text = entry.inner_text()
    invited = re.search(r"邀请 (\d+)", text)
    declined = re.search(r"谢绝 (\d+)", text)
    rate = re.search(r"当天到场率 ([\d.]+%)", text)
    assert invited and rate, text
    return entry, {
        "邀请": int(invited.group(1)),
        "谢绝": int(declined.group(1)) if declined else 0,
        "当天到场率": rate.group(1),
    }


def _tap_twice(screen, locator):
    """Two taps in a row, as a hurried thumb does (two clicks on a desktop), on the same spot."""
    locator.scroll_into_view_if_needed()
    if screen.kind == "phone":
        box = locator.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        screen.page.touchscreen.tap(x, y)
        screen.page.touchscreen.tap(x, y)
    else:
        locator.dblclick()


def _is_attendance_post(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/attendance/")


# ------------------------------------------------------------------------------------------------ 1. check day


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_officer_calls_the_roll_of_todays_check_day(screen_factory, kind):
    screen = screen_factory(kind)
    page = screen.page
    _log_in(screen, "community_officer")

    # The list: today's day among those to come, with its invited count and same-day attendance rate.
    _open_menu(screen, "入户服务", "集中康检日")
    assert page.url.endswith("/care/checkdays/"), page.url
    assert page.locator("h1").inner_text().strip() == "集中康检日"
    upcoming = page.locator("h2", has_text="今天及以后").locator("xpath=following-sibling::ul[1]")
    link = upcoming.locator("a", has_text=f"{_today()} {HEALTH_CHECK} · {OWN}")
    assert link.count() == 1, upcoming.inner_text()
    day_id = DAY_ID.search(link.get_attribute("href")).group(1)
    entry, listed = _list_entry(page, day_id)
    assert LOCATION in entry.inner_text(), entry.inner_text()
    assert listed["邀请"] > 0 and "目标 ≥95%" in entry.inner_text(), entry.inner_text()
    _look(screen, "list")

    # The day's sheet: the counters agree with the list and add up.
    with page.expect_navigation():
        _press(screen, link)
    assert DAY_ID.search(page.url.split("?")[0]).group(1) == day_id, page.url
    assert page.locator("h1").inner_text().strip() == f"{HEALTH_CHECK} · {OWN}"
    assert f"{_today()} · {LOCATION}" in page.locator("main p.small").first.inner_text()
    before = _counters(page)
    assert before["邀请"] == listed["邀请"] and before["谢绝"] == listed["谢绝"], (before, listed)
    assert before["到场"] + before["未到"] + before["待点名"] == before["邀请"], before
    assert before["到场"] > 0 and before["未到"] > 0, "the demo tapped part of the sheet"
    assert before["待点名"] >= 2, "the demo's sheet has too few people still waiting"
    rate = _pct(before["到场"], before["邀请"] - before["谢绝"])
    assert _same_day_rate(page) == listed["当天到场率"] == rate, (_same_day_rate(page), listed, rate)
    tabs = _sheet_tabs(page)
    assert tabs == {"全部": before["邀请"], "待点名": before["待点名"], "到场": before["到场"],
                    "未到": before["未到"]}, tabs  # fmt: skip
    _look(screen, "sheet")

    # Those still waiting: each line has its two big buttons.
    with page.expect_navigation():
        _press(screen, page.locator("nav[aria-label='按到场情况筛选'] a", has_text="待点名"))
    assert page.url.endswith("?status=invited"), page.url
    waiting = _lines(page)
    assert len(waiting) == min(before["待点名"], 100), (len(waiting), before)
    assert {w["badge"] for w in waiting} == {"待点名"}, waiting[:3]
    first = waiting[0]
    line = _line(page, first["id"])
    came = line.locator("button[name=status][value=attended]")
    assert came.inner_text().strip() == "到场"
    _big_enough(screen, came, "the 到场 button")
    _big_enough(screen, line.locator("summary", has_text="未到"), "the 未到 button")

    # 到场, tapped twice in a hurry: the line turns 到场 in place (no page load) and the counters move by one.
    page.evaluate("window.__sameDocument = true")
    url = page.url
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and "/attendance/" in r.url else None)
    with page.expect_response(_is_attendance_post) as answer:
        _tap_twice(screen, came)
    assert answer.value.status == 200 and answer.value.request.headers.get("hx-request") == "true"
    expect(line.locator(".badge").first).to_have_text("到场")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__sameDocument") is True, "the page was loaded again"
    assert page.url == url, page.url
    # Its buttons are folded away under 更正 (a correction, on the day only).
    assert not line.locator("button[name=status]").is_visible(), "the line still offers 到场"
    assert line.locator("details > summary", has_text="更正").is_visible(), line.inner_text()
    _big_enough(screen, line.locator("details > summary", has_text="更正"), "the 更正 toggle")
    for tab in page.locator("nav[aria-label='按到场情况筛选'] a").all():
        _big_enough(screen, tab, f"the sheet's tab {tab.inner_text()!r}")
    after = _counters(page)
    one_more = before | {"到场": before["到场"] + 1, "待点名": before["待点名"] - 1}
    assert after == one_more, f"{before} -> {after} after {len(posts)} POST(s)"
    assert _same_day_rate(page) == _pct(after["到场"], after["邀请"] - after["谢绝"])
    _look(screen, "sheet-attended")

    # 未到 for the next one, with a reason (外出) and a note: the reasons unfold under the button. Someone served
    # at home today (the care browser test records health checks for the worklist's first persons) keeps that
    # record: the line says so and stays to be called, and the next person is taken.
    served_at_home = "此人当天已有一条"
    for second in reversed(waiting[1:]):
        line = _line(page, second["id"])
        absent = line.locator("summary", has_text="未到")
        _press(screen, absent)
        away = line.locator("button[name=reason][value=away]")
        expect(away).to_be_visible()
        reasons = [t.strip() for t in line.locator("button[name=reason]").all_inner_texts()]
        assert reasons == ["外出", "生病", "身体原因", "本人谢绝", "其他"], reasons
        for button in line.locator("button[name=reason]").all():
            _big_enough(screen, button, f"the reason button {button.inner_text()!r}")
        line.locator("input[name=note]").fill("去外地女儿家，下月回")
        _look(screen, "sheet-reasons")
        with page.expect_response(_is_attendance_post) as answer:
            _press(screen, away)
        assert answer.value.status == 200
        page.wait_for_load_state("networkidle")
        if served_at_home not in line.inner_text():
            break
        expect(line.locator(".badge").first).to_have_text("待点名")
    else:
        pytest.fail("every waiting person was served at home today: none to record as away")
    expect(line.locator(".badge").first).to_have_text("未到：外出")
    assert "去外地女儿家，下月回" in line.inner_text(), line.inner_text()
    assert page.evaluate("window.__sameDocument") is True, "the page was loaded again"
    counted = _counters(page)
    assert counted == after | {"未到": after["未到"] + 1, "待点名": after["待点名"] - 1}, (after, counted)
    _look(screen, "sheet-absent")

    # What the server kept, read afresh: one attendance and one absence more than before, nothing else.
    page.reload()
    assert _counters(page) == counted, (counted, _counters(page))
    assert _sheet_tabs(page)["待点名"] == before["待点名"] - 2
    left = {w["id"] for w in _lines(page)}
    assert first["id"] not in left and second["id"] not in left, "a tapped person is still waiting"
    with page.expect_navigation():
        _press(screen, page.locator("nav[aria-label='按到场情况筛选'] a", has_text="全部"))
    for person, badge in ((first, "到场"), (second, "未到：外出")):
        search = page.locator("form[role=search] input[name=q]")
        search.fill(person["name"])
        with page.expect_navigation():
            _press(screen, page.locator("form[role=search] button[type=submit]"))
        assert _line(page, person["id"]).locator(".badge").first.inner_text().strip() == badge

    # Back on the list, the day's rate counts the new attendance.
    page.goto("/care/checkdays/")
    _, listed = _list_entry(page, day_id)
    assert listed["邀请"] == before["邀请"], listed
    assert listed["当天到场率"] == _pct(counted["到场"], counted["邀请"] - counted["谢绝"]), listed
    _no_errors(screen)


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_a_repeated_tap_records_once(screen_factory, kind):
    """The same tap sent again (a retry, a second tap that got through): the line's token records it once."""
    screen = screen_factory(kind)
    page = screen.page
    _log_in(screen, "community_officer")
    page.goto("/care/checkdays/")
    link = page.locator("a", has_text=f"{_today()} {HEALTH_CHECK} · {OWN}")
    day_id = DAY_ID.search(link.get_attribute("href")).group(1)
    page.goto(f"/care/checkdays/{day_id}/?status=invited")
    before = _counters(page)
    line = _line(page, _lines(page)[0]["id"])
    form = line.locator("form").first
    sent = form.evaluate("f => Object.fromEntries(new FormData(f))") | {"status": "attended"}
    assert sent["client_token"] and sent["person_id"], sent
    action = screen.base_url + form.get_attribute("action")
    headers = {"HX-Request": "true", "Referer": page.url}

    with page.expect_response(_is_attendance_post):
        _press(screen, line.locator("button[name=status][value=attended]"))
    expect(line.locator(".badge").first).to_have_text("到场")
    once = _counters(page)
    assert once["到场"] == before["到场"] + 1 and once["待点名"] == before["待点名"] - 1, (before, once)

    # The same form again, token and all, as htmx would send it: answered with the line as it is, counted once.
    again = page.request.post(action, form=sent, headers=headers)
    assert again.status == 200, again.status
    html = again.text()
    assert f'id="{line.get_attribute("id")}"' in html and ">到场</span>" in html, html[:500]
    counted = re.search(r'<div class="fs-4 fw-semibold text-success">(\d+)</div>', html)
    assert counted and int(counted.group(1)) == once["到场"], html
    page.reload()
    assert _counters(page) == once, (once, _counters(page))
    _no_errors(screen)


# ------------------------------------------------------------------------------------------------ 2. notices


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_officer_prints_notices(screen_factory, kind):
    screen = screen_factory(kind)
    page = screen.page
    _log_in(screen, "community_officer")
    page.goto("/care/health_check/")
    with page.expect_navigation():
        _press(screen, page.locator("h1 a", has_text="通知单"))
    assert page.url.endswith("/care/health_check/notices/"), page.url
    assert page.locator("h1").inner_text().strip() == f"通知单 · {HEALTH_CHECK}"
    rows = page.locator("#notices tbody tr")
    assert rows.count() > 0 and rows.first.locator("td[data-label='姓名'] a").count() == 1
    statuses = {s.strip() for s in page.locator("#notices td[data-label='状态'] .badge").all_inner_texts()}
    assert statuses and statuses <= WORKLIST_STATUSES, statuses
    _look(screen, "notices")

    # One building: the one with most people still without a notice (a run before this one printed its own).
    unprinted = Counter()
    for row in rows.filter(has_not=page.locator("td[data-label='通知单'] .badge")).all():
        found = re.match(rf"{OWN}(\d+号楼)", row.locator("td[data-label='住址']").inner_text().strip())
        if found:
            unprinted[found.group(1)] += 1
    assert unprinted, "everybody has a notice already"
    building, count = unprinted.most_common(1)[0]
    assert count >= 2, f"no building has two people without a notice: {unprinted}"
    option = page.locator("#notices-filter select[name=place] option", has_text=building).first
    assert option.inner_text().strip() == f"{OWN} / {building}"
    with page.expect_navigation():
        page.select_option("#notices-filter select[name=place]", value=option.get_attribute("value"))
    assert "place=" in page.url, page.url
    assert page.locator("h1 small").inner_text().strip() == f"· {building}"
    addresses = page.locator("#notices td[data-label='住址']").all_inner_texts()
    assert addresses and all(a.strip().startswith(f"{OWN}{building}") for a in addresses), addresses
    generate = page.locator("#notices-generate button[type=submit]")
    _big_enough(
        screen, page.locator("#notices-generate .form-check"), "the 包括本周期已打印过 checkbox's line"
    )
    _big_enough(screen, page.locator("label[for='notices-again']"), "the 包括本周期已打印过 checkbox's label")
    pending = int(re.search(r"（(\d+) 份）", generate.inner_text()).group(1))
    assert pending >= count, (generate.inner_text(), unprinted)

    # One person's notice: a PDF, and the person's row says it was made (已生成).
    row = page.locator("#notices tbody tr", has_not=page.locator("td[data-label='通知单'] .badge")).first
    name = row.locator("td[data-label='姓名'] a").inner_text().strip()
    pdf_link = row.locator("td[data-label='通知单'] a", has_text="打印")
    response = page.request.get(screen.base_url + pdf_link.get_attribute("href"))
    assert response.status == 200, response.status
    assert response.headers["content-type"] == "application/pdf", response.headers
    assert response.body().startswith(b"%PDF-"), response.body()[:20]
    page.reload()
    row = page.locator("#notices tbody tr", has=page.locator("td[data-label='姓名'] a", has_text=name))
    assert row.locator("td[data-label='通知单'] .badge").inner_text().strip() == "已生成", row.inner_text()
    assert f"（{pending - 1} 份）" in generate.inner_text(), generate.inner_text()
    _look(screen, "notices-building")

    # The building's combined PDF: made in the background, its page shows the progress, then the download.
    with page.expect_navigation():
        _press(screen, generate)
    batch_id = BATCH_ID.search(page.url).group(1)
    assert page.locator("h1").inner_text().strip(), "the batch page has no title"
    progress = page.locator("#batch-progress")
    text = progress.inner_text()
    assert any(w in text for w in ("排队等待", "正在生成", "已生成")), text
    _look(screen, "notices-batch")
    download = page.locator("#batch-progress a", has_text="下载 PDF 打印")
    deadline = time.monotonic() + 20
    while not download.count() and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    if download.count():  # the worker made it (the htmx poll reloads the page when it is done)
        assert f"已生成 {pending - 1} 份通知单" in progress.inner_text(), progress.inner_text()
        response = page.request.get(screen.base_url + download.get_attribute("href"))
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        assert response.body().startswith(b"%PDF-")
        _look(screen, "notices-batch-done")
    else:  # no worker: waiting is all the page can say
        assert "排队等待" in progress.inner_text() or "正在生成" in progress.inner_text()
        assert progress.locator("progress").count() == 1

    # The notices page lists the batch.
    page.goto("/care/health_check/notices/")
    assert page.locator(f"#notice-batches a[href$='/care/notices/batches/{batch_id}/']").count() == 1
    _no_errors(screen)


# ------------------------------------------------------------------------------------------------ 3. pre-pregnancy check


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_pre_pregnancy_results_only_for_the_station(screen_factory, kind):
    # The community officer: the three enrolments with their status, and no result anywhere.
    officer = screen_factory(kind)
    page = officer.page
    _log_in(officer, "community_officer")
    _open_menu(officer, "入户服务", "孕前优生检查")
    assert page.url.endswith("/preconception/"), page.url
    assert page.locator("h1").inner_text().strip() == "免费孕前优生健康检查"
    rows = page.locator("main table tbody tr")
    assert rows.count() == 3, page.locator("main table").inner_text()
    statuses = sorted(" ".join(s.split()) for s in page.locator("td[data-label='状态']").all_inner_texts())
    assert statuses == ["已检查", "已登记", "已评估 需随访"], statuses
    assert not [word for word in RESULTS if word in page.content()], "results on the officer's list"
    _look(officer, "preconception-officer-list")

    high = rows.filter(has=page.locator(".badge", has_text="需随访"))
    woman = high.locator("td[data-label='女方'] a").inner_text().strip()
    with page.expect_navigation():
        _press(officer, high.locator("td[data-label='女方'] a"))
    enrolment = ENROLMENT_ID.search(page.url).group(1)
    assert page.locator("h1 .badge").inner_text().strip() == "已评估"
    section = page.locator("#partner-woman")
    assert section.locator(".badge").first.inner_text().strip() == "需随访"
    assert section.locator("table").count() == 0, section.inner_text()
    assert "检查结果属临床信息，仅服务机构人员和本人可以查看。" in page.locator("main").inner_text()
    # Not on the page at all, folded sections (<details>) and hidden inputs included.
    leaked = [word for word in RESULTS if word in page.content()]
    assert not leaked, f"the community officer's page carries {leaked}"
    assert page.locator("a", has_text="检查结果").count() == 0, "the officer is offered the results form"
    _look(officer, "preconception-officer-detail")
    _no_errors(officer)

    # The station's staff: the same enrolment, with the abnormal item, the risk and the advice.
    clinic = screen_factory(kind)
    page = clinic.page
    _log_in(clinic, "clinic_staff")
    _open_menu(clinic, "入户服务", "孕前优生检查")
    rows = page.locator("main table tbody tr")
    assert rows.count() == 3, page.locator("main table").inner_text()
    with page.expect_navigation():
        _press(clinic, page.locator("td[data-label='女方'] a", has_text=woman))
    assert ENROLMENT_ID.search(page.url).group(1) == enrolment, page.url
    section = page.locator("#partner-woman")
    abnormal = section.locator("tbody tr.table-warning")
    assert abnormal.count() == 1, section.inner_text()
    cells = [c.strip() for c in abnormal.locator("td").all_inner_texts()]
    assert cells == ["血常规", "异常 · 血红蛋白偏低"], cells
    assert section.locator("tbody tr").count() > 10, "the items of the woman's check are missing"
    text = section.inner_text()
    assert "风险评估：高风险人群" in text, text
    assert "咨询指导建议：建议补充铁剂，一个月后复查血常规。" in text, text
    assert section.locator("a", has_text="修改检查结果").count() == 1
    _look(clinic, "preconception-clinic-detail")
    _no_errors(clinic)
