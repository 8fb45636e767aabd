"""The matching model: Splink (Fellegi–Sunter) on DuckDB, over blind indexes and plain comparison keys.

Both sides arrive as rows of the same columns (`COLUMNS`); the ID number is present only as its keyed blind
indexes (whole number, last six, last four), so the plaintext never reaches DuckDB. Nothing here touches
Django models: `services` extracts, this module scores, `services` writes back.

The m probabilities (how often a true match agrees at each level) are set here from what partner lists are
known to get wrong; the u probabilities (how often two different people agree by chance) are estimated on
each run by random sampling, because they depend on the population (how common a birth date or a surname is
there). A trained model would learn m from the data, but a community's list of 300 rows is too small for
EM to settle, and fixed m gives the same answer for the same data on every run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import duckdb
import pandas as pd

COLUMNS = (
    "unique_id",
    "id_index",  # blind index of the whole, valid number (None when missing or invalid)
    "id_tail6",  # blind indexes of the last six / four characters (also for an invalid number)
    "id_tail4",
    "name",
    "pinyin",
    "initials",
    "surname",
    "sex",  # "M" / "F" / None
    "birth_date",  # "YYYY-MM-DD" or None
    "birth_year",
    "month_day",  # month and day sorted, so a swapped day and month block together
    "address_key",  # fields.address_key of the local part of the address (community onwards)
    "building_key",  # the address key without the room
    "phone",
)

# Comparison levels: (label shown to officers, m, u). The first level that holds wins.
# m: how often a true match agrees at this level (what partner lists get wrong, and how often).
# u: how often two different people agree at this level by chance, from the population's distributions
# (a birth date is shared by about 1 in 30,000 pairs of people; an address by about 1 in 100,000 pairs within
# a sub-district). Set, not estimated per run: a community's list of 300 rows against 5,000 residents holds
# too few random pairs to estimate the rare levels, and fixed values give the same answer on every run.
ID_LEVELS = [
    ("证件号码一致", 0.93, 1e-8),
    ("证件号码后六位一致", 0.025, 3e-6),
    ("证件号码后四位一致", 0.008, 1e-4),
    ("一方证件号码无效且后四位不同", 0.012, 0.01),
    # Both numbers valid and different: two people (a typo fails the check digit and lands a level up).
    # Decisive on purpose: twins and namesakes in one building share everything else.
    ("证件号码不同", 1e-8, 0.99),
]
NAME_LEVELS = [
    ("姓名一致", 0.90, 5e-4),
    ("姓名同音", 0.04, 2e-4),
    ("姓名差一字", 0.045, 5e-3),
    ("姓氏和拼音首字母一致", 0.01, 2e-3),
    ("姓名不同", 0.005, 0.99),
]
BIRTH_LEVELS = [
    ("出生日期一致", 0.92, 3.5e-5),
    ("出生日期月日颠倒", 0.025, 3.5e-5),
    ("出生年月一致", 0.03, 1e-3),
    ("出生年份相差一年内", 0.015, 0.04),
    ("出生日期不同", 0.01, 0.96),
]
SEX_LEVELS = [("性别一致", 0.99, 0.5), ("性别不同", 0.01, 0.5)]
# Address and phone are one comparison: the people of one household share both, so counting them as two
# independent agreements would make a spouse or a twin look like the same person.
CONTACT_LEVELS = [
    ("住址和电话都一致", 0.40, 2e-5),
    ("住址一致", 0.28, 2e-5),
    ("电话一致", 0.12, 2e-6),
    ("同一楼栋", 0.08, 1e-3),
    ("住址和电话都不同", 0.12, 0.999),
]

COMPARISONS = {
    "id": ("证件号码", ID_LEVELS),
    "name": ("姓名", NAME_LEVELS),
    "birth_date": ("出生日期", BIRTH_LEVELS),
    "sex": ("性别", SEX_LEVELS),
    "contact": ("住址和电话", CONTACT_LEVELS),
}

SWAPPED_DM = (
    "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
    "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
    "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
)


def _levels(spec, conditions, null_sql: str):
    import splink.comparison_level_library as cll

    out = [cll.CustomLevel(null_sql, "缺失").configure(is_null_level=True)]
    for (label, m, u), sql in zip(spec, conditions, strict=True):
        level = cll.CustomLevel(sql, label) if sql else cll.ElseLevel()
        out.append(level.configure(m_probability=m, u_probability=u, label_for_charts=label))
    return out


def _comparisons():
    import splink.comparison_library as cl

    def custom(name, label, levels):
        return cl.CustomComparison(
            comparison_levels=levels, output_column_name=name, comparison_description=label
        )

    id_sql = [
        "id_index_l = id_index_r",
        "id_tail6_l = id_tail6_r",
        "id_tail4_l = id_tail4_r",
        "id_index_l IS NULL OR id_index_r IS NULL",
        None,
    ]
    name_sql = [
        "name_l = name_r",
        "pinyin_l = pinyin_r",
        "length(name_l) >= 2 AND length(name_l) = length(name_r) AND levenshtein(name_l, name_r) <= 1",
        "surname_l = surname_r AND initials_l = initials_r",
        None,
    ]
    birth_sql = [
        "birth_date_l = birth_date_r",
        SWAPPED_DM,
        "substr(birth_date_l, 1, 7) = substr(birth_date_r, 1, 7)",
        "abs(birth_year_l - birth_year_r) <= 1",
        None,
    ]
    return [
        custom("id", "证件号码", _levels(ID_LEVELS, id_sql, "id_tail4_l IS NULL OR id_tail4_r IS NULL")),
        custom("name", "姓名", _levels(NAME_LEVELS, name_sql, "name_l IS NULL OR name_r IS NULL")),
        custom(
            "birth_date",
            "出生日期",
            _levels(BIRTH_LEVELS, birth_sql, "birth_date_l IS NULL OR birth_date_r IS NULL"),
        ),
        custom("sex", "性别", _levels(SEX_LEVELS, ["sex_l = sex_r", None], "sex_l IS NULL OR sex_r IS NULL")),
        custom(
            "contact",
            "住址和电话",
            _levels(
                CONTACT_LEVELS,
                [
                    "address_key_l = address_key_r AND phone_l = phone_r",
                    "address_key_l = address_key_r",
                    "phone_l = phone_r",
                    "building_key_l = building_key_r",
                    None,
                ],
                "(address_key_l IS NULL OR address_key_r IS NULL) AND (phone_l IS NULL OR phone_r IS NULL)",
            ),
        ),
    ]


# Candidate pairs: any one of these holds (each an equi-join on these columns).
BLOCKING = [
    ("id_index",),
    ("id_tail6", "birth_year"),
    ("birth_date", "surname"),
    ("birth_date", "initials"),
    ("name", "birth_year", "month_day"),
    ("phone", "surname", "birth_year"),
    ("building_key", "name"),
]


def blocking_rules():
    from splink import block_on

    return [block_on(*columns) for columns in BLOCKING]


@dataclass
class Result:
    pairs: pd.DataFrame  # unique_id_l, unique_id_r, match_weight, match_probability, gamma_*, bf_*
    candidate_pairs: dict[str, int]  # per blocking rule (a pair counted under the first rule that finds it)
    seconds: dict[str, float] = field(default_factory=dict)


def _frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=COLUMNS) if not isinstance(rows, pd.DataFrame) else rows
    return frame.astype({"unique_id": "int64", "birth_year": "Int64"})


def score(
    left,
    right=None,
    *,
    threshold_weight: float = -5.0,
    expected_match_share: float = 0.8,
    threads: int | None = None,
    memory_limit: str = "4GB",
    keep_per_left: int | None = 3,
) -> Result:
    """Score candidate pairs. `right=None` finds duplicates within `left` (dedupe); otherwise link the two.

    Pairs below `threshold_weight` are dropped; the caller decides what is sure and what needs review.
    Linking keeps the best `keep_per_left` pairs of each left row (the partner list's), chosen in DuckDB;
    `pairs` then has the columns left, right, match_weight, match_probability and one bf_* per comparison.
    """
    from splink import DuckDBAPI, Linker, SettingsCreator

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    frames = [_frame(left)] if right is None else [_frame(left), _frame(right)]
    del left, right  # the caller's lists may go as soon as the frames exist
    n_left = len(frames[0])
    n_right = len(frames[-1])
    link_type = "dedupe_only" if len(frames) == 1 else "link_only"
    names = ["registry"] if len(frames) == 1 else ["partner", "registry"]
    for name, frame in zip(names, frames, strict=True):
        con.register(f"{name}_frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_frame")
        con.unregister(f"{name}_frame")
    dedupe = len(frames) == 1
    pairs_possible = n_left * (n_left - 1) / 2 if dedupe else n_left * n_right
    expected = max(1.0, n_left * 0.01 if dedupe else expected_match_share * min(n_left, n_right))
    prior = min(0.5, expected / max(pairs_possible, 1.0))
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        probability_two_random_records_match=prior,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
    )
    db = DuckDBAPI(connection=con)
    linker = Linker(names, settings, db_api=db, set_up_basic_logging=False, input_table_aliases=names)
    seconds["load"] = time.perf_counter() - t
    t = time.perf_counter()
    # Every candidate pair is scored (no threshold) so the pairs each rule found are counted from the same
    # table (match_key: the first rule that found the pair) instead of running the joins a second time.
    predictions = linker.inference.predict()
    seconds["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    table = predictions.physical_name
    found = dict(con.execute(f"SELECT match_key, count(*) FROM {table} GROUP BY match_key").fetchall())
    counts = {"+".join(cols): int(found.get(str(i), found.get(i, 0))) for i, cols in enumerate(BLOCKING)}
    pairs = _pairs(con, table, dedupe=dedupe, keep=keep_per_left, threshold=threshold_weight)
    seconds["select"] = time.perf_counter() - t
    con.close()
    return Result(pairs=pairs, candidate_pairs=counts, seconds=seconds)


def _pairs(con, table: str, *, dedupe: bool, keep: int | None, threshold: float) -> pd.DataFrame:
    """The scored pairs as (left, right, weights): for a link, left is always the partner list's row."""
    bfs = ", ".join(f"bf_{key}" for key in COMPARISONS)
    if dedupe:
        sql = (
            f"SELECT unique_id_l AS left_id, unique_id_r AS right_id, match_weight, match_probability, {bfs} "
            f"FROM {table} WHERE match_weight >= {float(threshold)}"
        )
        return con.execute(sql).df()
    oriented = f"""
        SELECT CASE WHEN source_dataset_l = 'partner' THEN unique_id_l ELSE unique_id_r END AS left_id,
               CASE WHEN source_dataset_l = 'partner' THEN unique_id_r ELSE unique_id_l END AS right_id,
               match_weight, match_probability, {bfs}
        FROM {table} WHERE match_weight >= {float(threshold)}"""
    limit = (
        f"QUALIFY row_number() OVER (PARTITION BY left_id ORDER BY match_weight DESC) <= {int(keep)}"
        if keep
        else ""
    )
    return con.execute(f"SELECT * FROM ({oriented}) {limit} ORDER BY left_id, match_weight DESC").df()


_EXPLAINED: dict[tuple, list[dict]] = {}


def explain(row) -> list[dict]:
    """Per comparison: the level that held and its weight in bits (log2 of its Bayes factor), for the page.

    Splink keeps each comparison's Bayes factor (bf_*); the level is the one whose m/u gives it (1: missing).
    Levels are few, so the answer for each combination of factors is worked out once.
    """
    key = tuple(row.get(f"bf_{k}") for k in COMPARISONS)
    known = _EXPLAINED.get(key)
    if known is not None:
        return known
    out = []
    for bf, (label, levels) in zip(key, COMPARISONS.values(), strict=True):
        if bf is None or (isinstance(bf, float) and math.isnan(bf)) or bf <= 0:
            continue
        weight = math.log2(bf)
        level = "缺失"
        if abs(weight) > 1e-9:
            level = min(levels, key=lambda lv: abs(math.log2(lv[1] / lv[2]) - weight))[0]
        out.append({"comparison": label, "level": level, "weight": round(weight, 1)})
    if len(_EXPLAINED) < 100_000:
        _EXPLAINED[key] = out
    return out
