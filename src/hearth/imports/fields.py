"""Cleaning one cell of a residents' spreadsheet into a registry value (人员信息导入的字段规整).

Pure functions, no database: each takes the cell's text as `read_table` gives it and returns the value
the registry stores, or raises `DomainError(code, message, field)` with a Chinese message naming the
field and the reason. `field` is the import field (the keys of `PERSON_SYNONYMS`), which is what the
mapping page and the error workbook show.
"""

import re
import unicodedata
from datetime import date, timedelta

import phonenumbers
from django.utils.translation import gettext as _

from hearth.core.errors import DomainError
from hearth.core.phone import normalise_phone
from hearth.registry.codes import (
    KNOWN_REGIONS,
    PROVINCES,
    Education,
    Ethnicity,
    MaritalStatus,
    region_is_valid,
)
from hearth.registry.models import Sex

# Accepted headers for each import field; the first name is the proper one, used in messages.
PERSON_SYNONYMS: dict[str, list[str]] = {
    "name": ["姓名", "名字", "居民姓名", "人员姓名"],
    "id_number": ["公民身份号码", "身份证号", "身份证号码", "证件号码", "身份证", "身份证件号码"],
    "sex": ["性别"],
    "birth_date": ["出生日期", "出生年月", "出生年月日", "生日"],
    "ethnicity": ["民族"],
    "address": ["现住址", "现居住地址", "居住地址", "住址", "现住地址", "现居住地"],
    "hukou": ["户籍地", "户籍所在地", "户口所在地", "户籍地址"],
    "phone": ["联系电话", "电话", "手机", "手机号码", "手机号", "联系方式"],
    "marital_status": ["婚姻状况", "婚姻状态"],
    "education": ["文化程度", "学历"],
    "occupation": ["职业"],
    "notes": ["备注"],
}


def _compact(raw: str) -> str:
    """NFKC (full-width to half-width), without spaces or invisible marks (zero-width spaces, BOMs)."""
    text = str(raw or "")
    if not text.isascii():  # ASCII is already NFKC: most cells skip the normalisation
        text = unicodedata.normalize("NFKC", text)
    return _visible(text)


def _visible(text: str) -> str:
    """`text` without whitespace and invisible format marks (category Cf)."""
    # str.isprintable() is false for every Cf character and every whitespace character but " " (the tests
    # check all of Unicode), so a printable text needs no look at each character's category.
    if not text.isprintable():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return "".join(text.split())  # str.split() cuts at exactly the characters str.isspace() names


# ---------------------------------------------------------------------------------------------- name

NAME_MAX = 50
# Minority names (买买提·艾力) are written with many look-alike dots; the registry keeps U+00B7.
_NAME_DOTS = re.compile(r"[.\u00b7\u0387\u2022\u2027\u2219\u22c5\u30fb\uff65]")
_LATIN_GAP = re.compile(r"(?<=[A-Za-z])\s+(?=[A-Za-z])")
# Most names are only CJK ideographs (U+4E00–U+9FFF): NFKC leaves them as they are, and none is a digit, a
# space, an invisible mark or a dot, so such a name is already clean (the tests compare every character).
_PLAIN_NAME = re.compile(rf"[\u4e00-\u9fff]{{1,{NAME_MAX}}}")


def clean_name(raw: str) -> str:
    """姓名: `张 三` → `张三`, `买买提.艾力` → `买买提·艾力`.

    Whitespace inside is removed (Chinese names have none) except one space between two Latin words
    (`John Smith`); the dots of minority names become `·`. Refused: empty, more than 50 characters,
    digits, or a dot at either end or doubled.
    """
    if isinstance(raw, str) and _PLAIN_NAME.fullmatch(raw):
        return raw
    text = unicodedata.normalize("NFKC", str(raw or ""))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()
    text = _LATIN_GAP.sub("\0", text)  # keep one space between Latin words, as a placeholder for now
    text = "".join(ch for ch in text if not ch.isspace()).replace("\0", " ")
    text = _NAME_DOTS.sub("·", text)
    if not text:
        raise DomainError("import.name_required", _("姓名不能为空。"), "name")
    if len(text) > NAME_MAX:
        raise DomainError("import.name", _("姓名不能超过%(max)d个字。") % {"max": NAME_MAX}, "name")
    if any(ch.isdigit() for ch in text):
        raise DomainError("import.name", _("姓名“%(name)s”中含有数字。") % {"name": text}, "name")
    if text.startswith("·") or text.endswith("·") or "··" in text:
        raise DomainError("import.name", _("姓名“%(name)s”中的间隔号“·”位置不对。") % {"name": text}, "name")
    return text


