"""Realistically messy resident spreadsheets, as communities fill them in (for tests, the demo and the bench).

`messy_workbook` is pure (no database) and deterministic: the same people, seed, mess, format and header
choice give the same bytes. The layout is always the same shape:

    row 1   `XX社区常住人口登记表`, merged across all columns
    row 2   `填报单位：XX社区` … `填报日期：2026年3月`
    row 3   the header (synonyms, stray half- and full-width spaces); with `two_row_header`, rows 3–4:
            `基本信息` merged over the five personal columns, with the column names below it, and
            `现住址`, `户籍地`, `联系电话`, `备注` each merged down both rows (parents over nothing)
    then    one row per person, with blank rows scattered between them
    last    `合计` | `N人`

Kinds of mess, each drawn per row from the seed at `RATES[kind] × mess` (a group's shares are scaled down
together if they would pass 0.95). `MessyFile.kinds` lists the sheet rows that got each kind, so tests can
assert exact counts:

    id.spreadsheet_number  the ID written as a number (Excel shows 4.10103E+17; a csv holds that text)
    id.legacy15            the old 15-digit form (born 1900–1999 only: `19` and the check digit dropped)
    id.spaced              `410103 19750302 0012` or `410103-19750302-0012`
    id.lower_x             a final `X` written `x` (a share of the IDs that end in X)
    birth.dotted           `1975.03.02`             birth.cjk         `1975年3月2日`
    birth.date_cell        a real date cell (csv: `1975/3/2`, as Excel saves it)
    birth.serial           the Excel serial as a plain number (27455)
    birth.year_month       `1975.03` (month only)   (every other row: ISO text `1975-03-02`)
    sex.blank              sex left empty           (otherwise 男/女)
    name.space             a half- or full-width space inside or after the name
    phone.number           the phone as a number cell   phone.spaced   `138 0013 8000` or `138-0013-8000`
    address.dong           `3号楼2单元501室` → `3栋2单元501`   address.dashed   → `3-2-501`
    address.fullwidth      the address's digits full-width (`３号楼`)
    hukou.number           the 6-digit hukou code as a number cell
    blank                  a fully blank row before a person's row

With `mess=0` every cell is clean text (ISO dates, 18-digit IDs, plain headers, no blank rows); the title,
the 填报 row and the totals row stay, because every real sheet has them.
"""

import csv
import io
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime

import xlsxwriter

from hearth.core import citizen_id

FORMATS = ("xlsx", "csv", "csv-utf8")
MAX_MESS = 5.0
FILLED_IN = "2026年3月"

# The share of rows that get each kind of mess at mess=1.0.
RATES: dict[str, float] = {
    "id.spreadsheet_number": 0.01,
    "id.legacy15": 0.04,
    "id.spaced": 0.03,
    "id.lower_x": 0.5,
    "birth.dotted": 0.15,
    "birth.cjk": 0.15,
    "birth.date_cell": 0.2,
    "birth.serial": 0.1,
    "birth.year_month": 0.1,
    "sex.blank": 0.03,
    "name.space": 0.05,
    "phone.number": 0.3,
    "phone.spaced": 0.1,
    "address.dong": 0.2,
    "address.dashed": 0.2,
    "address.fullwidth": 0.05,
    "hukou.number": 0.2,
    "blank": 0.02,
    # Layout, drawn once per file.
    "header.variant": 0.5,
    "header.space": 0.2,
    "header.two_rows": 0.3,
}
# Kinds that exclude each other within one cell: drawn from one number against cumulative thresholds.
_GROUPS = {
    "id": ("id.spreadsheet_number", "id.legacy15", "id.spaced"),
    "birth": ("birth.dotted", "birth.cjk", "birth.date_cell", "birth.serial", "birth.year_month"),
    "phone": ("phone.number", "phone.spaced"),
    "address": ("address.dong", "address.dashed"),
}
KINDS = tuple(k for k in RATES if not k.startswith("header."))

_EXCEL_EPOCH = date(1899, 12, 30).toordinal()
_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
_ADDRESS = re.compile(r"(\d+)号楼(\d+)单元(\d+)室?")
_SEX_TEXT = {"M": "男", "F": "女"}
_COLUMNS = 9  # 姓名 身份证 性别 出生 民族 现住址 户籍地 联系电话 备注
_PERSONAL = 5  # the first five sit under 基本信息 in a two-row header


@dataclass
class SheetPerson:
    name: str
    id_number: str  # the valid 18-digit number
    sex: str  # hearth.registry.models.Sex: "M" or "F"
    birth_date: date
    address: str  # e.g. "3号楼2单元501室"
    hukou: str  # 6-digit GB/T 2260 code
    phone: str
    ethnicity: str = "汉族"


