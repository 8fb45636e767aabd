"""合成伙伴名单: a partner department's list generated from registry persons, with its truth set.

For the record-linkage tests and the benchmark (issue 6): pure Python, no database, deterministic per seed.
`partner_list` returns `size` rows, shuffled:

- about `match_share` are registry persons (each at most once), as a partner department writes them: most
  rows clean, some with the errors below (drawn independently, so several may meet on one row);
- about `distractor_share` are hard non-matches, each built from a registry person P: a twin, a namesake
  born the same day in P's building, P's spouse, P's son who bears P's exact name;
- the rest are people absent from the registry: fresh names, fresh valid ID numbers, local addresses.

`PartnerRow.case` says what was done, for diagnostics: the kinds applied, joined with "+" ("clean" for an
untouched match; a non-match's kind comes first, e.g. "absent+id_missing", "twin"). A hard non-match's
`source` is P's person_id: matching the row to P is the mistake it is there to provoke.

Every row writes its birth date in one of the formats partners use (`BIRTH_FORMATS`); that is not an error and
is not recorded in `case`. Rates are shares of the rows an error can apply to (a day/month swap needs a day
≤ 12, a homophone needs a given-name character in the table, …). They are our estimates for lists typed by
clerks from forms and phone calls, not measured figures; they keep the sum of match errors near 0.4, so about
two thirds of the matches are clean and a row rarely carries more than two errors.
"""

import functools
import itertools
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from hearth.core import citizen_id
from hearth.core.memory import collector_paused

AS_OF = date(2026, 3, 1)  # the list's date: ages (spouses, sons, moved women) are counted at it

# --- errors on true matches: the share of the rows they can apply to -----------------------------------
NAME_TYPO = 0.02  # 形近字: a character mistyped as a similar-looking one (王→玉)
HOMOPHONE = 0.03  # 同音字: the name taken down by ear (明→铭); only given-name characters in HOMOPHONES
NAME_SPACE = 0.03  # a half-width or full-width (U+3000) space inside or after the name
SEX_MISSING = 0.03  # 性别 left empty
BIRTH_MISSING = 0.02  # 出生日期 left empty
SWAPPED_DM = 0.03  # day and month swapped (day ≤ 12 and ≠ month only)
ID_MISSING = 0.03  # 身份证号 left empty
ID15 = 0.03  # the old 15-digit number copied from an old record (born 1900–1999 only)
ID_TYPO = 0.02  # one digit wrong (GB 11643's check digit catches every single-digit error)
ID_LOWER_X = 0.3  # a final X typed as x (numbers ending in X only)
ADDRESS_MISSING = 0.03
ADDRESS_STALE = 0.05  # a former address: another registry dwelling's
MOVED_TO_SPOUSE = 0.15  # women aged 22–55: the list still has her parents' household's address
MOVED_AGES = (22, 55)
PHONE_MISSING = 0.05  # of persons who have a phone
PHONE_STALE = 0.05  # an old number, now someone else's or no one's

# --- non-matches -----------------------------------------------------------------------------------------
# Kinds of hard non-match, with their weights among the distractor rows.
DISTRACTORS = {"twin": 1, "same_name_building": 1, "spouse": 1, "namesake_son": 1}
SPOUSE_YEARS = (-2, 5)  # the husband is this many years older than the wife (at most)
SON_YEARS = (22, 35)  # the father's age at the son's birth
ABSENT_PHONE = 0.85  # absent people who give a phone
FRESH_PHONE = 0.8  # distractors (other than spouses, who share P's) who give a phone of their own

# How partners write a birth date (shares of all rows): 1975-03-08, 1975/3/8, 19750308.
BIRTH_FORMATS = {"iso": 0.6, "slash": 0.25, "compact": 0.15}

MATCH_CASES = (
    "clean",
    "name_typo",
    "homophone",
    "name_space",
    "sex_missing",
    "birth_missing",
    "swapped_dm",
    "id_missing",
    "id15",
    "id_typo",
    "id_lower_x",
    "address_missing",
    "address_stale",
    "moved_to_spouse",
    "phone_missing",
    "phone_stale",
)
NON_MATCH_CASES = ("absent", *DISTRACTORS)