# ----------------------------------------------------------------------------------------------- sex

_SEX_WORDS = {
    "男": Sex.MALE,
    "男性": Sex.MALE,
    "m": Sex.MALE,
    "male": Sex.MALE,
    "1": Sex.MALE,  # GB/T 2261.1: 1 男, 2 女
    "女": Sex.FEMALE,
    "女性": Sex.FEMALE,
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "2": Sex.FEMALE,
}


def _sex_label(code: str) -> str:
    return _("男") if code == Sex.MALE else _("女")


def clean_sex(raw: str, id_sex: str | None = None) -> str:
    """性别 → `Sex` ("M"/"F"): 男/男性/M/1 and 女/女性/F/2. Empty takes the ID's sex (`id_sex`)."""
    text = _compact(raw).casefold()
    if not text:
        if id_sex in (Sex.MALE, Sex.FEMALE):
            return str(id_sex)
        raise DomainError("import.sex_required", _("性别不能为空。"), "sex")
    code = _SEX_WORDS.get(text)
    if code is None:
        raise DomainError(
            "import.sex", _("性别“%(value)s”无法识别，请填写“男”或“女”。") % {"value": _compact(raw)}, "sex"
        )
    if id_sex in (Sex.MALE, Sex.FEMALE) and code != id_sex:
        raise DomainError(
            "import.sex_mismatch",
            _("性别填写为“%(written)s”，但身份证号码显示为“%(id)s”。")
            % {"written": _sex_label(code), "id": _sex_label(id_sex)},
            "sex",
        )
    return str(code)


# ------------------------------------------------------------------------------------------ birth date

