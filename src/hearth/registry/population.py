"""人口生成: a seeded, realistic population written in bulk, for the demo (`hearth demo-data`) and the benchmark.

A setup job, not a service path: it runs as the system, writes one audit row per load ("population.load" with
the row count, never a row per person), and bypasses the per-row services on purpose, writing the rows those
services would write:

- persons into existing dwellings, by household: a head with a spouse, children and parents, or a person
  alone, or unrelated tenants sharing a rented flat; ages roughly follow China's 2020 census pyramid,
  surnames their frequency, given names the fashions of each birth cohort;
- valid resident ID numbers (GB 11643) with the community's district code and other Zhengzhou codes for
  locals, and the origin county's code for migrants, including area codes created after the holder was
  born (410108 惠济区, 4117xx 驻马店, 460200 三亚, 50xxxx 重庆 for people born before 1987/2000/1997), each
  encrypted and blind-indexed as `identity.seal` does, with pinyin keys as `names.pinyin_keys` gives;
- marriages (mutual spouse links), births (mother and father links), some divorced and widowed persons,
  some deaths (status deceased, with the death event), people whose hukou is elsewhere in the city;
- about 20% inflow migrants with their inflow records, most in rented flats whose landlords are registered
  at the community, with a tenancy per rented flat (some declare more tenants than are registered, some
  landlords have not signed the agreement: both are worklist rows); about 2% outflow with outflow records;
  a few numbers kept unverified (a wrong check digit, flagged `id_unverified`);
- life events: "registered" for everyone (source import) plus the birth, childbirth, marriage, divorce,
  widowhood, death and move-in events the above imply, with the {field: [before, after]} changes the
  registry's services record, so a correcting event can undo them as usual.

Each community draws from its own `random.Random` (the seed and the community's position), numbers its rows
from its own id blocks and takes ID-number sequences from its own lane, so a seed and the same dwellings
give the same people (names, sexes, birth dates, ID numbers, families) in one process or in several; only
the encryption nonces and the public ids differ between runs. A load beside earlier persons gives anyone
whose number is already registered another one.

Writing: explicit ids (so foreign keys are known without reading anything back), PostgreSQL binary COPY or
SQLite executemany, a batch (about BATCH persons with their rows) at a time. On PostgreSQL:
- a large load (at least REBUILD_MIN_PERSONS, and at least as many as the table holds) drops the loaded
  tables' secondary indexes, unique and foreign-key constraints (their definitions read from pg_indexes and
  pg_constraint), COPYs into the bare tables and recreates them all at the end, in the same transaction;
  primary keys and check constraints stay;
- with `workers`, processes forked after the transaction has started generate, encrypt and format whole
  communities as binary COPY data (community i in worker i mod n), and this process only streams them to
  the server in order; the workers never touch the database. Without workers it all happens here.

The migrants tables are written here too, named through the app registry: this module is a bulk writer
for setup data, and the registry app may not import the migrants app above it.
"""

import bisect
import functools
import hashlib
import hmac
import itertools
import math
import multiprocessing
import operator
import os
import queue
import random
import time as _clock
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from hearth.audit import services as audit
from hearth.core import crypto, ids, time
from hearth.core.errors import DomainError
from hearth.places.tree import SEGMENT

from . import identity, names
from .codes import DocumentType, Education, MaritalStatus, RelationToHead
from .models import EventKind, EventSource, Household, LifeEvent, Person, PersonStatus, ResidenceType

BATCH = 5000  # persons per write; a batch carries its households, events and migrant rows
REBUILD_MIN_PERSONS = 20_000  # below this, dropping and recreating indexes costs more than it saves
REGISTRY_FROM = date(2010, 1, 1)  # the population database's start: earlier facts are back-filled
MAX_HOUSEHOLD = 8

# ------------------------------------------------------------------------------------------ reference data