# 形近字: pairs (and a few triples) of characters that look alike but read differently; either way round.
# Space-separated groups.
LOOKALIKES = (
    "己已巳 王玉 玉主 未末 日曰 土士 大太 太犬 人入 天夫 失夫 田由 甲申 刀力 干于千 壬王 辛幸 晴睛 宇字 秀季 "
    "季李 军车 兵乒 贝见 免兔 鸟乌 折拆 休体 住往 佳住 延廷 戊戌戍 准淮 拔拨 亨享 祟崇 治冶 怡治 永水 冰水 "
    "丙两 丁了 万方 白自 问间 陈阵 赵越 明朋 梅悔 红江 华毕 晶品 雪雷 帅师 龙尤 阳阴 桂挂 春舂 贵贯 孟盂 汪注"
)
# 同音字: common given-name characters grouped by toneless pinyin (checked against pypinyin by the tests).
HOMOPHONES = (
    "明铭鸣 丽莉俐 伟玮炜 静婧靖 华桦 红宏鸿 军俊君 杰洁婕 玲铃凌 艳燕妍 婷亭 欣鑫馨 宇雨玉 浩昊皓 涛韬 阳洋扬 "
    "芳方 娟鹃 平萍 磊蕾 飞菲 辉慧晖 佳嘉 琪琦 涵晗 轩萱 怡仪宜 晨辰宸 英莹瑛 峰锋枫 斌彬 志智 瑞睿 敏珉 建健 "
    "勇永 梅玫"
)