_MIN_YEAR = 1880  # as citizen_id: no one on file was born earlier
_EXCEL_MAX_SERIAL = 60000  # 2064-04-08
_EXCEL_FAKE_LEAP_DAY = 60  # Excel's 1900-02-29, a day that never was
# A date-time cell written as text: the time of day is dropped (it needs a space or a T before it).
_WITH_TIME = re.compile(r"^(\d{4}\D.*?[\d日])(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_FULL = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_YEAR_MONTH = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
# 1975.10 typed into a number cell reads back as 1975.1: a dot and the single digit 1 may mean January or
# October.
_FLOAT_MONTH_ONE = re.compile(r"^(\d{4})\.1$")
_SERIAL = re.compile(r"^\d{1,5}$")
_YEAR_ONLY = re.compile(r"^(\d{4})年?$")


def excel_serial_to_date(serial: int) -> date:
    """An Excel date serial (1900 date system) as a date; serial 60 is Excel's fictitious 1900-02-29.

    Excel counts 1900-01-01 as 1 and wrongly treats 1900 as a leap year, so from serial 61 on the count
    is one day ahead of the calendar. Raises ValueError for serial 60 and for serials outside 1–60000.
    """
    if not 1 <= serial <= _EXCEL_MAX_SERIAL or serial == _EXCEL_FAKE_LEAP_DAY:
        raise ValueError(serial)
    if serial < _EXCEL_FAKE_LEAP_DAY:
        return date(1899, 12, 31) + timedelta(days=serial)
    return date(1899, 12, 30) + timedelta(days=serial)


def _bad_date(text: str) -> DomainError:
    return DomainError(
        "import.birth_date",
        _("出生日期“%(value)s”无法识别或不存在，请写成 1975-03-02 这样的日期。") % {"value": text},
        "birth_date",
    )


def _partial(text: str) -> DomainError:
    return DomainError(
        "import.birth_date_partial",
        _("出生日期“%(value)s”不完整（缺少日），且无法从身份证号码核对，请填写完整日期。") % {"value": text},
        "birth_date",
    )


def _month_mismatch(text: str, id_birth: date) -> DomainError:
    return DomainError(
        "import.birth_month_mismatch",
        _("出生年月“%(value)s”与身份证号码中的出生日期（%(id)s）不一致。")
        % {"value": text, "id": id_birth.isoformat()},
        "birth_date",
    )


def _full_date(text: str) -> date | None:
    """The date a full-date text names, None when it is not written as a full date."""
    for pattern in _FULL:
        m = pattern.match(text)
        if m:
            year, month, day = (int(g) for g in m.groups())
            try:
                born = date(year, month, day)
            except ValueError:
                raise _bad_date(text) from None
            if year < _MIN_YEAR:
                raise _bad_date(text)
            return born
    if _SERIAL.match(text):
        try:
            return excel_serial_to_date(int(text))
        except ValueError:
            raise _bad_date(text) from None
    return None


def _year_month(text: str) -> tuple[int, set[int]] | None:
    """(year, the months it may mean) for a year-month text, None when it is not one."""
    if _FLOAT_MONTH_ONE.match(text):
        return int(text[:4]), {1, 10}
    for pattern in _YEAR_MONTH:
        m = pattern.match(text)
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if not 1 <= month <= 12 or year < _MIN_YEAR:
                raise _bad_date(text)
            return year, {month}
    return None


def clean_birth_date(raw: str, id_birth: date | None = None) -> date:
    """出生日期 → a date, checked against the ID's birth date (`id_birth`) when it is known.

    Accepted: `1975-03-02`, `1975/3/2`, `1975.3.2`, `1975.03.02`, `19750302`, `1975年3月2日` (a time of day
    after them is ignored), and an Excel serial number as text (`27455`, 1–60000; the reader gives number
    cells as text). A year and month only (`1975.03`, `1975-3`, `1975年3月`, `197503`) is accepted when the
    ID's birth date is known and in that month, and the ID's date is returned; `1975.1` (perhaps 1975.10
    from a number cell) may be January or October. A four-digit number from 1880 to 2100 is a year alone,
    never a serial, and is refused as incomplete. Empty takes `id_birth`.
    """
    text = str(raw or "")
    if not text.isascii():  # ASCII is already NFKC
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    with_time = _WITH_TIME.match(text)
    text = _compact(with_time.group(1) if with_time else text)
    if not text:
        if id_birth is not None:
            return id_birth
        raise DomainError("import.birth_date_required", _("出生日期不能为空。"), "birth_date")
    year_only = _YEAR_ONLY.match(text)
    if year_only and _MIN_YEAR <= int(year_only.group(1)) <= 2100:
        raise DomainError(
            "import.birth_date_partial",
            _("出生日期“%(value)s”只有年份，请填写完整日期。") % {"value": text},
            "birth_date",
        )
    born = _full_date(text)
    if born is not None:
        if id_birth is not None and born != id_birth:
            raise DomainError(
                "import.birth_date_mismatch",
                _("出生日期“%(value)s”与身份证号码中的出生日期（%(id)s）不一致。")
                % {"value": born.isoformat(), "id": id_birth.isoformat()},
                "birth_date",
            )
        return born
    year_month = _year_month(text)
    if year_month is None:
        raise _bad_date(text)
    if id_birth is None:
        raise _partial(text)
    year, months = year_month
    if id_birth.year != year or id_birth.month not in months:
        raise _month_mismatch(text, id_birth)
    return id_birth


# ------------------------------------------------------------------------------------------- ethnicity


def _ethnicity_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, label in Ethnicity.choices:
        lookup[code] = code
        lookup[str(int(code))] = code  # a number cell drops the leading zero: 1 for 01
        lookup[label] = code
        if label.endswith("族") and len(label) > 1:
            lookup[label[:-1]] = code  # 汉, 回, 维吾尔
    # Everyday short forms.
    lookup.update({"蒙族": Ethnicity.MONGOL, "维族": Ethnicity.UYGHUR})
    return lookup


_ETHNICITY = _ethnicity_lookup()


def clean_ethnicity(raw: str) -> str:
    """民族 → `Ethnicity` code (GB/T 3304): `汉`, `汉族`, `01`, `1` → "01". Empty is 汉族, the model default."""
    text = _compact(raw)
    if not text:
        return str(Ethnicity.HAN)
    code = _ETHNICITY.get(text)
    if code is None:
        raise DomainError(
            "import.ethnicity",
            _("民族“%(value)s”无法识别，请填写如“汉族”“回族”。") % {"value": text},
            "ethnicity",
        )
    return str(code)


# --------------------------------------------------------------------------------- marital, education

_MARITAL = {
    "未婚": MaritalStatus.SINGLE,
    "单身": MaritalStatus.SINGLE,
    "已婚": MaritalStatus.MARRIED,
    "有配偶": MaritalStatus.MARRIED,
    "在婚": MaritalStatus.MARRIED,
    "初婚": MaritalStatus.MARRIED,
    "再婚": MaritalStatus.MARRIED,
    "复婚": MaritalStatus.MARRIED,
    "丧偶": MaritalStatus.WIDOWED,
    "离婚": MaritalStatus.DIVORCED,
    "离异": MaritalStatus.DIVORCED,
    "未说明": MaritalStatus.UNSTATED,
    "不详": MaritalStatus.UNSTATED,
    # GB/T 2261.2 codes, and the one-digit codes of its 1981 edition; 21–23 (初婚, 再婚, 复婚) are 已婚.
    "10": MaritalStatus.SINGLE,
    "20": MaritalStatus.MARRIED,
    "21": MaritalStatus.MARRIED,
    "22": MaritalStatus.MARRIED,
    "23": MaritalStatus.MARRIED,
    "30": MaritalStatus.WIDOWED,
    "40": MaritalStatus.DIVORCED,
    "90": MaritalStatus.UNSTATED,
    "1": MaritalStatus.SINGLE,
    "2": MaritalStatus.MARRIED,
    "3": MaritalStatus.WIDOWED,
    "4": MaritalStatus.DIVORCED,
    "9": MaritalStatus.UNSTATED,
}


def clean_marital(raw: str) -> str:
    """婚姻状况 → `MaritalStatus` code: 未婚 10, 已婚 (初婚/再婚/复婚/有配偶) 20, 丧偶 30, 离婚/离异 40.

    Empty is 未说明 (90), the model default.
    """
    text = _compact(raw)
    if not text:
        return str(MaritalStatus.UNSTATED)
    code = _MARITAL.get(text)
    if code is None:
        raise DomainError(
            "import.marital_status",
            _("婚姻状况“%(value)s”无法识别，请填写未婚、已婚、丧偶或离婚。") % {"value": text},
            "marital_status",
        )
    return str(code)


_EDUCATION = {
    "研究生": Education.POSTGRADUATE,
    "博士": Education.POSTGRADUATE,
    "博士研究生": Education.POSTGRADUATE,
    "硕士": Education.POSTGRADUATE,
    "硕士研究生": Education.POSTGRADUATE,
    "大学本科": Education.BACHELOR,
    "本科": Education.BACHELOR,
    "大学专科": Education.COLLEGE,
    "专科": Education.COLLEGE,
    "大专": Education.COLLEGE,
    "高职": Education.COLLEGE,
    "中等职业教育": Education.SECONDARY_VOCATIONAL,
    "中专": Education.SECONDARY_VOCATIONAL,
    "中等专科": Education.SECONDARY_VOCATIONAL,
    "中技": Education.SECONDARY_VOCATIONAL,
    "技校": Education.SECONDARY_VOCATIONAL,
    "技工学校": Education.SECONDARY_VOCATIONAL,
    "职高": Education.SECONDARY_VOCATIONAL,
    "职业高中": Education.SECONDARY_VOCATIONAL,
    "普通高中": Education.HIGH_SCHOOL,
    "高中": Education.HIGH_SCHOOL,
    "初中": Education.JUNIOR,
    "初级中学": Education.JUNIOR,
    "小学": Education.PRIMARY,
    "其他": Education.OTHER,
    "文盲": Education.OTHER,
    "半文盲": Education.OTHER,
    "文盲或半文盲": Education.OTHER,
    "不识字": Education.OTHER,
}
# 高中毕业, 初中肄业, 小学文化: the level is what counts.
_EDUCATION_SUFFIX = re.compile(r"(毕业|肄业|结业|在读|文化程度|文化|学历)$")
_EDUCATION_CODE = re.compile(r"^[1-9]\d$")


def clean_education(raw: str) -> str:
    """文化程度/学历 → `Education` code (GB/T 4658 top level); a two-digit sub-code (12, 61) → its level.

    `高中毕业`, `初中文化` count as 高中, 初中. Empty is "" (not stated), the model default.
    """
    text = _compact(raw)
    if not text:
        return ""
    code = _EDUCATION.get(text) or _EDUCATION.get(_EDUCATION_SUFFIX.sub("", text))
    if code is None and _EDUCATION_CODE.match(text) and text[0] + "0" in Education.values:
        code = text[0] + "0"
    if code is None:
        raise DomainError(
            "import.education",
            _("文化程度“%(value)s”无法识别，请填写如“初中”“高中”“大学本科”。") % {"value": text},
            "education",
        )
    return str(code)


# ----------------------------------------------------------------------------------------------- phone

# 13800138000, 138 0013 8000, 138-0013-8000: the usual ways a mobile number is written.
_MOBILE = re.compile(r"(1[3-9][0-9])([ -]?)([0-9]{4})\2([0-9]{4})")  # ASCII digits only, as returned


def _cn_patterns() -> tuple[re.Pattern, re.Pattern]:
    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    return (
        re.compile(meta.general_desc.national_number_pattern),
        re.compile(meta.mobile.national_number_pattern),
    )


_CN_GENERAL, _CN_MOBILE = _cn_patterns()


def clean_phone(raw: str) -> str:
    """联系电话 → `normalise_phone(raw)`: digits as dialled inside China, "" for blank, DomainError if invalid.

    A mobile number written as above that phonenumbers' own CN mobile pattern accepts is taken as it is:
    parsing it strips nothing (it starts with none of the carrier prefixes 11, 12, 179), it is valid, and its
    national format is its eleven digits. That skips the parse and format (tens of µs, most of a row's
    cleaning); everything else goes through `normalise_phone`, and the tests compare the two.
    """
    text = (raw or "").strip()
    m = _MOBILE.fullmatch(text)
    if m is not None:
        digits = m.group(1) + m.group(3) + m.group(4)
        if _CN_MOBILE.fullmatch(digits) and _CN_GENERAL.fullmatch(digits):
            return digits
    return normalise_phone(text, field="phone")


# --------------------------------------------------------------------------------------------- address

_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63~]")
_SEPARATORS = re.compile(r"[,，、;；]")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"([一二两三四五六七八九十]{1,3})(?=号楼|栋|幢|单元)")
_BUILDING = re.compile(r"(\d+|[A-Z])(?:号楼|#楼|#|栋|幢|座|号(?=\d+单元)|楼(?=\d+单元))")
_DASH_AFTER_WORD = re.compile(r"(号楼|单元)-")
_DASH3 = re.compile(r"(\d+)-(\d+)-(\d+)(?:室|号)?$")
_DASH2_AFTER_BUILDING = re.compile(r"号楼(\d+)-(\d+)(?:室|号)?$")
_DASH2 = re.compile(r"(\d+)-(\d+)(?:室|号)?$")
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(\d+)(?=号楼|单元)")
_FLOOR = re.compile(r"(号楼|单元)(\d+)[层楼](\2\d{2})(?=室?$)")
_ROOM = re.compile(r"(号楼|单元)(\d+)(?:号|房)?$")


