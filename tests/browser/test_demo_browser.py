"""The demo in a real browser: what a community officer and a building volunteer see, at desktop and phone width.

Screenshots go to var/screenshots/{desktop,phone}-{login,home,persons,person,places,volunteer-persons}.png,
and phone-menu.png (the opened navbar).
"""

import re

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "hearth-demo"
OWN = "祥和社区"
OTHER_COMMUNITIES = [
    f"{n}社区"
    for n in ["学苑", "郑大", "康桥", "桃源", "新华", "嵩山", "中原", "长城", "绿城", "交通", "金桥"]
]
MASKED_ID = re.compile(r"^\*{14}[0-9X]{4}$")
COUNT = re.compile(r"共\s*([\d,]+)\s*人")
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def _log_in(screen, username: str):
    page = screen.page
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.url == f"{screen.base_url}/", f"login as {username} landed on {page.url}"


def _open_menu(screen, label: str, shot: str | None = None):
    """Through the navbar, as a person would: on a phone the menu is collapsed behind the toggler."""
    page = screen.page
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.locator("#mainnav.show").wait_for()
        if shot:
            screen.shot(shot)
    with page.expect_navigation():
        page.locator("#mainnav .nav-link", has_text=label).first.click()


def _fits_width(screen):
    """Nothing pushes the page wider than the screen (a phone would zoom out or scroll sideways)."""
    width = screen.page.viewport_size["width"]
    scroll = screen.page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, (
        f"{screen.kind}: page is {scroll}px wide on a {width}px screen ({screen.page.url})"
    )


def _addresses(page) -> list[str]:
    return [t.strip() for t in page.locator("#results tbody td[data-label='现住址']").all_inner_texts()]


CHARTS_SETTLED = """() => Promise.all([...document.querySelectorAll("[data-chart]")].map((el) =>
  new Promise((done) => {
    const chart = window.echarts && window.echarts.getInstanceByDom(el);
    if (!chart) { done(); return; }
    chart.on("finished", done);
    setTimeout(done, 1500);
  })))"""


def _charts_settled(page):
    """ECharts animates its bars in: wait for the end so the screenshot shows the real chart."""
    page.evaluate(CHARTS_SETTLED)


def _no_full_id(page):
    """No complete ID number anywhere in the page's HTML, shown or hidden."""
    found = FULL_ID.search(page.content())
    assert found is None, f"a full ID number is in the page {page.url}"


def _count(page) -> int:
    text = page.locator("#results p").first.inner_text()
    match = COUNT.search(text)
    assert match, f"no count in {text!r}"
    return int(match.group(1).replace(",", ""))


