"""Pinyin search keys for a name, computed once when the name is saved (never per search)."""

import functools
import re

from pypinyin import Style, lazy_pinyin, pinyin

_ASCII_LETTERS = re.compile(r"^[a-z]+$")
_MAX_SURNAME_READINGS = 3
# Surnames read differently from the character's usual reading; only these get pypinyin's heteronyms,
# the surname reading first (王 also reads yù, but no one searches 王芳 as yufang).
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "盖": "ge",
    "乐": "yue",
    "缪": "miao",
    "种": "chong",
    "覃": "qin",
    "尉": "yu",
    "繁": "po",
    "员": "yun",
    "召": "shao",
    "万": "wan",
    "长": "chang",
    "秘": "bi",
    "句": "gou",
}


@functools.lru_cache(maxsize=262_144)  # names repeat a great deal; bulk loads hit the cache
def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin variants, initials variants), each space-separated, e.g. ('zengfan cengfan', 'zf cf').

    The given name takes pypinyin's reading in context; a surname with several readings (曾, 单, 解, 仇)
    gets one variant per reading, so 'zengfan' and 'cengfan' both find 曾凡.
    """
    name = name.strip()
    if not name:
        return "", ""
    if name.isascii():  # a foreign name as written in a passport
        words = re.findall(r"[a-z]+", name.lower())
        return "".join(words), "".join(w[0] for w in words)
    rest = [s for s in lazy_pinyin(name[1:], style=Style.NORMAL, errors="ignore") if s]
    first = lazy_pinyin(name[0], style=Style.NORMAL, errors="ignore")
    surnames = [SURNAME_READINGS.get(name[0], ""), *first]
    if name[0] in SURNAME_READINGS:
        surnames += pinyin(name[0], style=Style.NORMAL, heteronym=True)[0][:_MAX_SURNAME_READINGS]
    ordered = [s for s in dict.fromkeys(surnames) if s] or [""]
    full = [s + "".join(rest) for s in ordered]
    initials = [s[:1] + "".join(x[0] for x in rest) for s in ordered]
    return " ".join(dict.fromkeys(full)), " ".join(dict.fromkeys(initials))


def is_pinyin_query(q: str) -> bool:
    return bool(_ASCII_LETTERS.match(q))