def _cn_number(text: str) -> str:
    """一 → 1, 十二 → 12, 二十 → 20 (to 99); anything else unchanged."""
    if "十" not in text:
        return str(_CN_DIGITS[text]) if len(text) == 1 else text
    tens, _sep, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return text
    return str((_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0))


def address_key(raw: str) -> str:
    """A key for matching a written address to a dwelling's `address` or `full_address`.

    Written forms of 祥和社区3号楼2单元501室 all give that key. The rules, in order:

    1. NFKC (full-width digits and letters to half-width), letters upper-cased, spaces, invisible marks
       and commas removed; every kind of dash becomes `-`.
    2. Chinese numerals before 号楼/栋/幢/单元 become digits (三号楼二单元 → 3号楼2单元).
    3. A building: `3栋`, `3幢`, `3#楼`, `3#`, `A座`, and `3号`/`3楼` right before `2单元` → `3号楼`.
    4. Dashes: `3-2-501` → `3号楼2单元501室`; `3号楼2-501` → `3号楼2单元501室`; `3-501` → `3号楼501室`
       (at the end of the address); a dash after 号楼/单元 (`3号楼-2单元-501`) is dropped.
    5. Leading zeros of building and unit numbers go (`03号楼` → `3号楼`).
    6. A floor written before a room that starts with it goes (`2单元5层501` → `2单元501室`).
    7. The room: a bare number (or `501号`, `501房`) after 号楼/单元 gets `室`, and so does an address that
       is only a number (`501` → `501室`).

    Blank gives "". Anything else (community and road names, village house numbers `15号`) is kept as
    written, so the same rules applied to both sides make equal keys.
    """
    text = _visible(unicodedata.normalize("NFKC", str(raw or ""))).upper()
    text = _SEPARATORS.sub("", _DASHES.sub("-", text))
    if not text:
        return ""
    text = _CN_NUMBER.sub(lambda m: _cn_number(m.group(1)), text)
    text = _BUILDING.sub(r"\1号楼", text)
    if "-" in text:  # every dash is "-" by now, and the four rules below need one
        text = _DASH_AFTER_WORD.sub(r"\1", text)
        text = _DASH3.sub(r"\1号楼\2单元\3室", text)
        text = _DASH2_AFTER_BUILDING.sub(r"号楼\1单元\2室", text)
        text = _DASH2.sub(r"\1号楼\2室", text)
    text = _LEADING_ZEROS.sub(r"\1", text)
    text = _FLOOR.sub(r"\1\3", text)
    text = _ROOM.sub(r"\1\2室", text)
    if text.isdigit():
        text += "室"
    return text