@dataclass
class MessyFile:
    data: bytes
    spreadsheet_numbers: list[int]  # sheet rows (1-based) whose ID was written as a number
    rows: dict[int, SheetPerson]  # sheet row → the person written there
    totals_row: int
    header_rows: tuple[int, ...] = ()
    two_row_header: bool = False
    kinds: dict[str, list[int]] = field(default_factory=dict)  # kind of mess → sheet rows that have it


def messy_workbook(
    people: list[SheetPerson],
    *,
    seed: int = 0,
    community: str = "祥和社区",
    mess: float = 1.0,
    fmt: str = "xlsx",
    two_row_header: bool | None = None,
) -> MessyFile:
    """Write `people` as a community's 常住人口登记表 with realistic mess (see the module docstring).

    fmt: "xlsx" (xlsxwriter, constant memory), "csv" (GBK; GB18030 bytes for the rare character outside
    GBK) or "csv-utf8" (UTF-8 with BOM, as Excel's "CSV UTF-8"). A csv carries the mess as Excel would have
    saved it: number cells as their displayed text. `two_row_header=None` lets the seed decide.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    if not 0 <= mess <= MAX_MESS:
        raise ValueError(f"mess must be between 0 and {MAX_MESS}")
    rng = random.Random(seed)
    rate = {k: min(v * mess, 1.0) for k, v in RATES.items()}
    # Drawn even when the caller decides, so forcing the header leaves every row's mess as the seed made it.
    seeded_two_rows = rng.random() < rate["header.two_rows"]
    if two_row_header is None:
        two_row_header = seeded_two_rows
    headers = _header_rows(rng, rate, two_row_header)
    sink = _XlsxSink(two_row_header) if fmt == "xlsx" else _CsvSink(fmt)

    sink.title(f"{community}常住人口登记表", f"填报单位：{community}", f"填报日期：{FILLED_IN}")
    sink.headers(headers)
    header_rows = tuple(range(3, 3 + len(headers)))
    kinds: dict[str, list[int]] = {k: [] for k in KINDS}
    rows: dict[int, SheetPerson] = {}
    number = header_rows[-1]  # the sheet row last written (1-based)

    # Hoisted out of the loop: per-row work is a handful of random() calls and comparisons.
    rnd = rng.random
    id_cut = _thresholds(rate, "id")
    birth_cut = _thresholds(rate, "birth")
    phone_cut = _thresholds(rate, "phone")
    address_cut = _thresholds(rate, "address")
    p_lower_x, p_sex_blank, p_name = rate["id.lower_x"], rate["sex.blank"], rate["name.space"]
    p_full, p_hukou, p_blank = rate["address.fullwidth"], rate["hukou.number"], rate["blank"]
    mark = {k: v.append for k, v in kinds.items()}
    write = sink.row

    for person in people:
        if rnd() < p_blank:
            number += 1
            mark["blank"](number)
            sink.blank(number)
        number += 1
        rows[number] = person

        # 身份证号
        id_number = person.id_number
        id_cell: str | int = id_number
        plain = True
        u = rnd()
        if u < id_cut[0]:
            if id_number[-1] != "X":  # an X cannot be typed into a number cell
                id_cell, plain = int(id_number), False
                mark["id.spreadsheet_number"](number)
        elif u < id_cut[1]:
            if 1900 <= person.birth_date.year <= 1999:
                id_cell, plain = id_number[:6] + id_number[8:17], False
                mark["id.legacy15"](number)
        elif u < id_cut[2]:
            sep = " " if u * 1000 % 2 < 1 else "-"
            id_cell, plain = f"{id_number[:6]}{sep}{id_number[6:14]}{sep}{id_number[14:]}", False
            mark["id.spaced"](number)
        if plain and id_number[-1] == "X" and rnd() < p_lower_x:
            id_cell = id_number[:-1] + "x"
            mark["id.lower_x"](number)

        # 出生日期
        born = person.birth_date
        u = rnd()
        if u < birth_cut[0]:
            birth: str | int | date = f"{born.year}.{born.month:02d}.{born.day:02d}"
            mark["birth.dotted"](number)
        elif u < birth_cut[1]:
            birth = f"{born.year}年{born.month}月{born.day}日"
            mark["birth.cjk"](number)
        elif u < birth_cut[2]:
            birth = born
            mark["birth.date_cell"](number)
        elif u < birth_cut[3]:
            birth = born.toordinal() - _EXCEL_EPOCH
            mark["birth.serial"](number)
        elif u < birth_cut[4]:
            birth = f"{born.year}.{born.month:02d}"
            mark["birth.year_month"](number)
        else:
            birth = born.isoformat()

        # 姓名, 性别
        name = person.name
        if rnd() < p_name:
            name = _spaced_name(name, rnd())
            mark["name.space"](number)
        if rnd() < p_sex_blank:
            sex = ""
            mark["sex.blank"](number)
        else:
            sex = _SEX_TEXT.get(person.sex, person.sex)

        # 现住址
        address = person.address
        u = rnd()
        if u < address_cut[1]:
            m = _ADDRESS.search(address)
            if m is not None:
                b, unit, room = m.groups()
                dong = u < address_cut[0]
                repl = f"{b}栋{unit}单元{room}" if dong else f"{b}-{unit}-{room}"
                address = address[: m.start()] + repl + address[m.end() :]
                mark["address.dong" if dong else "address.dashed"](number)
        if rnd() < p_full:
            address = address.translate(_FULL_WIDTH_DIGITS)
            mark["address.fullwidth"](number)

        # 户籍地, 联系电话
        hukou: str | int = person.hukou
        if rnd() < p_hukou and hukou.isdigit():
            hukou = int(hukou)
            mark["hukou.number"](number)
        phone: str | int = person.phone
        u = rnd()
        if phone and phone.isdigit():
            if u < phone_cut[0]:
                phone = int(phone)
                mark["phone.number"](number)
            elif u < phone_cut[1] and len(phone) == 11:
                sep = " " if u * 1000 % 2 < 1 else "-"
                phone = f"{phone[:3]}{sep}{phone[3:7]}{sep}{phone[7:]}"
                mark["phone.spaced"](number)

        write(number, (name, id_cell, sex, birth, person.ethnicity, address, hukou, phone, ""))

    totals_row = number + 1
    sink.totals(totals_row, "合计", f"{len(people)}人")
    return MessyFile(
        data=sink.close(),
        spreadsheet_numbers=kinds["id.spreadsheet_number"],
        rows=rows,
        totals_row=totals_row,
        header_rows=header_rows,
        two_row_header=two_row_header,
        kinds=kinds,
    )


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐曾单解"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玉凤建国红梅志文斌霞"
_HUKOU = ("410103", "410102", "410105", "410122", "411302", "412726", "130104", "340102")


def sample_people(n: int, *, seed: int = 0, area: str = "410103") -> list[SheetPerson]:
    """`n` valid, distinct people (IDs with correct check digits, born 1930–2020), deterministic per seed."""
    rng = random.Random(seed)
    first = date(1930, 1, 1).toordinal()
    span = date(2020, 12, 31).toordinal() - first
    seen: set[str] = set()
    people: list[SheetPerson] = []
    while len(people) < n:
        born = date.fromordinal(first + rng.randrange(span))
        sequence = rng.randrange(1000)
        number = citizen_id.make(area, born, sequence)
        if number in seen:
            continue
        seen.add(number)
        given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
        people.append(
            SheetPerson(
                name=rng.choice(_SURNAMES) + given,
                id_number=number,
                sex="M" if sequence % 2 else "F",
                birth_date=born,
                address=f"{rng.randint(1, 12)}号楼{rng.randint(1, 4)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}室",
                hukou=rng.choice(_HUKOU),
                phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if rng.random() < 0.9 else "",
            )
        )
    return people


def _thresholds(rate: dict[str, float], group: str) -> list[float]:
    shares = [rate[k] for k in _GROUPS[group]]
    total = sum(shares)
    if total > 0.95:  # a huge `mess` still leaves some rows plain, and the kinds keep their proportions
        shares = [s * 0.95 / total for s in shares]
    cut, acc = [], 0.0
    for s in shares:
        acc += s
        cut.append(acc)
    return cut


def _spaced_name(name: str, u: float) -> str:
    if len(name) < 2 or u < 1 / 3:
        return name + " "
    space = "\u3000" if u < 2 / 3 else " "
    return name[0] + space + name[1:]


def _header_rows(rng: random.Random, rate: dict[str, float], two_rows: bool) -> list[list[str]]:
    def pick(plain: str, variant: str) -> str:
        return variant if rng.random() < rate["header.variant"] else plain

    def stray(text: str) -> str:
        # A space typed before or after the name, or between its characters.
        if rng.random() >= rate["header.space"]:
            return text
        return (" " + text, text + " ", text[0] + " " + text[1:])[rng.randrange(3)]

    names = [
        pick("姓名", "姓　名"),
        stray(pick("身份证号", "公民身份号码")),
        pick("性别", "性 别"),
        stray(pick("出生日期", "出生年月")),
        stray("民族"),
        stray("现住址"),
        stray("户籍地"),
        stray("联系电话"),
        "备注",
    ]
    if not two_rows:
        return [names]
    top = ["基本信息", *[""] * (_PERSONAL - 1), *names[_PERSONAL:]]
    bottom = [*names[:_PERSONAL], *[""] * (_COLUMNS - _PERSONAL)]
    return [top, bottom]


class _XlsxSink:
    """Rows go out in order (constant_memory flushes each row when the next one starts)."""

    def __init__(self, two_row_header: bool):
        self.buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(self.buffer, {"constant_memory": True})
        # A fixed creation time: the same arguments give the same bytes (xlsxwriter would stamp "now").
        self.book.set_properties({"created": datetime(2026, 3, 1)})
        self.sheet = self.book.add_worksheet("Sheet1")
        self.two_row_header = two_row_header
        self.bold = self.book.add_format({"bold": True, "align": "center", "valign": "vcenter"})
        self.title_format = self.book.add_format({"bold": True, "font_size": 16, "align": "center"})
        self.date_format = self.book.add_format({"num_format": "yyyy/m/d"})
        for col, width in enumerate((10, 22, 6, 12, 8, 28, 10, 14, 12)):
            self.sheet.set_column(col, col, width)

    def title(self, title: str, unit: str, filled: str) -> None:
        self.sheet.merge_range(0, 0, 0, _COLUMNS - 1, title, self.title_format)
        self.sheet.write_string(1, 0, unit)
        self.sheet.write_string(1, _COLUMNS - 3, filled)

    def headers(self, rows: list[list[str]]) -> None:
        ws, bold = self.sheet, self.bold
        if len(rows) == 1:
            for col, text in enumerate(rows[0]):
                ws.write_string(2, col, text, bold)
            return
        top, bottom = rows
        # merge_range writes every cell of its range at once, which constant_memory allows only within
        # one row; the vertical merges are written row by row and registered in the sheet's merge list.
        ws.merge_range(2, 0, 2, _PERSONAL - 1, top[0], bold)
        for col in range(_PERSONAL, _COLUMNS):
            ws.write_string(2, col, top[col], bold)
        for col in range(_PERSONAL):
            ws.write_string(3, col, bottom[col], bold)
        for col in range(_PERSONAL, _COLUMNS):
            ws.write_blank(3, col, None, bold)
            ws.merge.append([2, col, 3, col])

    def blank(self, number: int) -> None:
        pass  # a row with no cells

    def row(self, number: int, cells: tuple) -> None:
        ws, r = self.sheet, number - 1
        for col, value in enumerate(cells):
            kind = type(value)
            if kind is str:
                if value:
                    ws.write_string(r, col, value)
            elif kind is int:
                ws.write_number(r, col, value)
            else:
                ws.write_datetime(r, col, value, self.date_format)

    def totals(self, number: int, label: str, count: str) -> None:
        self.sheet.write_string(number - 1, 0, label, self.bold)
        self.sheet.write_string(number - 1, 1, count, self.bold)

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


class _CsvSink:
    """The same sheet saved as csv by Excel: number cells as displayed, merged cells as one value."""

    def __init__(self, fmt: str):
        self.text = io.StringIO(newline="")
        self.writer = csv.writer(self.text)
        self.encoding = "gb18030" if fmt == "csv" else "utf-8-sig"

    def title(self, title: str, unit: str, filled: str) -> None:
        self.writer.writerow([title, *[""] * (_COLUMNS - 1)])
        second = [""] * _COLUMNS
        second[0], second[_COLUMNS - 3] = unit, filled
        self.writer.writerow(second)

    def headers(self, rows: list[list[str]]) -> None:
        self.writer.writerows(rows)

    def blank(self, number: int) -> None:
        self.writer.writerow([""] * _COLUMNS)

    def row(self, number: int, cells: tuple) -> None:
        self.writer.writerow([v if type(v) is str else _displayed(v) for v in cells])

    def totals(self, number: int, label: str, count: str) -> None:
        self.writer.writerow([label, count, *[""] * (_COLUMNS - 2)])

    def close(self) -> bytes:
        return self.text.getvalue().encode(self.encoding)


def _displayed(value: int | date) -> str:
    """What Excel's General format (or the date format) shows, which is what it saves into a csv."""
    if isinstance(value, date):
        return f"{value.year}/{value.month}/{value.day}"
    if value >= 10**11:  # General shows at most 11 digits; longer numbers go to 6 significant digits
        mantissa, exponent = f"{value:.5E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"
    return str(value)