def _table(groups: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Character → the others of its groups (a character may sit in several groups)."""
    table: dict[str, list[str]] = {}
    for group in groups:
        for c in group:
            table.setdefault(c, []).extend(o for o in group if o != c and o not in table[c])
    return {c: tuple(others) for c, others in table.items()}


_FORMAT_CUTS = tuple(zip(BIRTH_FORMATS, itertools.accumulate(BIRTH_FORMATS.values()), strict=True))
_LOOKALIKE = _table(LOOKALIKES.split())
_HOMOPHONE = _table(HOMOPHONES.split())

# Fresh names for absent people, spouses and twins (registry names come from elsewhere: namesakes happen).
_SURNAMES = (
    "王王王王王李李李李李张张张张刘刘刘陈陈陈杨杨赵赵黄周吴徐孙胡朱高林何郭郭马罗梁宋郑谢韩唐冯于董程曹袁"
    "邓许沈曾彭吕苏卢蒋蔡贾丁魏薛叶余潘杜夏田任姜范方石姚崔白史侯孟常武乔牛闫申"
)
_GIVEN_TEXT = {
    "M": "伟 磊 军 勇 杰 涛 明 超 强 刚 斌 鹏 浩 宇 博 凯 辉 龙 建国 建军 志强 国庆 卫东 海涛 晓东 俊杰 "
    "宏伟 文博 天宇 子轩 浩然 宇航 一鸣 梓豪 明轩 志远 家豪 振华 永强 新民 德明 国华",
    "F": "芳 娜 敏 静 丽 艳 娟 霞 燕 婷 倩 雪 颖 琳 欣 秀英 桂兰 玉兰 丽华 红梅 晓红 丽娟 春燕 海燕 雪梅 "
    "晓燕 婷婷 丹丹 佳怡 欣怡 梓涵 诗涵 雨桐 可馨 思雨 若曦 晓静 美玲 玉珍 淑芬 慧敏",
}
_GIVEN = {sex: names.split() for sex, names in _GIVEN_TEXT.items()}
_COMPOUND_SURNAMES = frozenset(
    ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "司徒", "夏侯")
)
_MOBILE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "158",
                    "159", "176", "177", "180", "182", "185", "186", "187", "188", "189", "199")  # fmt: skip
_LAST_NUMBER = re.compile(r"(\d+)(\D*)$")  # a dwelling's room (501室) or house number (12号)
_SEX_TEXT = {"M": "男", "F": "女"}
_YEAR_DAYS = 365


@dataclass(frozen=True, slots=True)
class RegistryPerson:
    """One registry person, as the benchmark reads it (ID decrypted)."""

    person_id: int
    name: str
    sex: str  # "M" / "F"
    birth_date: date
    id_number: str  # 18 characters, valid
    address: str  # the dwelling's full address, e.g. "幸福街道祥和社区3号楼2单元501室"
    phone: str  # "" or 11-digit mobile
    household_key: int | None = None  # same value = same household (dwelling)


@dataclass(slots=True)
class PartnerRow:
    """One row of the partner's list, every field as written, with the truth and what was done."""

    row: int  # 1-based
    name: str
    id_number: str  # 18 digits, the 15-digit old form, a typo, a lowercase x, or ""
    sex: str  # "男" / "女" / ""
    birth_date: str  # "1975-03-08", "1975/3/8", "19750308", swapped day/month, or ""
    address: str
    phone: str
    truth: int | None  # person_id of the registry person this row is; None: not in the registry
    case: str  # kinds applied, "+"-joined: "clean", "homophone+id15", "absent", "twin", …
    source: int | None = None  # a hard non-match's registry person P (whom a linker must not match it to)


def partner_list(
    persons: Sequence[RegistryPerson],
    *,
    size: int,
    seed: int = 0,
    match_share: float = 0.85,
    distractor_share: float = 0.05,
    as_of: date = AS_OF,
) -> list[PartnerRow]:
    """`size` rows: registry persons with realistic errors, hard non-matches and absent people (see above)."""
    if size < 0 or match_share < 0 or distractor_share < 0 or match_share + distractor_share > 1:
        raise ValueError("size and shares must be ≥ 0, and match_share + distractor_share ≤ 1")
    matches = round(size * match_share)
    distractors = round(size * distractor_share)
    if matches + distractors > size:  # both rounded up
        distractors = size - matches
    if matches > len(persons):
        raise ValueError(f"{matches} matching rows need at least as many persons, not {len(persons)}")
    if distractors and not persons:
        raise ValueError("distractors are built from registry persons; none were given")
    generator = _Generator(persons, seed=seed, as_of=as_of)
    # The rows hold no reference cycles, and the collector's passes over a million new objects would cost
    # about a third of the time.
    with collector_paused():
        return generator.rows(matches, distractors, size - matches - distractors)


def truth_pairs(rows: Iterable[PartnerRow]) -> set[tuple[int, int]]:
    """{(row, person_id)} for the rows that are registry persons."""
    return {(r.row, r.truth) for r in rows if r.truth is not None}


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name); the common two-character surnames are kept whole."""
    cut = 2 if name[:2] in _COMPOUND_SURNAMES else 1
    return name[:cut], name[cut:]


def written_date(born: date, kind: str, *, swapped: bool = False) -> str:
    """A birth date as a partner writes it; `swapped` exchanges day and month (the caller checks it can)."""
    if not swapped:
        if kind == "iso":
            return born.isoformat()
        y, m, d = born.year, born.month, born.day
    else:
        y, d, m = born.year, born.month, born.day
    if kind == "iso":
        return f"{y:04d}-{m:02d}-{d:02d}"
    if kind == "slash":
        return f"{y}/{m}/{d}"
    return f"{y:04d}{m:02d}{d:02d}"


class _Generator:
    def __init__(self, persons: Sequence[RegistryPerson], *, seed: int, as_of: date):
        self.persons = persons
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.as_of = as_of
        # Women of these birth dates may have moved to a spouse's household (an age test per row costs more).
        self.moved_born = (
            _years_before(as_of, MOVED_AGES[1] + 1) + timedelta(days=1),
            _years_before(as_of, MOVED_AGES[0]),
        )

    # ------------------------------------------------------------------------------------------ the list

    def rows(self, matches: int, distractors: int, absent: int) -> list[PartnerRow]:
        rng, rnd, persons = self.rng, self.rnd, self.persons
        kinds, cum_weights = list(DISTRACTORS), list(itertools.accumulate(DISTRACTORS.values()))
        match, distractor, absentee = self.match, self.distractor, self.absent
        # Persons are drawn without replacement by a partial Fisher–Yates shuffle, one step per match row, and
        # each row's kind in proportion to the rows of each kind still to come: exact counts, in random
        # order. (random() scaled costs a third of random.sample's and random.shuffle's randrange.)
        pool = list(range(len(persons)))
        drawn = 0
        out: list[PartnerRow] = []
        append = out.append
        left = matches + distractors + absent
        for number in range(1, left + 1):
            u = rnd() * left
            left -= 1
            if u < matches:
                matches -= 1
                j = drawn + int(rnd() * (len(pool) - drawn))
                pool[drawn], pool[j] = pool[j], pool[drawn]
                append(match(number, persons[pool[drawn]]))
                drawn += 1
            elif u < matches + distractors:
                distractors -= 1
                append(distractor(number, rng.choices(kinds, cum_weights=cum_weights)[0]))
            else:
                append(absentee(number))
        return out

    # ------------------------------------------------------------------------------------------ matches

    def match(self, number: int, p: RegistryPerson) -> PartnerRow:
        rnd = self.rnd
        case: list[str] = []

        name = p.name
        u = rnd()
        if u < NAME_TYPO + HOMOPHONE:
            if u < NAME_TYPO:
                typo = self._swap_char(name, _LOOKALIKE, start=0)
                kind = "name_typo"
            else:
                typo = self._swap_char(name, _HOMOPHONE, start=len(split_name(name)[0]))
                kind = "homophone"
            if typo != name:
                name = typo
                case.append(kind)
        if rnd() < NAME_SPACE:
            name = self._spaced(name)
            case.append("name_space")

        sex = _SEX_TEXT[p.sex]
        if rnd() < SEX_MISSING:
            sex = ""
            case.append("sex_missing")

        born = p.birth_date
        u = rnd()
        if u < BIRTH_MISSING:
            birth = ""
            case.append("birth_missing")
        else:
            swap = born.day <= 12 and born.day != born.month and rnd() < SWAPPED_DM
            birth = written_date(born, self._birth_format(), swapped=swap)
            if swap:
                case.append("swapped_dm")

        id_number = self._written_id(p.id_number, born, case)

        address = p.address
        earliest, latest = self.moved_born
        if p.sex == "F" and earliest <= born <= latest and rnd() < MOVED_TO_SPOUSE:
            address = self._parents_address(p)
            case.append("moved_to_spouse")
        else:
            u = rnd()
            if u < ADDRESS_MISSING:
                address = ""
                case.append("address_missing")
            elif u < ADDRESS_MISSING + ADDRESS_STALE:
                address = self._other_address(p)
                case.append("address_stale")

        phone = p.phone
        u = rnd()
        if phone and u < PHONE_MISSING + PHONE_STALE:
            if u < PHONE_MISSING:
                phone = ""
                case.append("phone_missing")
            else:
                phone = self._fresh_phone(avoid=phone)
                case.append("phone_stale")

        return PartnerRow(
            number, name, id_number, sex, birth, address, phone, p.person_id, "+".join(case) or "clean"
        )

    def _written_id(self, number: str, born: date, case: list[str]) -> str:
        u = self.rnd()
        if u < ID_MISSING:
            case.append("id_missing")
            return ""
        u -= ID_MISSING
        if u < ID15 and 1900 <= born.year <= 1999 and number[6:8] == "19":
            case.append("id15")
            return number[:6] + number[8:17]
        u -= ID15
        if u < ID_TYPO:
            at = self.rng.randrange(18)
            wrong = self.rng.choice([d for d in "0123456789" if d != number[at]])
            number = number[:at] + wrong + number[at + 1 :]
            case.append("id_typo")
        if number[-1] == "X" and self.rng.random() < ID_LOWER_X:
            case.append("id_lower_x")
            return number[:-1] + "x"
        return number

    def _swap_char(self, name: str, table: dict[str, tuple[str, ...]], *, start: int) -> str:
        at = [i for i in range(start, len(name)) if name[i] in table]
        if not at:
            return name
        i = self.rng.choice(at)
        return name[:i] + self.rng.choice(table[name[i]]) + name[i + 1 :]

    def _spaced(self, name: str) -> str:
        u = self.rng.random()
        if u < 0.25 or len(name) < 2:
            return name + " "
        cut = len(split_name(name)[0])
        return name[:cut] + ("\u3000" if u < 0.6 else " ") + name[cut:]

    def _parents_address(self, p: RegistryPerson) -> str:
        """Another household's address, one of her surname if there is one: her parents', who share it."""
        surname, persons, rnd = split_name(p.name)[0], self.persons, self.rnd
        kin = self.by_surname[p.name[:1]]  # p is in it
        for _ in range(10):
            q = persons[kin[int(rnd() * len(kin))]]
            home = q.household_key is not None and q.household_key == p.household_key
            if not home and q.address != p.address and q.name.startswith(surname):
                return q.address
        return self._other_address(p)

    def _other_address(self, p: RegistryPerson) -> str:
        for _ in range(20):
            address = self.anyone().address
            if address and address != p.address:
                return address
        return self._fresh_address(p.address)

    def _fresh_address(self, near: str) -> str:
        """A registry of one dwelling has no other address to lend: another room of the same building."""
        return self._other_room(near) or f"{near}附{self.rng.randint(1, 99)}号"

    # ------------------------------------------------------------------------------------------ non-matches

    def distractor(self, number: int, kind: str) -> PartnerRow:
        build = {
            "twin": self._twin,
            "same_name_building": self._same_name_building,
            "spouse": self._spouse,
            "namesake_son": self._namesake_son,
        }[kind]
        # A person the kind fits (a son needs a father old enough …); after many misses, a twin, which
        # almost anyone can have.
        for attempt in range(400):
            p = self.anyone()
            made = build(p) if attempt < 200 else self._twin(p)
            if made is not None:
                break
        else:
            raise ValueError(f"no registry person fits a {kind} distractor")
        if attempt >= 200:
            kind = "twin"
        name, id_number, sex, born, address, phone = made
        case = [kind]
        if id_number[-1] == "X" and self.rng.random() < ID_LOWER_X:
            id_number = id_number[:-1] + "x"
            case.append("id_lower_x")
        birth = written_date(born, self._birth_format())
        return PartnerRow(
            number, name, id_number, _SEX_TEXT[sex], birth, address, phone, None, "+".join(case), p.person_id
        )

    def _twin(self, p: RegistryPerson) -> tuple | None:
        """Same surname, birth date, address and phone; another given name; the next free sequence number."""
        if not p.id_number[:17].isdigit():  # an unverified number kept as written: no sequence to follow
            return None
        first14, sequence = p.id_number[:14], int(p.id_number[14:17])
        used = self.used_ids
        for s in (*range(sequence + 1, 1000), *range(sequence - 1, -1, -1)):
            first17 = f"{first14}{s:03d}"
            number = first17 + citizen_id.check_digit(first17)
            if number not in used:
                break
        else:
            return None
        sex = "M" if s % 2 else "F"
        name = self._fresh_name(sex, p, surname=split_name(p.name)[0])
        if name is None:
            return None
        used.add(number)
        return name, number, sex, p.birth_date, p.address, p.phone

    def _same_name_building(self, p: RegistryPerson) -> tuple | None:
        """P's name and birth date in another dwelling of P's building; another number, phone of one's own."""
        address = self._other_room(p.address)
        if address is None:
            return None
        number = self._fresh_id(p.id_number[:6], p.birth_date, p.sex)
        if number is None:
            return None
        return p.name, number, p.sex, p.birth_date, address, self._own_phone(p.phone)

    def _spouse(self, p: RegistryPerson) -> tuple | None:
        """Opposite sex, a few years apart, another name, P's address and phone, a number of one's own."""
        if p.birth_date > _years_before(self.as_of, 22):
            return None
        sex = "F" if p.sex == "M" else "M"
        older = self.rng.randint(SPOUSE_YEARS[0] * _YEAR_DAYS, SPOUSE_YEARS[1] * _YEAR_DAYS)
        born = p.birth_date + timedelta(days=older if sex == "F" else -older)
        if born > self.as_of - timedelta(days=20 * _YEAR_DAYS):
            return None
        name = self._fresh_name(sex, p)
        if name is None:
            return None
        # Spouses often come from elsewhere: another registry person's area code.
        area = self.anyone().id_number[:6]
        number = self._fresh_id(area, born, sex)
        if number is None:
            return None
        return name, number, sex, born, p.address, p.phone

    def _namesake_son(self, p: RegistryPerson) -> tuple | None:
        """The father's exact name, born 22–35 years after him, at his address, with a number of his own."""
        lowest, highest = SON_YEARS[0] * _YEAR_DAYS, SON_YEARS[1] * _YEAR_DAYS
        room = (self.as_of - p.birth_date).days
        if p.sex != "M" or room < lowest:
            return None
        born = p.birth_date + timedelta(days=self.rng.randint(lowest, min(highest, room)))
        number = self._fresh_id(p.id_number[:6], born, "M")
        if number is None:
            return None
        return p.name, number, "M", born, p.address, self._own_phone("")

    def absent(self, number: int) -> PartnerRow:
        """Someone not in the registry: a fresh name and number, an address of the registry's area."""
        rnd = self.rnd
        sex = "M" if rnd() < 0.5 else "F"
        case = ["absent"]
        home: RegistryPerson | None = None
        for _ in range(100):
            if self.persons:
                # Living at a registry dwelling, born within three years of a resident, with the resident's
                # area code (so the registry's ages and places), and never registered: the 漏登 lists find.
                home = self.anyone()
                born = min(home.birth_date + timedelta(days=int((rnd() - 0.5) * 6 * _YEAR_DAYS)), self.as_of)
                area, address = home.id_number[:6], home.address
            else:
                born = date(1940, 1, 1) + timedelta(days=int(rnd() * 80 * _YEAR_DAYS))
                area, address = "410103", ""
            full = self._fresh_id(area, born, sex)
            if full is not None:
                break
        else:
            raise ValueError("no free ID numbers are left for people absent from the registry")
        name = self._fresh_name(sex, home) or self._fresh_name(sex, None)
        assert name is not None  # with no household to avoid, the first name drawn is taken
        id_number = self._written_id(full, born, case)
        sex_text = _SEX_TEXT[sex]
        if rnd() < SEX_MISSING:
            sex_text = ""
            case.append("sex_missing")
        if rnd() < ADDRESS_MISSING:
            address = ""
            case.append("address_missing")
        phone = self._fresh_phone() if rnd() < ABSENT_PHONE else ""
        birth = written_date(born, self._birth_format())
        return PartnerRow(number, name, id_number, sex_text, birth, address, phone, None, "+".join(case))

    # ------------------------------------------------------------------------------------------ helpers

    def anyone(self) -> RegistryPerson:
        return self.pick(self.persons)

    def pick(self, items: Sequence):
        """rng.choice, with random() scaled: randrange costs three times as much on the hot path."""
        return items[int(self.rnd() * len(items))]

    # Indexes over the registry, built on first use (a list of clean matches needs none of them).

    @functools.cached_property
    def used_ids(self) -> set[str]:
        """Registry numbers and those generated so far: no fresh number may be one of them."""
        return {p.id_number for p in self.persons}

    @functools.cached_property
    def by_surname(self) -> dict[str, list[int]]:
        """First character of the name → the indexes of the persons whose name starts with it."""
        index: dict[str, list[int]] = {}
        for i, p in enumerate(self.persons):
            index.setdefault(p.name[:1], []).append(i)
        return index

    @functools.cached_property
    def household_names(self) -> set[tuple[object, str]]:
        """(household, name) of every registry person: a made-up person never takes a housemate's name,
        which would turn a non-match into a near-copy of a real registry person."""
        return {(_household(p), p.name) for p in self.persons}

    def _fresh_id(self, area: str, born: date, sex: str) -> str | None:
        """A valid number no one has; None when all 500 of this area, birth date and sex are taken."""
        used = self.used_ids
        head = f"{area}{born.year:04d}{born.month:02d}{born.day:02d}"
        odd = 1 if sex == "M" else 0
        start = int(self.rnd() * 500)
        for step in range(500):  # a random sequence; walking on from it matters only when they run short
            first17 = f"{head}{(start + step) % 500 * 2 + odd:03d}"
            number = first17 + citizen_id.check_digit(first17)
            if number not in used:
                used.add(number)
                return number
        return None

    def _fresh_name(self, sex: str, home: RegistryPerson | None, *, surname: str = "") -> str | None:
        """A name for someone joining `home`'s household, unlike every housemate's (None if none is found)."""
        pick, taken = self.pick, self.household_names if home is not None else ()
        key = _household(home) if home is not None else None
        given = _GIVEN[sex]
        avoid_given = split_name(home.name)[1] if home is not None else ""
        for _ in range(20):
            g = pick(given)
            name = (surname or pick(_SURNAMES)) + g
            if g != avoid_given and (key, name) not in taken:
                return name
        return None

    def _fresh_phone(self, avoid: str = "") -> str:
        while True:
            phone = f"{self.pick(_MOBILE_PREFIXES)}{int(self.rnd() * 10**8):08d}"
            if phone != avoid:
                return phone

    def _own_phone(self, avoid: str) -> str:
        return self._fresh_phone(avoid) if self.rng.random() < FRESH_PHONE else ""

    def _other_room(self, address: str) -> str | None:
        """The same address with another room (501室 → 302室) or house number (12号 → 15号)."""
        m = _LAST_NUMBER.search(address)
        if m is None:
            return None
        digits, rng = m.group(1), self.rng
        value = int(digits)
        if len(digits) >= 3:  # floor and door: 501 → 302, 1203 → 1201
            floor, door = divmod(value, 100)
            while (new := rng.randint(1, max(floor + 3, 6)) * 100 + rng.randint(1, max(door, 4))) == value:
                pass
        else:
            new = value + rng.choice((-3, -2, -1, 1, 2, 3)) if value > 3 else value + rng.randint(1, 6)
        return address[: m.start(1)] + str(new) + address[m.end(1) :]

    def _birth_format(self) -> str:
        u = self.rnd()
        for kind, cut in _FORMAT_CUTS:
            if u < cut:
                return kind
        return kind  # rounding: the shares add up to 1 but their running sum may not reach it


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _household(p: RegistryPerson) -> object:
    return p.household_key if p.household_key is not None else p.address