# ----------------------------------------------------------------------------------------------- hukou

_REGION_PART = re.compile(r".+?(?:特别行政区|自治区|自治州|自治县|省|市|区|县|盟|旗)")
_REGION_SUFFIX = re.compile(r"(?:(?:壮族|回族|维吾尔)?自治区|特别行政区|回族区|省|市|区|县)$")


def _region_names() -> dict[str, str | None]:
    """Every name a known region may be written as → its code; None for a name two regions share."""
    names: dict[str, str | None] = {}

    def add(name: str, code: str) -> None:
        if len(name) < 2:
            return
        names[name] = code if names.get(name, code) == code else None

    full = {f"{prefix}0000": name for prefix, name in PROVINCES.items()} | KNOWN_REGIONS
    for code, name in full.items():
        parts = _REGION_PART.findall(name)
        if "".join(parts) != name:
            parts = [name]
        for start in range(len(parts)):  # 河南省郑州市二七区, 郑州市二七区, 二七区
            add("".join(parts[start:]), code)
        add(_REGION_SUFFIX.sub("", parts[-1]), code)  # 二七, 河南, 广西
    return names


_REGION_NAMES = _region_names()
_REGION_CODE = re.compile(r"^\d{6}$")


def clean_hukou(raw: str) -> str:
    """户籍地 → a GB/T 2260 code: a six-digit code as is, or a known region's name.

    Names are those of `codes.KNOWN_REGIONS` and `codes.PROVINCES`, whole (河南省郑州市二七区), without the
    levels above (郑州市二七区, 二七区) or without the last level's suffix (二七, 河南). Empty is "".
    """
    text = _compact(raw)
    if not text:
        return ""
    if _REGION_CODE.match(text):
        if region_is_valid(text):
            return text
        raise DomainError(
            "import.hukou", _("户籍地代码“%(value)s”不是有效的行政区划代码。") % {"value": text}, "hukou"
        )
    code = _REGION_NAMES.get(text)
    if code is None:
        raise DomainError(
            "import.hukou",
            _("户籍地“%(value)s”无法识别，请填写6位行政区划代码（如 410103）。") % {"value": text},
            "hukou",
        )
    return code