# China, 2020 census (七普), share of the population by five-year age group, in per mille.
AGE_PYRAMID = [54, 63, 60, 53, 53, 66, 88, 70, 66, 83, 85, 72, 52, 52, 34, 22, 14, 8, 2.4, 0.5, 0.1]
_AGE_WEIGHTS = [AGE_PYRAMID[min(a // 5, len(AGE_PYRAMID) - 1)] for a in range(101)]
_AGE_CUM = list(itertools.accumulate(_AGE_WEIGHTS))

# Surnames with a rough national frequency (per ten thousand; Henan has more 王, 李, 张, 刘, 郭).
SURNAMES = {
    "王": 760, "李": 740, "张": 720, "刘": 560, "陈": 430, "杨": 310, "赵": 250, "黄": 180, "周": 180,
    "吴": 170, "徐": 130, "孙": 140, "胡": 120, "朱": 120, "高": 120, "林": 90, "何": 100, "郭": 160,
    "马": 130, "罗": 80, "梁": 80, "宋": 90, "郑": 80, "谢": 60, "韩": 70, "唐": 60, "冯": 70, "于": 60,
    "董": 60, "萧": 20, "程": 60, "曹": 60, "袁": 50, "邓": 50, "许": 60, "傅": 30, "沈": 40, "曾": 40,
    "彭": 40, "吕": 50, "苏": 40, "卢": 40, "蒋": 40, "蔡": 40, "贾": 50, "丁": 40, "魏": 50, "薛": 30,
    "叶": 30, "阎": 20, "余": 30, "潘": 30, "杜": 40, "戴": 20, "夏": 30, "钟": 20, "汪": 20, "田": 50,
    "任": 40, "姜": 40, "范": 40, "方": 30, "石": 40, "姚": 30, "谭": 20, "廖": 20, "邹": 20, "熊": 20,
    "金": 20, "陆": 20, "郝": 30, "孔": 20, "白": 30, "崔": 30, "康": 20, "毛": 20, "邱": 20, "秦": 20,
    "江": 20, "史": 30, "顾": 10, "侯": 30, "邵": 20, "孟": 30, "龙": 10, "万": 20, "段": 20, "雷": 20,
    "钱": 10, "汤": 20, "尹": 20, "黎": 10, "易": 10, "常": 30, "武": 30, "乔": 20, "贺": 20, "赖": 10,
    "龚": 10, "文": 10, "单": 10, "解": 5, "仇": 5, "查": 5, "乐": 5, "牛": 20, "闫": 30, "申": 10,
}  # fmt: skip
_SURNAME_POOL = "".join(s * w for s, w in SURNAMES.items())

# Given names by birth cohort and sex: (born before 1960, 1960–79, 1980–99, 2000 on) × (male, female).
GIVEN_NAMES = {
    (0, "M"): "建国 建华 国强 国庆 志强 德明 福生 保国 振华 长青 红军 卫东 跃进 解放 国栋 文华 秀山 宝山 "
    "金山 玉林 德胜 永福 春生 树林 广才 桂林 中华 新民 海生 占奎 军 华 明 林 强 刚 斌 勇 忠 山",
    (0, "F"): "秀英 桂英 秀兰 玉兰 桂兰 凤英 玉珍 淑珍 淑英 秀珍 桂珍 玉英 素珍 凤兰 翠花 春花 秀云 玉梅 "
    "桂花 金凤 素芳 淑兰 秀芳 玉华 爱华 红英 兰英 俊英 秀荣 桂荣 英 兰 珍 芳 华 梅 凤 霞 琴 云",
    (1, "M"): "建军 卫国 红兵 志刚 建伟 国华 晓东 海涛 立新 建新 宏伟 志勇 永强 俊杰 建平 晓明 文斌 新华 "
    "东升 海军 卫华 红旗 向东 晓军 志明 建设 振宇 勇 军 伟 强 磊 刚 斌 涛 超 明 杰 鹏",
    (1, "F"): "丽华 红梅 晓红 丽娟 桂芳 秀梅 建华 春燕 海燕 雪梅 丽萍 晓燕 红霞 玉萍 美玲 晓丽 艳红 爱萍 "
    "淑芬 卫红 小红 利平 丽 红 敏 静 艳 娟 霞 燕",
    (2, "M"): "磊磊 伟伟 明明 家豪 浩然 文博 志远 俊杰 一鸣 天宇 子健 嘉伟 建波 海洋 金龙 晓飞 伟 磊 鹏 "
    "超 杰 涛 浩 斌 帅 鑫 俊 晨 辉 博 宇 凯 亮 阳 飞 龙 旭 振 宁 雷",
    (2, "F"): "晓静 丹丹 婷婷 雅琪 丽娜 晓雪 佳佳 思思 晓丽 亚楠 美琪 倩倩 珊珊 晨曦 一帆 静 丽 娜 敏 婷 "
    "倩 雪 洁 颖 晶 莹 慧 佳 琳 璐 丹 萌 瑶 欣 冰 悦 楠 梦 雨 蕾",
    (3, "M"): "子轩 浩宇 宇轩 梓豪 浩然 子墨 一诺 宇航 俊熙 梓睿 皓轩 子涵 沐宸 奕辰 铭泽 博文 宇泽 嘉懿 "
    "思远 瑞霖 明轩 天佑 子豪 锦程 泽宇 晨阳 逸飞 一鸣 诗朗 睿泽 景行 睿 宸 昊 然 航 宇 泽 轩 哲",
    (3, "F"): "欣怡 梓涵 子涵 诗涵 梓萱 一诺 可馨 若曦 雨桐 思涵 语桐 佳怡 依诺 梦瑶 雨涵 芷若 紫涵 欣妍 "
    "诗琪 子萱 安琪 梓晴 可欣 沐晨 语嫣 一涵 思雨 紫萱 婉清 书瑶 若汐 佳琪 悦 萱 琪 涵 彤 瑶 妍 馨",
}
_GIVEN = {key: value.split() for key, value in GIVEN_NAMES.items()}

# Zhengzhou's districts and county-level cities, as locals' ID numbers carry them. Several were created (or
# got their present code) after many of their residents were born: 410108 (1987), 410181 巩义 (1991),
# 410182–410185 (1994).
ZHENGZHOU = ["410102", "410103", "410104", "410105", "410106", "410108", "410122", "410181", "410182",
             "410183", "410184", "410185"]  # fmt: skip
# Elsewhere in Henan (old residents who moved to the city, and most migrants: 周口, 驻马店, 商丘, 信阳,
# 南阳 …). 4117xx 驻马店 dates from 2000; IDs issued before then carried the prefecture's 4128xx codes.
HENAN = ["410221", "410222", "410223", "410322", "410323", "410325", "410421", "410422", "410522",
         "410526", "410721", "410724", "410821", "410922", "410928", "411024", "411025", "411121",
         "411122", "411321", "411322", "411323", "411325", "411329", "411330", "411421", "411422",
         "411423", "411424", "411425", "411426", "411521", "411522", "411523", "411524", "411525",
         "411526", "411527", "411528", "411621", "411622", "411623", "411624", "411625", "411627",
         "411628", "411721", "411722", "411723", "411724", "411725", "411726", "411727", "411728",
         "411729"]  # fmt: skip
# Migrants' origins outside Henan, with a weight; 460200 三亚 (1987) and 50xxxx 重庆 (1997) are given to
# people born before their codes existed.
OTHER_PROVINCES = {
    "341221": 4, "341222": 3, "341225": 2, "341226": 2, "341321": 2,  # 安徽
    "371721": 3, "371722": 2, "371723": 1,  # 山东
    "130425": 2, "130102": 1, "140521": 1, "140202": 1,  # 河北, 山西
    "420106": 2, "420111": 1, "421127": 1, "430102": 1, "431121": 1,  # 湖北, 湖南
    "610113": 1, "610102": 1, "620102": 1,  # 陕西, 甘肃
    "510104": 1, "511321": 1, "510722": 1, "500101": 1, "500230": 1,  # 四川, 重庆
    "320311": 1, "321322": 1, "460200": 1, "460105": 1, "440304": 1, "230102": 1, "150102": 1,
}  # fmt: skip
_ORIGIN_POOL = HENAN * 2 + [code for code, w in OTHER_PROVINCES.items() for _ in range(w)]
# Where outflow migrants go.
DESTINATIONS = {
    "440304": "广东省深圳市福田区", "440106": "广东省广州市天河区", "310115": "上海市浦东新区",
    "110105": "北京市朝阳区", "330106": "浙江省杭州市西湖区", "320505": "江苏省苏州市虎丘区",
    "420106": "湖北省武汉市武昌区", "510104": "四川省成都市锦江区", "610113": "陕西省西安市雁塔区",
    "410305": "河南省洛阳市涧西区", "320102": "江苏省南京市玄武区", "370202": "山东省青岛市市南区",
}  # fmt: skip
_DESTINATION_CODES = list(DESTINATIONS)
EMPLOYERS = ["建筑工地", "物流快递", "餐饮服务", "商贸批发市场", "电子厂", "家政服务", "汽车维修", "超市零售",
             "服装加工", "装修公司", "外卖配送", "美容美发", "物业公司", "个体经营"]  # fmt: skip
OCCUPATIONS = ["工人", "职员", "教师", "医务人员", "个体经营", "自由职业", "公务员", "服务业人员", "司机",
               "技术人员", "销售人员", "无业"]  # fmt: skip
INFORMED = ["流入地社区居委会", "流入地街道计生办", "流入地流动人口服务站"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                   "155", "156", "157", "158", "159", "176", "177", "180", "181", "182", "183", "185", "186",
                   "187", "188", "189", "199"]  # fmt: skip

_REGISTERED, _BIRTH, _CHILDBIRTH = (
    EventKind.REGISTERED.value,
    EventKind.BIRTH.value,
    EventKind.CHILDBIRTH.value,
)
_MARRIAGE, _DIVORCE, _WIDOWHOOD = EventKind.MARRIAGE.value, EventKind.DIVORCE.value, EventKind.WIDOWHOOD.value
_DEATH, _MOVE_IN, _IMPORT = EventKind.DEATH.value, EventKind.MOVE_IN.value, EventSource.IMPORT.value
_SINGLE, _MARRIED = MaritalStatus.SINGLE.value, MaritalStatus.MARRIED.value
_WIDOWED, _DIVORCED = MaritalStatus.WIDOWED.value, MaritalStatus.DIVORCED.value
_ACTIVE, _DECEASED = PersonStatus.ACTIVE.value, PersonStatus.DECEASED.value
_LOCAL, _SEPARATED = ResidenceType.HUKOU_RESIDENT.value, ResidenceType.SEPARATED.value
_INFLOW, _OUTFLOW = ResidenceType.INFLOW.value, ResidenceType.OUTFLOW.value
_HEAD, _SPOUSE, _PARENT = RelationToHead.HEAD.value, RelationToHead.SPOUSE.value, RelationToHead.PARENT.value
_SON, _DAUGHTER = RelationToHead.SON.value, RelationToHead.DAUGHTER.value
_SIBLING, _NON_RELATIVE = RelationToHead.SIBLING.value, RelationToHead.NON_RELATIVE.value
_RESIDENT_ID = DocumentType.RESIDENT_ID.value


# ------------------------------------------------------------------------------------------ inputs, report


@dataclass(frozen=True)
class Home:
    """A dwelling the generator may fill: its id and its place's path (the persons' place_path)."""

    id: int
    place_path: str


@dataclass
class Community:
    """Where to put `persons` persons: a community (landlords register there) and its dwellings, in order."""

    place_id: int
    place_path: str
    home_area: str  # the district's GB/T 2260 code: locals' hukou place and most of their ID numbers
    persons: int
    homes: Sequence[Home] | Callable[[], Iterable[Home]]
    name: str = ""

    def iter_homes(self) -> list[Home]:
        return list(self.homes() if callable(self.homes) else self.homes)


@dataclass
class Options:
    seed: int = 2012
    as_of: date | None = None  # ages and dates are relative to it; default today
    inflow_share: float = 0.20
    outflow_share: float = 0.02
    unverified_share: float = 0.002
    # PostgreSQL: processes that generate, encrypt and format communities while this one writes (0: none).
    workers: int = 0
    # PostgreSQL: drop and rebuild indexes around the COPY; None = when adding REBUILD_MIN_PERSONS or more
    # and at least as many persons as the table holds
    rebuild_indexes: bool | None = None


@dataclass
class LoadReport:
    rows: dict[str, int] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)  # wall-clock seconds in the loading process
    worker_stages: dict[str, float] = field(default_factory=dict)  # CPU seconds in worker processes, summed
    seconds: float = 0.0
    rebuilt_indexes: bool = False
    workers: int = 0

    @property
    def persons(self) -> int:
        return self.rows.get("persons", 0)

    @property
    def rate(self) -> float:
        return self.persons / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        def show(stages: dict[str, float]) -> str:
            return ", ".join(f"{name} {s:.2f} s" for name, s in stages.items())

        rows = ", ".join(f"{n:,} {name}" for name, n in self.rows.items())
        out = [
            f"population: {self.persons:,} persons in {self.seconds:.2f} s = {self.rate:,.0f} persons/s",
            f"  rows: {rows}",
            f"  stages: {show(self.stages)}",
        ]
        if self.workers:
            out.append(
                f"  in {self.workers} worker processes (CPU seconds, summed): {show(self.worker_stages)}"
            )
        if self.rebuilt_indexes:
            out.append("  indexes, unique and foreign keys dropped before COPY, rebuilt after it")
        return out


# ------------------------------------------------------------------------------------------ helpers


@functools.cache
def _surname_keys(surname: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    full, initials = names.pinyin_keys(surname)
    return tuple(full.split(" ")), tuple(initials.split(" "))


@functools.cache
def _given_keys(given: str) -> tuple[str, str]:
    # names.pinyin_keys reads the given name on its own (no surname context), so "王" + given yields it.
    full, initials = names.pinyin_keys("王" + given)
    return full[len("wang") :], initials[1:]


@functools.lru_cache(maxsize=131_072)
def pinyin_of(surname: str, given: str) -> tuple[str, str]:
    """`names.pinyin_keys(surname + given)`, composed from cached halves (tested equal for every pool name)."""
    sf, si = _surname_keys(surname)
    gf, gi = _given_keys(given)
    if len(sf) == 1:
        return sf[0] + gf, si[0] + gi
    return " ".join(dict.fromkeys(s + gf for s in sf)), " ".join(dict.fromkeys(s + gi for s in si))


_CHECK = "10X98765432"


class _Uuids:
    """Public ids as 16 raw bytes, time-ordered like every public id (`core.ids`), made in blocks from
    os.urandom (not from the seeded rng: public ids must differ between runs even for one seed)."""

    def __init__(self, block: int = 8192):
        self.block = block
        self.buf = b""
        self.pos = 0
        self.end = 0

    def __call__(self) -> bytes:
        if self.pos >= self.end:
            self.buf, self.pos, self.end = ids.block(self.block), 0, 16 * self.block
        pos = self.pos
        self.pos = pos + 16
        return self.buf[pos : pos + 16]


def _uuid_text(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Sealer:
    """`identity.seal` for many numbers: one cipher object and pre-keyed HMACs instead of one per call.

    The same construction (AES-256-GCM with the person's public id as associated data; HMAC-SHA256 indexes
    with the same purposes and lengths), so `identity.reveal` and the blind-index lookups work on its output
    (the tests check both). Other algorithms (SM4, HMAC-SM3) go through `identity.seal` itself.
    """

    AAD = b"registry.person.id:"

    def __init__(self):
        ring = crypto.keyring()
        key = ring.keys[ring.current]
        self.key_id = ring.current
        self.fast = key.alg == crypto.AES and ring.index_alg == crypto.HMAC_SHA256
        if self.fast:
            self.aes = AESGCM(key.key)
            self.mac = hmac.new(ring.index_key, digestmod=hashlib.sha256)
        self.tails: dict[str, str] = {}

    def index(self, number: str, id_type: str = _RESIDENT_ID) -> str:
        if not self.fast:
            return identity.index_of(id_type, number)
        h = self.mac.copy()
        h.update(f"id:{id_type}\x1f{number}".encode())
        return h.digest()[:16].hex()

    def _tail(self, purpose: str, tail: str) -> str:
        key = purpose + tail
        found = self.tails.get(key)
        if found is None:
            h = self.mac.copy()
            h.update(f"{purpose}\x1f{tail}".encode())
            found = h.digest()[:8].hex()
            if len(self.tails) > 400_000:
                self.tails.clear()
            self.tails[key] = found
        return found

    def seal(self, number: str, uid: bytes) -> tuple[bytes, str, str, str, str]:
        """(id_cipher, id_key, id_index, id_tail6, id_tail4) for a resident ID number."""
        if not self.fast:
            s = identity.seal(_RESIDENT_ID, number, uuid.UUID(bytes=uid))
            return s.id_cipher, s.id_key, s.id_index, s.id_tail6, s.id_tail4
        nonce = os.urandom(12)
        blob = nonce + self.aes.encrypt(nonce, number.encode(), self.AAD + uid)
        return (
            blob,
            self.key_id,
            self.index(number),
            self._tail("tail6", number[-6:]),
            self._tail("tail4", number[-4:]),
        )


class _Numbers:
    """Valid ID numbers, unique across a load: a counter per (area, birth date, sex) for each community.

    The load gives each community a lane: its n-th person in a slot takes the slot's (lane + n · lanes)-th
    sequence, so communities never share a number, whichever process generates them. The m-th sequence of a
    slot is k = (m · 7919 + slot · 40503) mod 499 + 1, doubled (even: women) or doubled less one (odd: men),
    so the last four characters spread as real ones do.
    """

    WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643 MOD 11-2
    SLOTS = 499

    def __init__(self, areas: Iterable[str]):
        codes = list(dict.fromkeys(areas))
        self.areas = {a: (i, self._weigh(a, 0)) for i, a in enumerate(codes)}
        self.dates: dict[int, tuple[str, int]] = {}
        self.sequences = [(f"{k:03d}", self._weigh(f"{k:03d}", 14)) for k in range(1000)]
        self.start(0, 1)

    def start(self, lane: int, lanes: int) -> None:
        """A new community: its own lane, fresh counters."""
        self.lane, self.lanes = lane, lanes
        self.used: dict[int, int] = {}

    @classmethod
    def _weigh(cls, digits: str, offset: int) -> int:
        return sum(int(d) * w for d, w in zip(digits, cls.WEIGHTS[offset:], strict=False))

    def make(self, area: str, born: date, male: bool) -> str | None:
        index, area_sum = self.areas[area]
        day = born.toordinal()
        slot = (index * 1_000_000 + day) * 2 + male
        n = self.used.get(slot, 0)
        m = self.lane + n * self.lanes
        if m >= self.SLOTS:
            return None
        self.used[slot] = n + 1
        k = (m * 7919 + slot * 40503) % self.SLOTS + 1
        found = self.dates.get(day)
        if found is None:
            text = f"{born.year:04d}{born.month:02d}{born.day:02d}"
            found = self.dates[day] = (text, sum(map(operator.mul, map(int, text), self.WEIGHTS[6:14])))
        seq, seq_sum = self.sequences[2 * k - 1 if male else 2 * k]
        return f"{area}{found[0]}{seq}{_CHECK[(area_sum + found[1] + seq_sum) % 11]}"


class _P:
    """A person being generated (before sealing and row building)."""

    __slots__ = (
        "area",
        "born",
        "education",
        "ended_on",
        "ethnicity",
        "father",
        "given",
        "home",
        "household",
        "hukou",
        "id",
        "marital",
        "married_on",
        "mother",
        "number",
        "occupation",
        "path",
        "phone",
        "relation",
        "residence",
        "sex",
        "since",
        "spouse",
        "status",
        "status_since",
        "surname",
        "uid",
        "unverified",
    )  # fmt: skip

    def __init__(self):
        self.unverified = False
        self.status = _ACTIVE
        self.status_since = None
        self.household = None
        self.relation = ""
        self.spouse = self.mother = self.father = None
        self.marital = _SINGLE
        self.married_on = self.ended_on = self.since = None
        self.phone = self.education = self.occupation = ""
        self.ethnicity = "01"

    @property
    def male(self) -> bool:
        return self.sex == "M"


# Column orders of the rows built below; checked against the models when a load starts.
PERSON_COLUMNS = (
    "id", "created_at", "updated_at", "public_id", "name", "former_names", "pinyin", "initials", "sex",
    "birth_date", "ethnicity", "id_type", "id_cipher", "id_key", "id_index", "id_tail6", "id_tail4",
    "id_unverified", "hukou_code", "dwelling_id", "place_path", "residence_type", "marital_status", "education",
    "occupation", "phone", "notes", "status", "status_since", "household_id", "relation_to_head", "spouse_id",
    "mother_id", "father_id", "version", "merged_into_id",
)  # fmt: skip
HOUSEHOLD_COLUMNS = ("id", "created_at", "updated_at", "public_id", "dwelling_id", "head_id", "number")
EVENT_COLUMNS = (
    "id", "created_at", "updated_at", "public_id", "person_id", "kind", "occurred_on", "source", "reporter",
    "recorded_by_id", "data", "attachment", "corrects_id", "change_report_id",
)  # fmt: skip
INFLOW_COLUMNS = (
    "id", "created_at", "updated_at", "public_id", "person_id", "from_region", "since", "reason", "employer",
    "housing", "certificate_held", "certificate_checked_on", "agreement_signed", "agreement_date", "version",
)  # fmt: skip
OUTFLOW_COLUMNS = (
    "id", "created_at", "updated_at", "public_id", "person_id", "to_region", "to_address", "since", "contact",
    "informed", "version",
)  # fmt: skip
LANDLORD_COLUMNS = (
    "id", "created_at", "updated_at", "public_id", "place_id", "name", "phone", "person_id", "agreement_signed",
    "agreement_date", "notes",
)  # fmt: skip
TENANCY_COLUMNS = (
    "id", "created_at", "updated_at", "public_id", "dwelling_id", "landlord_id", "started_on", "ended_on",
    "declared_tenants",
)  # fmt: skip


@dataclass
class _Table:
    key: str
    model: type
    columns: tuple[str, ...]
    has_id: bool = True

    @property
    def name(self) -> str:
        return self.model._meta.db_table


def _tables() -> list[_Table]:
    landlord = apps.get_model("migrants", "Landlord")
    tenancy = apps.get_model("migrants", "Tenancy")
    return [
        _Table("persons", Person, PERSON_COLUMNS),
        _Table("households", Household, HOUSEHOLD_COLUMNS),
        _Table("events", LifeEvent, EVENT_COLUMNS),
        _Table("inflow", apps.get_model("migrants", "InflowRecord"), INFLOW_COLUMNS),
        _Table("outflow", apps.get_model("migrants", "OutflowRecord"), OUTFLOW_COLUMNS),
        _Table("landlords", landlord, LANDLORD_COLUMNS),
        _Table(
            "landlord_dwellings", landlord.dwellings.through, ("landlord_id", "dwelling_id"), has_id=False
        ),
        _Table("tenancies", tenancy, TENANCY_COLUMNS),
        _Table("tenancy_tenants", tenancy.tenants.through, ("tenancy_id", "person_id"), has_id=False),
    ]


def _check_columns(tables: list[_Table]) -> None:
    for t in tables:
        model_columns = {f.column for f in t.model._meta.concrete_fields} - (
            {"id"} if not t.has_id else set()
        )
        if set(t.columns) != model_columns:
            missing = sorted(model_columns - set(t.columns))
            extra = sorted(set(t.columns) - model_columns)
            raise RuntimeError(f"population: {t.name} changed (not generated: {missing}; gone: {extra})")


# ------------------------------------------------------------------------------------------ the generator


class _Codec:
    """Values as each database takes them: PostgreSQL binary COPY, or SQLite parameters."""

    def __init__(self, vendor: str, now):
        self.pg = vendor == "postgresql"
        if self.pg:
            self.stamp = (now, now)
            # Binary COPY: a uuid column receives its 16 bytes, a jsonb column a version byte and the text.
            self.json: Callable[[str], object] = lambda text: b"\x01" + text.encode()
            self.uid: Callable[[bytes], object] = lambda raw: raw
        else:
            stamp = Person._meta.get_field("created_at").get_db_prep_save(now, connection)
            self.stamp = (stamp, stamp)
            self.json = lambda text: text
            self.uid = bytes.hex
        self.empty = self.json("{}")
        self.empty_list = self.json("[]")
        self.divorce = self.json('{"changes": {"marital_status": ["20", "40"]}}')
        self.widowhood = self.json('{"changes": {"marital_status": ["20", "30"]}}')


class _Batch:
    """Up to BATCH persons (not yet sealed) and every other row generated with them."""

    KEYS = ("households", "events", "inflow", "outflow", "landlords", "landlord_dwellings", "tenancies",
            "tenancy_tenants")  # fmt: skip

    def __init__(self):
        self.persons: list[_P] = []
        self.rows: dict[str, list[tuple]] = {key: [] for key in self.KEYS}
        self.pinyin: list[tuple[str, str]] = []

    def add(self, key: str, row: tuple) -> None:
        self.rows[key].append(row)

    def __bool__(self) -> bool:
        return bool(self.persons) or any(self.rows.values())


class Generator:
    """Draws households, persons, events and migrant records community by community, in batches.

    Each community draws from its own `random.Random` seeded with the load's seed and the community's
    position, and takes ids from its own blocks and ID-number sequences from its own lane: the same seed and
    the same homes give the same people, in one process or several. Public ids and encryption nonces come
    from os.urandom.
    """

    def __init__(self, options: Options, codec: _Codec):
        self.o = options
        self.as_of = options.as_of or time.today()
        self.today = self.as_of.toordinal()
        self.codec = codec
        uuids = _Uuids()
        self.new_uid = uuids
        self.new_uid_db = uuids if codec.pg else (lambda: uuids().hex())
        self.numbers = _Numbers([*ZHENGZHOU, *HENAN, *OTHER_PROVINCES, *DESTINATIONS])
        self.batch = _Batch()
        # Outflow migrants are chosen among local adults of 18–50, about 36% of everyone.
        self.p_outflow = min(1.0, options.outflow_share / 0.36)
        self.rng = random.Random(options.seed)
        self.registry_from = REGISTRY_FROM.toordinal()

    # --- small draws

    def _next(self, key: str) -> int:
        return next(self.ids[key])

    def _pick(self, seq: Sequence):
        return seq[int(self.rng.random() * len(seq))]

    def _sex(self, p_male: float = 0.5) -> str:
        return "M" if self.rng.random() < p_male else "F"

    def _age(self, lo: int, hi: int) -> int:
        """An age in [lo, hi] drawn from the census pyramid."""
        lo_w = _AGE_CUM[lo - 1] if lo > 0 else 0.0
        u = lo_w + self.rng.random() * (_AGE_CUM[hi] - lo_w)
        return min(hi, bisect.bisect_left(_AGE_CUM, u, lo, hi + 1))

    def _born(self, age: int) -> date:
        """A birth date for someone who is `age` on as_of."""
        return date.fromordinal(self.today - int(age * 365.2425) - int(self.rng.random() * 365))

    def age(self, p: _P) -> int:
        return int((self.today - p.born.toordinal()) / 365.2425)

    def _poisson(self, lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, self.rng.random()
        while p > limit:
            k += 1
            p *= self.rng.random()
        return k

    def _size(self, remaining: int, homes_left: int) -> int:
        """Persons for the next home: 1 + Poisson(mean - 1), which at a mean of 2.6 is close to the census
        household sizes, with the mean following what is left so the community's total comes out exact."""
        if homes_left <= 1:
            return remaining
        lo = max(0, remaining - MAX_HOUSEHOLD * (homes_left - 1))
        mean = remaining / homes_left
        size = 1 + self._poisson(mean - 1) if mean >= 1 else int(self.rng.random() < mean)
        return max(lo, min(size, MAX_HOUSEHOLD, remaining))

    def _given(self, year: int, sex: str) -> str:
        pool = _GIVEN[0 if year < 1960 else 1 if year < 1980 else 2 if year < 2000 else 3, sex]
        return pool[int(self.rng.random() * len(pool))]

    def _surname(self) -> str:
        return _SURNAME_POOL[int(self.rng.random() * len(_SURNAME_POOL))]

    def _phone(self) -> str:
        u = self.rng.random
        return MOBILE_PREFIXES[int(u() * len(MOBILE_PREFIXES))] + f"{int(u() * 1e8):08d}"

    def _day(self, first: int, last: int) -> date:
        """A day in [first, last] (ordinals), never after as_of."""
        last = min(last, self.today)
        if last <= first:
            return date.fromordinal(min(first, self.today))
        return date.fromordinal(first + int(self.rng.random() * (last - first + 1)))

    # --- persons

    def _person(
        self, *, age: int, sex: str, surname: str, home: Home, residence: str, hukou: str, area: str
    ) -> _P:
        r = self.rng
        p = _P()
        p.id = self._next("persons")
        p.uid = self.new_uid()
        p.sex = sex
        p.born = born = self._born(age)
        p.surname = surname
        p.given = self._given(born.year, sex)
        p.home, p.path = home.id, home.place_path
        p.residence, p.hukou = residence, hukou
        p.area, p.number = self._number(area, born, sex == "M")
        if r.random() < self.o.unverified_share:
            self._spoil(p)
        e = r.random()
        if e >= 0.975:
            p.ethnicity = "03" if e < 0.99 else "11" if e < 0.995 else "02"  # 回族, 满族, 蒙古族
        if age >= 16:
            if r.random() < (0.9 if age < 75 else 0.5):
                p.phone = self._phone()
            p.education = _education(born.year, r.random())
            if age >= 60:
                p.occupation = "退休" if r.random() < 0.7 else ""
            elif age < 23 and r.random() < 0.6:
                p.occupation = "学生"
            else:
                p.occupation = self._pick(OCCUPATIONS)
        elif age >= 6:
            p.occupation = "学生"
        return p

    def _spoil(self, p: _P) -> None:
        """A legacy number kept as given: a wrong check digit puts it on the unverified-ID worklist."""
        wrong = "0123456789X".replace(p.number[17], "")
        p.number = p.number[:17] + self._pick(wrong)
        p.unverified = True

    def _number(self, area: str, born: date, male: bool) -> tuple[str, str]:
        """(area, number): the community's lane of that county for that day and sex is seldom full; then
        another Zhengzhou county, then any county."""
        number = self.numbers.make(area, born, male)
        if number is not None:
            return area, number
        for other in (*sorted(ZHENGZHOU, key=lambda _a: self.rng.random()), *self.numbers.areas):
            number = self.numbers.make(other, born, male)
            if number is not None:
                return other, number
        raise RuntimeError(f"population: no ID number left for {born} in this community's lane")

    def renumber(self, p: _P) -> None:
        """Another number for the same birth date and sex (the first was already in the database)."""
        p.area, p.number = self._number(p.area, p.born, p.male)
        if p.unverified:
            self._spoil(p)

    def _local_area(self, home_area: str, age: int) -> str:
        u = self.rng.random()
        if age < 30:
            return home_area if u < 0.85 else self._pick(ZHENGZHOU)
        if u < 0.55:
            return home_area
        return self._pick(ZHENGZHOU) if u < 0.8 else self._pick(HENAN)

    # --- family facts

    def _marry(self, a: _P, b: _P | None, *, first_child: date | None = None) -> None:
        """`a` (and `b`, the spouse in the registry) married: about a year before the first child, or at
        22–30; never before the legal ages (men 22, women 20)."""
        r = self.rng
        if first_child is not None:
            wed = first_child.toordinal() - 60 - int(r.random() * 700)
        else:
            younger = a if b is None or a.born > b.born else b
            wed = younger.born.toordinal() + int((22 + r.random() * 8) * 365.2425)
        for p in (a, b):
            if p is not None:
                wed = max(wed, p.born.toordinal() + int((22 if p.male else 20) * 365.2425) + 1)
        wed = min(wed, self.today - 1 - int(r.random() * 30))
        married_on = date.fromordinal(wed)
        a.marital, a.married_on = _MARRIED, married_on
        if b is not None:
            b.marital, b.married_on = _MARRIED, married_on
            a.spouse, b.spouse = b, a

    def _end_marriage(self, p: _P, status: str) -> None:
        """Divorced or widowed from a spouse who is not in the registry: the marriage, then its end."""
        if p.married_on is None:
            self._marry(p, None)
        p.marital = status
        p.ended_on = self._day(p.married_on.toordinal() + 365, self.today)

    def _die(self, p: _P, survivor: _P | None) -> None:
        """A death in the last eight years, at 50 or older; the spouse in the registry is widowed."""
        first = max(self.today - 8 * 365, p.born.toordinal() + 50 * 365, self.registry_from + 1)
        died = self._day(first, self.today - 1)
        p.status, p.status_since = _DECEASED, died
        if p.ended_on is not None and p.ended_on > died:  # divorced or widowed before dying
            p.ended_on = self._day(p.married_on.toordinal() + 1, died.toordinal())
        p.phone = p.occupation = ""
        if survivor is not None:
            survivor.marital, survivor.ended_on = _WIDOWED, died

    def _single_status(self, p: _P, age: int) -> None:
        """Marital status of someone without a spouse in the registry."""
        if age < 22:
            return
        u = self.rng.random()
        if age < 28:
            if u < 0.12:
                self._marry(p, None)  # married, the spouse lives elsewhere
        elif age < 45:
            if u < 0.14:
                self._end_marriage(p, _DIVORCED)
            elif u < 0.16:
                self._end_marriage(p, _WIDOWED)
            elif u < 0.4:
                self._marry(p, None)
        elif age < 65:
            if u < 0.25:
                self._end_marriage(p, _DIVORCED)
            elif u < 0.5:
                self._end_marriage(p, _WIDOWED)
            elif u < 0.75:
                self._marry(p, None)
        elif u < 0.7:
            self._end_marriage(p, _WIDOWED)
        elif u < 0.78:
            self._end_marriage(p, _DIVORCED)
        elif u < 0.95:
            self._marry(p, None)

    def _child_ages(self, n: int) -> tuple[int, list[int]]:
        """(the mother's age, her children's ages eldest first) for n children living at home."""
        r = self.rng
        eldest = self._age(0, 32)
        if eldest >= 22 and r.random() < 0.6:  # most grown children have left
            eldest = self._age(0, 21)
        eldest = max(eldest, 2 * (n - 1))
        ages = [eldest]
        for _i in range(n - 1):
            ages.append(max(0, ages[-1] - 1 - int(r.random() * 5)))
        return eldest + 23 + int(r.random() * 11), ages

    def _children(
        self, ages: list[int], father: _P | None, mother: _P | None, surname: str, make
    ) -> list[_P]:
        kids = []
        for age in ages:
            kid = make(age, self._sex(0.512), surname)
            kid.mother, kid.father = mother, father
            self._single_status(kid, age)
            kids.append(kid)
        return kids

    def _parents(self, head: _P, n: int, make) -> list[_P]:
        """The head's parent(s), 22–33 years older (at most 100): two are married, one is widowed."""
        if n == 0:
            return []
        r = self.rng
        mother_age = min(100, self.age(head) + 22 + int(r.random() * 12))
        father_age = min(100, mother_age + int(r.random() * 5))
        if n == 1:
            if r.random() < 0.6:
                head.mother = parent = make(mother_age, "F", self._surname())
            else:
                head.father = parent = make(father_age, "M", head.surname)
            self._end_marriage(parent, _WIDOWED)
            return [parent]
        head.father = father = make(father_age, "M", head.surname)
        head.mother = mother = make(mother_age, "F", self._surname())
        self._marry(father, mother)
        return [father, mother]

    # --- households

    def _shape(self, size: int) -> tuple[str, int, int]:
        """(kind, children, parents of the head) for a local household of `size`."""
        u = self.rng.random()
        if size == 1:
            return "alone", 0, 0
        if size == 2:
            if u < 0.55:
                return "couple", 0, 0
            if u < 0.8:
                return "lone_parent", 1, 0
            return ("with_parent", 0, 1) if u < 0.92 else ("widowed", 0, 0)
        if size == 3:
            if u < 0.82:
                return "couple", 1, 0
            return ("lone_parent", 2, 0) if u < 0.92 else ("couple", 0, 1)
        if size == 4:
            if u < 0.55:
                return "couple", 2, 0
            return ("couple", 1, 1) if u < 0.9 else ("couple", 0, 2)
        parents = 2 if u < 0.6 else 1
        return "couple", size - 2 - parents, parents

    def _local_household(self, c: Community, home: Home, size: int) -> list[_P]:
        r = self.rng
        hukou, residence = c.home_area, _LOCAL
        if r.random() < 0.08:  # 人户分离: living here, hukou elsewhere in the city
            hukou, residence = self._pick(ZHENGZHOU), _SEPARATED
            if hukou == c.home_area:
                hukou = "410105" if hukou != "410105" else "410102"

        def make(age: int, sex: str, surname: str) -> _P:
            return self._person(
                age=age, sex=sex, surname=surname, home=home, residence=residence, hukou=hukou,
                area=self._local_area(c.home_area, age),
            )  # fmt: skip

        kind, kids_n, parents_n = self._shape(size)
        if kind == "alone":
            age = self._age(18, 100)
            p = make(age, self._sex(0.45), self._surname())
            self._single_status(p, age)
            if age >= 75 and r.random() < 0.08:
                self._die(p, None)  # the last resident died; the record stays, deceased
            return [p]
        if kind == "couple":
            others_n = max(0, kids_n - 3)  # large households: brothers and sisters of the head
            kids_n -= others_n
            if kids_n:
                wife_age, ages = self._child_ages(kids_n)
            elif parents_n:
                wife_age, ages = self._age(28, 62), []
            else:
                wife_age, ages = (self._age(22, 34) if r.random() < 0.3 else self._age(52, 90)), []
            husband = make(min(100, max(22, wife_age - 2 + int(r.random() * 9))), "M", self._surname())
            wife = make(wife_age, "F", self._surname())
            kids = self._children(
                ages, husband, wife, husband.surname if r.random() < 0.95 else wife.surname, make
            )
            self._marry(husband, wife, first_child=min((k.born for k in kids), default=None))
            head, spouse = (husband, wife) if r.random() < 0.78 else (wife, husband)
            members = [head, spouse, *kids, *self._parents(head, parents_n, make)]
            for _i in range(others_n):
                sib = make(max(18, self.age(head) - 4 + int(r.random() * 9)), self._sex(), head.surname)
                self._single_status(sib, self.age(sib))
                sib.relation = _SIBLING
                members.append(sib)
            return members
        if kind == "lone_parent":
            mother_age, ages = self._child_ages(kids_n)
            female = r.random() < 0.8
            parent = make(
                mother_age + (0 if female else int(r.random() * 5)), "F" if female else "M", self._surname()
            )
            surname = parent.surname if not female or r.random() < 0.3 else self._surname()
            kids = self._children(ages, None if female else parent, parent if female else None, surname, make)
            self._end_marriage(parent, _DIVORCED if r.random() < 0.65 or self.age(parent) < 40 else _WIDOWED)
            return [parent, *kids]
        if kind == "with_parent":
            age = self._age(35, 62)
            head = make(age, self._sex(), self._surname())
            self._single_status(head, age)
            return [head, *self._parents(head, 1, make)]
        # widowed: the survivor, and the late spouse's record (status deceased)
        wife_age = self._age(62, 95)
        husband = make(min(100, wife_age + int(r.random() * 6)), "M", self._surname())
        wife = make(wife_age, "F", self._surname())
        self._marry(husband, wife)
        survivor, late = (wife, husband) if r.random() < 0.65 else (husband, wife)
        self._die(late, survivor)
        return [survivor, late]

    def _migrant_household(self, home: Home, size: int) -> tuple[list[_P], str]:
        """A migrant family or a group of unrelated tenants, all inflow, with their inflow records."""
        r = self.rng
        u = r.random()
        housing = "rented" if u < 0.78 else "own" if u < 0.9 else "dorm"
        origin = self._pick(_ORIGIN_POOL)
        since = self.today - 30 - int(r.random() * 10 * 365)

        def make(age: int, sex: str, surname: str, area: str = origin) -> _P:
            return self._person(
                age=age, sex=sex, surname=surname, home=home, residence=_INFLOW, hukou=area, area=area
            )

        group = size >= 2 and (
            housing == "dorm" or (housing == "rented" and r.random() < (0.4 if size == 2 else 0.25))
        )
        if size == 1 or group:
            members = []
            for i in range(size):
                age = self._age(18, 55)
                p = make(age, self._sex(0.6), self._surname(), origin if i == 0 else self._pick(_ORIGIN_POOL))
                self._single_status(p, age)
                if i:
                    p.relation = _NON_RELATIVE
                members.append(p)
        else:
            kids_n = min(size - 2, 3)
            wife_age, ages = self._child_ages(kids_n) if kids_n else (self._age(22, 50), [])
            husband = make(min(100, max(22, wife_age - 1 + int(r.random() * 7))), "M", self._surname())
            wife = make(wife_age, "F", self._surname())
            kids = self._children(ages, husband, wife, husband.surname, make)
            self._marry(husband, wife, first_child=min((k.born for k in kids), default=None))
            head, spouse = (husband, wife) if r.random() < 0.85 else (wife, husband)
            members = [head, spouse, *kids]
            for _i in range(size - 2 - kids_n):
                other = make(self._age(16, 60), self._sex(), head.surname)
                self._single_status(other, self.age(other))
                other.relation = RelationToHead.OTHER_RELATIVE.value
                members.append(other)
        for i, p in enumerate(members):
            p.since = max(since, p.born.toordinal())
            age = self.age(p)
            if i == 0 or p.relation == _NON_RELATIVE:
                w = r.random()
                reason = "work" if w < 0.68 else "business" if w < 0.88 else "other" if w > 0.95 else "study"
                if reason == "study" and age > 25:
                    reason = "work"
            else:
                reason = "family"  # 随迁家属
            employer = self._pick(EMPLOYERS) if reason in ("work", "business") else ""
            held = 18 <= age < 50 and r.random() < 0.8
            checked = self._day(p.since, self.today) if held and r.random() < 0.85 else None
            signed = housing == "rented" and age >= 18 and r.random() < 0.92
            signed_on = self._day(p.since, p.since + 60) if signed else None
            self.batch.add(
                "inflow",
                (self._next("inflow"), *self.codec.stamp, self.new_uid_db(), p.id, p.hukou, date.fromordinal(p.since),
                 reason, employer, housing, held, checked, signed, signed_on, 1),
            )  # fmt: skip
        return members, housing

    def _household(self, home: Home, members: list[_P]) -> None:
        """The household of the living members: the first is the head; relations follow the family links."""
        living = [p for p in members if p.status == _ACTIVE]
        if not living:
            return
        hid = self._next("households")
        head = living[0]
        for p in living:
            p.household = hid
            if p is head:
                p.relation = _HEAD
            elif not p.relation:
                p.relation = _relation(head, p)
        self.batch.add("households", (hid, *self.codec.stamp, self.new_uid_db(), home.id, head.id, ""))

    def _landlords(self, c: Community, rented: list[tuple[int, list[_P]]], heads: list[_P]) -> None:
        """Landlords registered at the community and one tenancy per rented flat (以房管人). Some tenancies
        declare more tenants than are registered and some landlords have not signed: the worklist."""
        r = self.rng
        landlords: list[list] = []  # [id, name, phone, person, signed, signed_on, dwelling ids]
        for dwelling_id, tenants in rented:
            if landlords and r.random() < 0.35:
                landlord = self._pick(landlords)
            else:
                person = self._pick(heads) if heads and r.random() < 0.4 else None
                if person is not None:
                    name, phone = person.surname + person.given, person.phone or self._phone()
                else:
                    name, phone = self._surname() + self._given(1965, self._sex(0.6)), self._phone()
                signed = r.random() < 0.85
                signed_on = self._day(self.today - 6 * 365, self.today) if signed else None
                landlord = [self._next("landlords"), name, phone, person, signed, signed_on, []]
                landlords.append(landlord)
            landlord[6].append(dwelling_id)
            declared = len(tenants) + ((1 + (r.random() < 0.3)) if r.random() < 0.12 else 0)
            tid = self._next("tenancies")
            started = date.fromordinal(min(p.since for p in tenants))
            self.batch.add(
                "tenancies",
                (
                    tid,
                    *self.codec.stamp,
                    self.new_uid_db(),
                    dwelling_id,
                    landlord[0],
                    started,
                    None,
                    declared,
                ),
            )
            for p in tenants:
                self.batch.add("tenancy_tenants", (tid, p.id))
        for lid, name, phone, person, signed, signed_on, dwellings in landlords:
            self.batch.add(
                "landlords",
                (lid, *self.codec.stamp, self.new_uid_db(), c.place_id, name, phone, person.id if person else None,
                 signed, signed_on, ""),
            )  # fmt: skip
            for d in dwellings:
                self.batch.add("landlord_dwellings", (lid, d))

    def _outflow(self, p: _P, home_area: str) -> None:
        p.residence, p.hukou = _OUTFLOW, home_area
        code = self._pick(_DESTINATION_CODES)
        since = self._day(max(p.born.toordinal() + 18 * 366, self.today - 8 * 365), self.today - 30)
        self.batch.add(
            "outflow",
            (self._next("outflow"), *self.codec.stamp, self.new_uid_db(), p.id, code, DESTINATIONS[code], since,
             p.phone, self._pick(INFORMED), 1),
        )  # fmt: skip

    # --- events

    def _event(self, p: _P, kind: str, on: date, data) -> tuple:
        return (self._event_id(), *self.codec.stamp, self.new_uid_db(), p.id, kind, on, _IMPORT, "", None, data,
                "", None, None)  # fmt: skip

    def _events(self, p: _P) -> None:
        """Registered (every person), then the facts the record implies, as the services would record them."""
        add, codec = self.batch.rows["events"].append, self.codec
        born = p.born.toordinal()
        if p.since is not None:
            registered = p.since
        else:
            # The database was filled over its first two years; those born since, at birth.
            registered = max(born, self.registry_from + int(self.rng.random() * 730))
            if p.status_since is not None:
                registered = min(registered, p.status_since.toordinal())
        add(self._event(p, _REGISTERED, date.fromordinal(registered), codec.empty))
        if p.since is not None:
            add(self._event(p, _MOVE_IN, date.fromordinal(p.since), codec.empty))
        if born >= self.registry_from and (p.mother is not None or p.father is not None):
            add(self._event(p, _BIRTH, p.born, codec.empty))
            if p.mother is not None:
                data = codec.json(f'{{"child": "{_uuid_text(p.uid)}"}}')
                add(self._event(p.mother, _CHILDBIRTH, p.born, data))
        if p.married_on is not None:
            spouse = p.spouse
            if spouse is not None:
                ref = _uuid_text(spouse.uid)
                data = f'{{"changes": {{"marital_status": ["10", "20"], "spouse": [null, "{ref}"]}}}}'
            else:
                data = '{"changes": {"marital_status": ["10", "20"]}}'
            add(self._event(p, _MARRIAGE, p.married_on, codec.json(data)))
            if p.marital == _DIVORCED:
                add(self._event(p, _DIVORCE, p.ended_on, codec.divorce))
            elif p.marital == _WIDOWED:
                if spouse is not None:
                    data = f'{{"changes": {{"marital_status": ["20", "30"], "spouse": ["{ref}", null]}}}}'
                    add(self._event(p, _WIDOWHOOD, p.ended_on, codec.json(data)))
                else:
                    add(self._event(p, _WIDOWHOOD, p.ended_on, codec.widowhood))
        if p.status == _DECEASED:
            on = p.status_since
            data = f'{{"changes": {{"status": ["active", "deceased"], "status_since": [null, "{on.isoformat()}"]}}}}'
            add(self._event(p, _DEATH, on, codec.json(data)))

    # --- the run

    def community(self, plan: "_Plan") -> Iterator[_Batch]:
        """One community's people and rows, in batches of about BATCH persons."""
        c = plan.community
        self.rng = r = random.Random(f"{self.o.seed}/{plan.index}")
        self.numbers.start(plan.index, plan.lanes)
        self.ids = {key: itertools.count(first) for key, first in plan.first_ids.items()}
        self._event_id = self.ids["events"].__next__
        self.batch = _Batch()
        homes = c.iter_homes()
        remaining = c.persons
        if remaining > MAX_HOUSEHOLD * len(homes):
            raise DomainError(
                "population.no_room",
                _("%(place)s 的房屋不足以容纳 %(n)d 人。")
                % {"place": c.name or c.place_path, "n": c.persons},
            )
        heads: list[_P] = []  # local heads of 30 or older: some are landlords
        rented: list[tuple[int, list[_P]]] = []
        for k, home in enumerate(homes):
            if remaining <= 0:
                break
            size = self._size(remaining, len(homes) - k)
            if size == 0:
                continue
            remaining -= size
            if r.random() < self.o.inflow_share:
                members, housing = self._migrant_household(home, size)
                if housing == "rented":
                    rented.append((home.id, members))
                self._household(home, members)
            else:
                members = self._local_household(c, home, size)
                self._household(home, members)
                for p in members:
                    if p.status != _ACTIVE:
                        continue
                    age = self.age(p)
                    if 18 <= age <= 50 and r.random() < self.p_outflow:
                        self._outflow(p, c.home_area)
                    elif p.relation == _HEAD and age >= 30:
                        heads.append(p)
            for p in members:
                self._events(p)
            self.batch.persons.extend(members)
            if len(self.batch.persons) >= BATCH:
                yield self._flush()
        self._landlords(c, rented, heads)
        plan.check(self.ids)
        if self.batch:
            yield self._flush()

    def _flush(self) -> _Batch:
        batch, self.batch = self.batch, _Batch()
        return batch


def _relation(head: _P, p: _P) -> str:
    if p is head.spouse:
        return _SPOUSE
    parents = (p.mother, p.father)
    if head in parents or (head.spouse is not None and head.spouse in parents):
        return _SON if p.male else _DAUGHTER
    if p is head.mother or p is head.father:
        return _PARENT
    return RelationToHead.OTHER_RELATIVE.value


_E = Education
_EDUCATION = (  # (born before, [(cumulative share, code)]) by cohort
    (1960, [(0.35, _E.PRIMARY), (0.7, _E.JUNIOR), (0.9, _E.HIGH_SCHOOL), (1.0, _E.OTHER)]),
    (
        1980,
        [(0.1, _E.PRIMARY), (0.5, _E.JUNIOR), (0.75, _E.HIGH_SCHOOL), (0.9, _E.COLLEGE), (1.0, _E.BACHELOR)],
    ),
    (
        9999,
        [
            (0.25, _E.JUNIOR),
            (0.45, _E.HIGH_SCHOOL),
            (0.65, _E.COLLEGE),
            (0.95, _E.BACHELOR),
            (1.0, _E.POSTGRADUATE),
        ],
    ),
)
_EDUCATION = tuple((year, [(share, code.value) for share, code in table]) for year, table in _EDUCATION)


def _education(year: int, u: float) -> str:
    for before, table in _EDUCATION:
        if year < before:
            for share, code in table:
                if u < share:
                    return code
            return table[-1][1]
    return ""


# ------------------------------------------------------------------------------------------ writing

_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # binary COPY header: signature, flags, extension
_COPY_TRAILER = b"\xff\xff"
EVENTS_PER_PERSON = 10  # id block per person: at most 9 events (registered, move-in, birth, 3 childbirths, …)


def _column_types(tables: list[_Table]) -> dict[str, list[int]]:
    """PostgreSQL type oids of the columns written; uuid and jsonb columns take their binary form as bytes."""
    raw = {2950: 17, 3802: 17}  # uuid: its 16 bytes; jsonb: a version byte and the text (codec.json)
    out = {}
    with connection.cursor() as cur:
        for t in tables:
            cur.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                " AND NOT attisdropped",
                [t.name],
            )
            oids = dict(cur.fetchall())
            out[t.key] = [raw.get(int(oids[c]), int(oids[c])) for c in t.columns]
    return out


def binary_copy_adapters():
    """psycopg's adapters with bytes dumped by its plain C dumper: the default one for bytea also takes the
    DB-API `Binary` wrapper and runs in Python, three times slower per row of COPY (uuids, jsonb, ciphers)."""
    import psycopg
    from psycopg.adapt import AdaptersMap
    from psycopg.types.string import BytesBinaryDumper

    adapters = AdaptersMap(psycopg.adapters)
    adapters.register_dumper(bytes, BytesBinaryDumper)
    return adapters


class _Rows:
    """A generated batch as rows per table: ID numbers sealed, pinyin keys, person rows; for PostgreSQL
    formatted as binary COPY data (psycopg's C row formatter), so any process can prepare it."""

    def __init__(self, codec: _Codec, types: dict[str, list[int]] | None):
        self.codec = codec
        self.sealer = Sealer()
        self.formatters = {}
        if types is not None:
            from psycopg._copy_base import format_row_binary
            from psycopg.adapt import Transformer
            from psycopg.pq import Format

            self.format_row = format_row_binary
            adapters = binary_copy_adapters()
            for key, oids in types.items():
                tx = Transformer(adapters)
                tx.set_dumper_types(oids, Format.BINARY)
                self.formatters[key] = tx

    def tables(self, batch: _Batch, stages: "_Stages") -> list[tuple[str, object, int]]:
        """[(table key, rows or COPY bytes, row count)] for the batch."""
        t = stages.now()
        seal = self.sealer.seal
        sealed = [seal(p.number, p.uid) for p in batch.persons]
        t = stages.add("encrypt", t)
        keys = [pinyin_of(p.surname, p.given) for p in batch.persons]
        t = stages.add("pinyin", t)
        codec = self.codec
        persons = [_person_row(p, s, k, codec) for p, s, k in zip(batch.persons, sealed, keys, strict=True)]
        out = []
        for key, rows in (("persons", persons), *batch.rows.items()):
            if not rows:
                continue
            if self.formatters:
                tx, fmt, buf = self.formatters[key], self.format_row, bytearray()
                for row in rows:
                    fmt(row, tx, buf)
                out.append((key, bytes(buf), len(rows)))
            else:
                out.append((key, rows, len(rows)))
        stages.add("rows", t)
        return out


class _Writer:
    """Writes prepared tables: binary COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, tables: list[_Table]):
        self.tables = {t.key: t for t in tables}
        connection.ensure_connection()
        self.raw = connection.connection
        self.pg = connection.vendor == "postgresql"
        self.counts = dict.fromkeys(self.tables, 0)

    def write(self, prepared: list[tuple[str, object, int]]) -> None:
        for key, data, n in prepared:
            t = self.tables[key]
            columns = ", ".join(t.columns)
            if self.pg:
                with (
                    self.raw.cursor() as cur,
                    cur.copy(f"COPY {t.name} ({columns}) FROM STDIN (FORMAT BINARY)") as cp,
                ):
                    cp.write(_COPY_SIGNATURE)
                    cp.write(data)
                    cp.write(_COPY_TRAILER)
            else:
                marks = ", ".join("?" for _ in t.columns)
                self.raw.executemany(f"INSERT INTO {t.name} ({columns}) VALUES ({marks})", data)
            self.counts[key] += n


class _Indexes:
    """PostgreSQL, for a large load: the loaded tables' secondary indexes, unique and foreign-key constraints
    are dropped before the COPY and recreated afterwards from their own definitions (pg_indexes,
    pg_constraint), in the same transaction; primary keys and check constraints stay.

    Measured at 20,000 persons: keeping even the indexes whose keys arrive in order (ids, paths) doubles the
    server's COPY time (about 1.4 µs per row and index, against 0.6 µs to build the index afterwards), and
    a foreign key checked row by row costs more than one check of the whole table when it is re-added.
    """

    def __init__(self, tables: list[_Table]):
        self.names = [t.name for t in tables]
        self.recreate: list[str] = []

    def drop(self) -> None:
        with connection.cursor() as cur:
            # Deferred foreign-key checks still queued in this transaction would block the ALTER TABLEs.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute(
                "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('p', 'u', 'f') ORDER BY conname",
                [self.names],
            )
            constraints = cur.fetchall()
            backing = {name for _table, name, kind, _sql in constraints if kind in ("p", "u")}
            foreign = [(t, n, d) for t, n, k, d in constraints if k == "f"]
            unique = [(t, n, d) for t, n, k, d in constraints if k == "u"]
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = ANY(%s) ORDER BY indexname",
                [self.names],
            )
            plain = [(name, sql) for name, sql in cur.fetchall() if name not in backing]
            # Foreign keys first (a unique index may serve one), then unique constraints, then plain indexes.
            for table, name, _sql in foreign + unique:
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _sql in plain:
                cur.execute(f'DROP INDEX "{name}"')
        self.recreate = [sql for _name, sql in plain]
        self.recreate += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in unique + foreign]

    def rebuild(self) -> None:
        with connection.cursor() as cur:
            cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for sql in self.recreate:
                cur.execute(sql)


# ------------------------------------------------------------------------------------------ the load


@dataclass
class _Plan:
    """One community's share of a load: its position (seed stream, ID-number lane) and its id blocks."""

    index: int
    lanes: int
    community: Community
    first_ids: dict[str, int]
    blocks: dict[str, int]

    def check(self, ids: dict[str, Iterator[int]]) -> None:
        for key, counter in ids.items():
            if next(counter) > self.first_ids[key] + self.blocks[key]:
                raise RuntimeError(f"population: community {self.index} overran its {key} id block")


def _plans(communities: list[Community], first_ids: dict[str, int]) -> list[_Plan]:
    if len(communities) > _Numbers.SLOTS:
        raise DomainError(
            "population.too_many_communities",
            _("一次最多生成 %(n)d 个社区的人口，请分批生成。") % {"n": _Numbers.SLOTS},
        )
    plans, next_ids = [], dict(first_ids)
    for i, c in enumerate(communities):
        # Ids come in blocks per community, so any process can number its rows: persons exactly, the rest
        # at most one per person (events EVENTS_PER_PERSON); unused ids are simply skipped.
        blocks = {key: c.persons * (EVENTS_PER_PERSON if key == "events" else 1) for key in first_ids}
        plans.append(_Plan(i, len(communities), c, dict(next_ids), blocks))
        for key in next_ids:
            next_ids[key] += blocks[key]
    return plans


def _first_ids(tables: list[_Table]) -> dict[str, int]:
    return {t.key: (t.model.objects.aggregate(m=Max("id"))["m"] or 0) + 1 for t in tables if t.has_id}


def _common_path(paths: list[str]) -> str:
    """The deepest place containing all of `paths` (whole 10-digit segments)."""
    prefix = os.path.commonprefix(paths) if paths else ""  # noqa: RUF071 - paths are digit strings
    return prefix[: len(prefix) - len(prefix) % SEGMENT]


class _Stages:
    """Seconds per stage: wall-clock in the loading process, CPU time in workers (they share the cores)."""

    def __init__(self, clock=_clock.perf_counter):
        self.now = clock
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, since: float) -> float:
        now = self.now()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - since
        return now

    def merge(self, other: dict[str, float]) -> None:
        for stage, seconds in other.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


def population_load(*, actor, communities: Iterable[Community], options: Options | None = None) -> LoadReport:
    """Generate and write a population into the given communities' dwellings, in one transaction.

    A system job (demo and benchmark setup): one audit row "population.load" with the person count.
    Returns the rows written per table and the seconds per stage: generate (households, persons, events,
    migrant rows), encrypt (ID numbers and their blind indexes), pinyin, rows (building and formatting the
    rows), copy (writing them), index build (recreating what a large load dropped). With worker processes
    the first four are the workers' own seconds, summed, and "wait" is the time spent waiting for them.
    """
    if not getattr(actor, "is_system", False):
        raise DomainError("permission.denied", _("批量生成人口只能由系统任务执行。"))
    load = _Load(actor, list(communities), options or Options())
    started = _clock.perf_counter()
    try:
        with transaction.atomic():
            load.run()
    finally:
        load.stop_workers()
    load.report.seconds = _clock.perf_counter() - started
    return load.report


class _Load:
    def __init__(self, actor, communities: list[Community], options: Options):
        self.actor = actor
        self.communities = communities
        self.o = options
        self.tables = _tables()
        _check_columns(self.tables)
        self.report = LoadReport()
        self.stages = _Stages()  # this process
        self.worker_stages = _Stages(_clock.process_time)  # CPU seconds, summed over the worker processes
        self.workers: list = []

    def run(self) -> None:
        o, stages, tables = self.o, self.stages, self.tables
        pg = connection.vendor == "postgresql"
        t = _clock.perf_counter()
        if pg:
            with connection.cursor() as cur:
                # One load at a time, and no other writer meanwhile.
                cur.execute(f"LOCK TABLE {', '.join(x.name for x in tables)} IN SHARE ROW EXCLUSIVE MODE")
        existing = Person.objects.for_system().count()
        wanted = sum(c.persons for c in self.communities)
        rebuild = o.rebuild_indexes
        if rebuild is None:
            rebuild = wanted >= REBUILD_MIN_PERSONS and wanted >= existing
        rebuild = bool(rebuild and pg)
        # Workers cannot ask the database whether a number is taken: beside earlier persons, load here.
        workers = o.workers if pg and not existing else 0
        plans = _plans(self.communities, _first_ids(tables))
        types = _column_types(tables) if pg else None
        indexes = _Indexes(tables)
        if rebuild:
            indexes.drop()
        writer = _Writer(tables)
        codec = _Codec(connection.vendor, time.now())
        t = stages.add("prepare", t)

        if workers:
            self._with_workers(plans, workers, codec, types, writer)
        else:
            gen = Generator(o, codec)
            rows = _Rows(codec, types)
            sealer = rows.sealer
            for plan in plans:
                batches = gen.community(plan)
                while True:
                    t = _clock.perf_counter()
                    batch = next(batches, None)
                    t = stages.add("generate", t)
                    if batch is None:
                        break
                    if existing:
                        _avoid_existing(gen, sealer, batch.persons)
                        stages.add("check", t)
                    prepared = rows.tables(batch, stages)
                    t = _clock.perf_counter()
                    writer.write(prepared)
                    stages.add("copy", t)
        t = _clock.perf_counter()
        if rebuild:
            indexes.rebuild()
            t = stages.add("index build", t)
        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), [x.model for x in tables if x.has_id]):
                cur.execute(sql)
        audit.record(
            actor=self.actor,
            action="population.load",
            object_type="registry.person",
            place_path=_common_path([c.place_path for c in self.communities]),
            row_count=writer.counts["persons"],
            data={"seed": o.seed, "rows": writer.counts, "rebuilt_indexes": rebuild},
        )
        stages.add("finish", t)
        self.report.rows = writer.counts
        self.report.rebuilt_indexes = rebuild
        self.report.workers = workers
        self.report.stages = stages.seconds
        self.report.worker_stages = self.worker_stages.seconds

    def _with_workers(self, plans: list[_Plan], n: int, codec: _Codec, types, writer: _Writer) -> None:
        """Worker processes generate, seal and format whole communities (community i in worker i mod n);
        this process writes them in order, so the server ingests while the workers compute."""
        ctx = multiprocessing.get_context(
            "fork"
        )  # the children inherit the inputs; they never use the database
        for w in range(n):
            q = ctx.Queue(maxsize=2)
            proc = ctx.Process(
                target=_work, args=(plans[w::n], self.o, codec, types, q), name=f"population-{w}", daemon=True
            )
            proc.start()
            self.workers.append((proc, q))
        for plan in plans:
            proc, q = self.workers[plan.index % n]
            while True:
                t = _clock.perf_counter()
                message = _receive(proc, q)
                t = self.stages.add("wait", t)
                if message[0] == "done":
                    self.worker_stages.merge(message[1])
                    break
                writer.write(message[1])
                self.stages.add("copy", t)

    def stop_workers(self) -> None:
        for proc, _q in self.workers:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        self.workers = []


def _work(plans: list[_Plan], options: Options, codec: _Codec, types, out) -> None:
    """A worker process: its communities' batches, sealed and formatted, then 'done' with its stage times."""
    try:
        stages = _Stages(_clock.process_time)
        gen = Generator(options, codec)
        rows = _Rows(codec, types)
        for plan in plans:
            batches = gen.community(plan)
            while True:
                t = stages.now()
                batch = next(batches, None)
                stages.add("generate", t)
                if batch is None:
                    break
                out.put(("batch", rows.tables(batch, stages)))
            out.put(("done", stages.seconds))
            stages = _Stages(_clock.process_time)
    except BaseException:
        out.put(("error", traceback.format_exc()))


def _receive(proc, q) -> tuple:
    while True:
        try:
            message = q.get(timeout=1)
        except queue.Empty:
            if not proc.is_alive():
                raise RuntimeError(
                    f"population: worker {proc.name} stopped (exit code {proc.exitcode})"
                ) from None
            continue
        if message[0] == "error":
            raise RuntimeError(f"population: worker {proc.name} failed:\n{message[1]}")
        return message


def _person_row(p: _P, sealed: tuple, keys: tuple[str, str], codec: _Codec) -> tuple:
    spouse = p.spouse.id if p.spouse is not None and p.marital == _MARRIED else None
    mother = p.mother.id if p.mother is not None else None
    father = p.father.id if p.father is not None else None
    return (
        p.id, *codec.stamp, codec.uid(p.uid), p.surname + p.given, codec.empty_list, keys[0], keys[1], p.sex, p.born,
        p.ethnicity, _RESIDENT_ID, *sealed, p.unverified, p.hukou, p.home, p.path, p.residence, p.marital,
        p.education, p.occupation, p.phone, "", p.status, p.status_since, p.household, p.relation, spouse, mother,
        father, 1, None,
    )  # fmt: skip


def _avoid_existing(gen: Generator, sealer: Sealer, persons: list[_P]) -> None:
    """Loading beside earlier persons: give anyone whose number is already registered another one."""
    pending = persons
    while pending:
        by_index = {sealer.index(p.number): p for p in pending}
        keys = list(by_index)
        taken: set[str] = set()
        for i in range(0, len(keys), 500):
            taken.update(
                Person.objects.for_system()
                .filter(id_index__in=keys[i : i + 500])
                .values_list("id_index", flat=True)
            )
        pending = [by_index[k] for k in sorted(taken)]
        for p in pending:
            gen.renumber(p)