def _all_addresses(page) -> list[str]:
    """Every address across the list's pages, leaving the browser on the first page again."""
    start = page.url
    addresses = _addresses(page)
    while page.locator("#results nav a", has_text="下一页").count():
        with page.expect_navigation():
            page.locator("#results nav a", has_text="下一页").click()
        addresses += _addresses(page)
    if page.url != start:
        page.goto(start)
    return addresses


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_community_officer_sees_only_her_community(screen_factory, kind):
    screen = screen_factory(kind)
    page = screen.page

    page.goto("/login/")
    screen.shot("login")
    _fits_width(screen)
    _log_in(screen, "community_officer")

    # Home: the header's scope breadcrumb ends at the officer's community.
    crumb = page.locator("nav[aria-label='管辖范围'] .breadcrumb-item.active")
    assert crumb.inner_text().strip() == OWN
    assert page.locator("h1").first.inner_text().startswith("工作台")
    _charts_settled(page)
    screen.shot("home")
    _fits_width(screen)

    # Persons: only 祥和社区's residents, the count agrees with the rows, numbers masked.
    _open_menu(screen, "人员", shot="menu")
    assert page.url.endswith("/persons/")
    total = _count(page)
    addresses = _all_addresses(page)
    assert total > 0
    assert len(addresses) == total, f"count says {total}, the pages list {len(addresses)}"
    for address in addresses:
        assert OWN in address, address
        assert not any(other in address for other in OTHER_COMMUNITIES), address
    ids = page.locator("#results td.id-masked").all_inner_texts()
    assert ids and all(MASKED_ID.match(i.strip()) for i in ids), ids[:3]
    _no_full_id(page)
    screen.shot("persons")
    _fits_width(screen)

    # Search by name through htmx: the results swap in place, no page load.
    first_name = page.locator("#results tbody td[data-label='姓名'] a").first.inner_text().strip()
    page.evaluate("window.__noReload = true")
    with page.expect_response(
        lambda r: "/persons/?" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.fill("input[name=q]", first_name)
    page.locator("#results p", has_text=COUNT).wait_for()
    page.wait_for_function("document.querySelector('#results tbody td') !== null")
    assert page.evaluate("window.__noReload === true"), "the name search reloaded the page instead of htmx"
    found = _count(page)
    names = [n.strip() for n in page.locator("#results tbody td[data-label='姓名']").all_inner_texts()]
    assert 0 < found <= total
    assert names and all(first_name in n for n in names), names
    assert "q=" in page.url, "the search is not kept in the address bar (hx-push-url)"

    # A person's page: the ID number is masked to its last four characters.
    with page.expect_navigation():
        page.locator("#results tbody td[data-label='姓名'] a").first.click()
    assert page.locator("h1").first.inner_text().strip() == first_name
    shown = page.locator("#reveal .id-masked").first.inner_text().strip()
    assert MASKED_ID.match(shown), shown
    _no_full_id(page)
    detail = page.locator("main").inner_text()
    assert OWN in detail
    screen.shot("person")
    _fits_width(screen)

    # Places: the officer's community and its buildings, nothing of the others.
    _open_menu(screen, "地区与房屋")
    assert page.url.endswith("/places/")
    assert page.locator("main h1").inner_text().startswith(OWN)
    children = [c.strip() for c in page.locator("main .list-group").first.locator("li a").all_inner_texts()]
    assert children and all(re.fullmatch(r"\d+号楼", c) for c in children), children
    main_text = page.locator("main").inner_text()
    assert not any(other in main_text for other in OTHER_COMMUNITIES)
    screen.shot("places")
    _fits_width(screen)

    screen.assert_no_errors()


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_building_volunteer_sees_age_bands_and_no_id_numbers(screen_factory, kind):
    screen = screen_factory(kind)
    page = screen.page
    _log_in(screen, "building_volunteer")
    assert page.locator("nav[aria-label='管辖范围'] .breadcrumb-item.active").inner_text().strip() == "1号楼"

    _open_menu(screen, "人员")
    headers = [h.strip() for h in page.locator("#results thead th").all_inner_texts()]
    assert "年龄段" in headers and "年龄" not in headers, headers
    assert "证件号码" not in headers and "身份证号码" not in headers, headers
    assert page.locator("#results .id-masked").count() == 0
    assert _count(page) > 0
    bands = [t.strip() for t in page.locator("#results tbody td:nth-child(3)").all_inner_texts()]
    assert bands and all(re.search(r"\d", b) for b in bands), bands[:5]
    for address in _addresses(page):
        assert f"{OWN}1号楼" in address, address
    assert "*" not in page.locator("main").inner_text()
    _no_full_id(page)
    screen.shot("volunteer-persons")
    _fits_width(screen)

    screen.assert_no_errors()


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_volunteer_reports_a_change_and_the_officer_sees_it(screen_factory, kind):
    """The volunteer's phone form, then the officer's pending list and the registry pages built on it."""
    screen = screen_factory(kind)
    page = screen.page
    _log_in(screen, "building_volunteer")
    page.goto("/change-reports/new/")
    screen.shot("volunteer-report-form")
    _fits_width(screen)
    page.select_option("select[name=dwelling]", index=1)
    page.locator("label", has_text="有人迁入").click()
    page.fill("textarea[name=text]", f"{kind} 测试：新住户一名")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "/change-reports/" in page.url
    assert page.locator("main", has_text="待确认").count()
    screen.shot("volunteer-reports")
    screen.assert_no_errors()

    officer = screen_factory(kind)
    page = officer.page
    _log_in(officer, "community_officer")
    page.goto("/change-reports/?status=pending")
    assert page.locator("main", has_text=f"{kind} 测试").count(), "the officer does not see the report"
    officer.shot("officer-reports")
    _fits_width(officer)

    # A person's page: details, family, and the event timeline.
    page.goto("/persons/")
    with page.expect_navigation():
        page.locator("#results tbody td[data-label='姓名'] a").first.click()
    assert page.locator("h2", has_text="事件记录").count()
    _no_full_id(page)
    officer.shot("person-timeline")
    _fits_width(officer)
    with page.expect_navigation():
        page.locator("a", has_text="记录事件").first.click()
    officer.shot("event-form")
    _fits_width(officer)

    # Derived lists: each with its rule in words and a count; one opened.
    page.goto("/lists/")
    assert page.locator("main", has_text="育龄妇女").count()
    officer.shot("lists")
    _fits_width(officer)
    page.goto("/lists/women_15_49/")
    ids = page.locator("td.id-masked").all_inner_texts()
    assert ids and all(MASKED_ID.match(i.strip().split()[0]) for i in ids), ids[:3]
    _no_full_id(page)
    officer.shot("list-women")
    _fits_width(officer)

    # Landlords and the rental worklist (以房管人).
    page.goto("/landlords/worklist/")
    officer.shot("rental-worklist")
    _fits_width(officer)
    page.goto("/landlords/")
    officer.shot("landlords")
    _fits_width(officer)
    officer.assert_no_errors()
