"""The generated partner list: shares, determinism, and every error and distractor doing what it says."""

import re
from collections import Counter
from datetime import date

import pytest
from pypinyin import lazy_pinyin

from hearth.core import citizen_id
from hearth.core.errors import DomainError
from hearth.imports.messy import sample_people
from hearth.linkage import synthetic
from hearth.linkage.synthetic import (
    AS_OF,
    DISTRACTORS,
    HOMOPHONES,
    LOOKALIKES,
    MATCH_CASES,
    PartnerRow,
    RegistryPerson,
    partner_list,
    split_name,
    truth_pairs,
    written_date,
)
from hearth.registry.names import pinyin_keys

SEX = {"M": "男", "F": "女"}
SPACES = str.maketrans("", "", " \u3000")


def registry(n: int, *, seed: int, keyed: bool = True) -> list[RegistryPerson]:
    """sample_people as registry persons; people at one address are one household."""
    homes: dict[str, int] = {}
    persons = []
    for i, p in enumerate(sample_people(n, seed=seed), 1):
        key = homes.setdefault(p.address, len(homes) + 1)
        persons.append(
            RegistryPerson(
                person_id=i,
                name=p.name,
                sex=p.sex,
                birth_date=p.birth_date,
                id_number=p.id_number,
                address="幸福街道祥和社区" + p.address,
                phone=p.phone,
                household_key=key if keyed else None,
            )
        )
    return persons


REGISTRY = registry(6000, seed=5)
ROWS = partner_list(REGISTRY, size=6000, seed=7)
BY_ID = {p.person_id: p for p in REGISTRY}
REGISTRY_IDS = {p.id_number for p in REGISTRY}
ADDRESSES = {p.address: p.household_key for p in REGISTRY}
HOUSEHOLD_NAMES = {(p.household_key, p.name) for p in REGISTRY}
MATCHES = [r for r in ROWS if r.truth is not None]


def kinds(row: PartnerRow) -> list[str]:
    return row.case.split("+")


def of_kind(kind: str) -> list[PartnerRow]:
    return [r for r in ROWS if kind in kinds(r)]


def read_date(text: str) -> tuple[int, int, int]:
    """(year, month, day) as written, in any of the three formats."""
    if "-" in text or "/" in text:
        y, m, d = re.split(r"[-/]", text)
        return int(y), int(m), int(d)
    assert re.fullmatch(r"\d{8}", text), text
    return int(text[:4]), int(text[4:6]), int(text[6:])


def age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# ------------------------------------------------------------------------------------------ the list


def test_deterministic_for_a_seed():
    assert partner_list(REGISTRY, size=6000, seed=7) == ROWS
    other = partner_list(REGISTRY, size=6000, seed=8)
    assert [r.truth for r in other] != [r.truth for r in ROWS]


def test_counts_follow_the_shares():
    assert [r.row for r in ROWS] == list(range(1, 6001))
    counted = Counter(
        "match" if r.truth is not None else "absent" if kinds(r)[0] == "absent" else "distractor"
        for r in ROWS
    )
    assert counted == {"match": 5100, "distractor": 300, "absent": 600}

    rows = partner_list(REGISTRY, size=1000, seed=1, match_share=0.5, distractor_share=0.2)
    assert len(rows) == 1000
    assert sum(r.truth is not None for r in rows) == 500
    assert sum(kinds(r)[0] in DISTRACTORS for r in rows) == 200
    assert sum(kinds(r)[0] == "absent" for r in rows) == 300
    # Shuffled: the kinds are spread over the list, not in blocks.
    assert sum(r.truth is not None for r in rows[:500]) in range(200, 300)


def test_no_registry_person_appears_twice_and_truth_pairs():
    truths = [r.truth for r in MATCHES]
    assert len(truths) == len(set(truths))
    assert set(truths) <= set(BY_ID)
    assert truth_pairs(ROWS) == {(r.row, r.truth) for r in MATCHES}
    assert all(r.source is None for r in MATCHES)


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        partner_list(REGISTRY, size=10, match_share=0.9, distractor_share=0.2)
    with pytest.raises(ValueError):
        partner_list(REGISTRY[:10], size=100)  # 85 matches from 10 persons
    with pytest.raises(ValueError):
        partner_list([], size=10, match_share=0, distractor_share=0.5)
    assert partner_list(REGISTRY, size=0) == []


def test_small_registry_without_household_keys():
    persons = registry(3, seed=2, keyed=False)
    rows = partner_list(persons, size=3, seed=4, match_share=1 / 3, distractor_share=1 / 3)
    assert sum(r.truth is not None for r in rows) == 1
    assert sum(r.source is not None for r in rows) == 1
    assert {r.address for r in rows} - {""} <= {p.address for p in persons} | {
        r.address for r in rows if r.source is not None
    }
    # No registry at all: everyone is absent, with valid fresh numbers.
    rows = partner_list([], size=20, seed=4, match_share=0, distractor_share=0)
    assert {kinds(r)[0] for r in rows} == {"absent"}
    assert all(citizen_id.parse(r.id_number) for r in rows if r.id_number and "id_typo" not in kinds(r))


# ------------------------------------------------------------------------------------------ errors on matches


def test_most_matches_are_clean_and_every_error_occurs():
    counted = Counter(k for r in MATCHES for k in kinds(r))
    assert 0.55 < counted["clean"] / len(MATCHES) < 0.75
    for kind in MATCH_CASES:
        assert counted[kind] >= 10, kind
    assert any(len(kinds(r)) >= 2 for r in MATCHES)  # errors combine
    # The errors every row can get come out near their stated rates.
    for kind, rate in {
        "name_space": synthetic.NAME_SPACE,
        "sex_missing": synthetic.SEX_MISSING,
        "birth_missing": synthetic.BIRTH_MISSING,
        "id_missing": synthetic.ID_MISSING,
        "id_typo": synthetic.ID_TYPO,
        "address_missing": synthetic.ADDRESS_MISSING,
    }.items():
        assert 0.6 * rate < counted[kind] / len(MATCHES) < 1.4 * rate, kind


def test_names():
    lookalike_pairs = {(a, b) for group in LOOKALIKES.split() for a in group for b in group if a != b}
    for r in MATCHES:
        p, bare = BY_ID[r.truth], r.name.translate(SPACES)
        if "name_space" in kinds(r):
            assert r.name != bare
            assert r.name.strip() == r.name.strip(" \u3000")  # the space is inside or after, never leading
        else:
            assert r.name == bare
        if "name_typo" in kinds(r) or "homophone" in kinds(r):
            assert len(bare) == len(p.name)
            changed = [i for i in range(len(bare)) if bare[i] != p.name[i]]
            assert len(changed) == 1
            i = changed[0]
            if "name_typo" in kinds(r):
                assert (p.name[i], bare[i]) in lookalike_pairs
            else:
                assert i >= len(split_name(p.name)[0])  # in the given name
                assert lazy_pinyin(bare[i]) == lazy_pinyin(p.name[i])
                assert pinyin_keys(bare) == pinyin_keys(p.name)
        else:
            assert bare == p.name


def test_sex_and_birth_dates():
    formats = Counter()
    for r in MATCHES:
        p = BY_ID[r.truth]
        assert r.sex == ("" if "sex_missing" in kinds(r) else SEX[p.sex])
        if "birth_missing" in kinds(r):
            assert r.birth_date == ""
            continue
        formats["-" if "-" in r.birth_date else "/" if "/" in r.birth_date else "compact"] += 1
        written = read_date(r.birth_date)
        b = p.birth_date
        if "swapped_dm" in kinds(r):
            assert b.day <= 12 and b.day != b.month
            assert written == (b.year, b.day, b.month)
        else:
            assert written == (b.year, b.month, b.day)
    assert all(formats[f] > 300 for f in ("-", "/", "compact"))
    assert written_date(date(1975, 3, 8), "iso") == "1975-03-08"
    assert written_date(date(1975, 3, 8), "slash") == "1975/3/8"
    assert written_date(date(1975, 3, 8), "compact", swapped=True) == "19750803"


def test_id_numbers():
    for r in MATCHES:
        p, k = BY_ID[r.truth], kinds(r)
        if "id_missing" in k:
            assert r.id_number == ""
        elif "id15" in k:
            assert len(r.id_number) == 15
            parsed = citizen_id.parse(r.id_number)
            assert parsed.upgraded and parsed.number == p.id_number
        elif "id_typo" in k:
            written = r.id_number.upper()
            assert len(written) == 18
            assert sum(a != b for a, b in zip(written, p.id_number, strict=True)) == 1
            with pytest.raises(DomainError):
                citizen_id.parse(r.id_number)
        elif "id_lower_x" in k:
            assert r.id_number.endswith("x") and r.id_number.upper() == p.id_number
        else:
            assert r.id_number == p.id_number


def test_addresses():
    parents = 0
    for r in MATCHES:
        p, k = BY_ID[r.truth], kinds(r)
        if "moved_to_spouse" in k:
            assert p.sex == "F" and 22 <= age(p.birth_date, AS_OF) <= 55
            assert r.address in ADDRESSES and ADDRESSES[r.address] != p.household_key
            surname = split_name(p.name)[0]
            parents += any(q.name.startswith(surname) for q in REGISTRY if q.address == r.address)
        elif "address_stale" in k:
            assert r.address in ADDRESSES and r.address != p.address
        elif "address_missing" in k:
            assert r.address == ""
        else:
            assert r.address == p.address
    # Her parents' household has her surname, when the registry has another household of that surname.
    assert parents / len(of_kind("moved_to_spouse")) > 0.9


def test_phones():
    for r in MATCHES:
        p, k = BY_ID[r.truth], kinds(r)
        if "phone_missing" in k:
            assert p.phone and r.phone == ""
        elif "phone_stale" in k:
            assert p.phone and re.fullmatch(r"1\d{10}", r.phone) and r.phone != p.phone
        else:
            assert r.phone == p.phone


def test_clean_rows_are_the_person_exactly():
    for r in of_kind("clean"):
        p = BY_ID[r.truth]
        assert (r.name, r.id_number, r.sex, r.address, r.phone) == (
            p.name,
            p.id_number,
            SEX[p.sex],
            p.address,
            p.phone,
        )
        assert read_date(r.birth_date) == (p.birth_date.year, p.birth_date.month, p.birth_date.day)


# ------------------------------------------------------------------------------------------ non-matches


def generated_numbers() -> set[str]:
    out = set()
    for r in ROWS:
        if r.truth is None and r.id_number and "id_typo" not in kinds(r):
            out.add(citizen_id.parse(r.id_number).number)
    return out


def test_hard_non_matches_have_valid_fresh_numbers():
    counted = Counter(kinds(r)[0] for r in ROWS if r.source is not None)
    assert set(counted) == set(DISTRACTORS)
    assert min(counted.values()) >= 40
    numbers = []
    for r in ROWS:
        if r.source is None:
            continue
        assert r.truth is None
        parsed = citizen_id.parse(r.id_number)  # every one has a valid number (a final x at most)
        assert parsed.number not in REGISTRY_IDS
        assert read_date(r.birth_date) == (
            parsed.birth_date.year,
            parsed.birth_date.month,
            parsed.birth_date.day,
        )
        assert r.sex == SEX[parsed.sex]
        numbers.append(parsed.number)
    assert len(numbers) == len(set(numbers))


def test_twins():
    taken = REGISTRY_IDS | generated_numbers()
    for r in of_kind("twin"):
        p, number = BY_ID[r.source], citizen_id.parse(r.id_number).number
        assert split_name(r.name)[0] == split_name(p.name)[0]
        assert split_name(r.name)[1] != split_name(p.name)[1]
        assert (p.household_key, r.name) not in HOUSEHOLD_NAMES
        assert read_date(r.birth_date) == (p.birth_date.year, p.birth_date.month, p.birth_date.day)
        assert (r.address, r.phone) == (p.address, p.phone)
        # The next sequence number that was free.
        assert number[:14] == p.id_number[:14]
        mine, theirs = int(p.id_number[14:17]), int(number[14:17])
        skipped = (
            range(mine + 1, theirs) if theirs > mine else [*range(mine + 1, 1000), *range(theirs + 1, mine)]
        )
        for s in skipped:
            first17 = f"{p.id_number[:14]}{s:03d}"
            assert first17 + citizen_id.check_digit(first17) in taken


def test_same_name_same_building():
    for r in of_kind("same_name_building"):
        p = BY_ID[r.source]
        assert r.name == p.name and r.sex == SEX[p.sex]
        assert read_date(r.birth_date) == (p.birth_date.year, p.birth_date.month, p.birth_date.day)
        # Another dwelling of the building: only the room number differs.
        assert r.address != p.address
        assert re.sub(r"\d+室$", "", r.address) == re.sub(r"\d+室$", "", p.address)
        assert r.phone != p.phone


def test_spouses():
    for r in of_kind("spouse"):
        p = BY_ID[r.source]
        assert r.sex == SEX["F" if p.sex == "M" else "M"]
        assert r.name != p.name and (p.household_key, r.name) not in HOUSEHOLD_NAMES
        assert (r.address, r.phone) == (p.address, p.phone)
        born = date(*read_date(r.birth_date))
        assert abs((born - p.birth_date).days) <= 5 * 365
        assert age(born, AS_OF) >= 20


def test_namesake_sons():
    for r in of_kind("namesake_son"):
        p = BY_ID[r.source]
        assert p.sex == "M" and r.sex == "男"
        assert r.name == p.name and r.address == p.address
        born = date(*read_date(r.birth_date))
        assert 22 * 365 <= (born - p.birth_date).days <= 35 * 365
        assert born <= AS_OF


def test_absent_people_are_not_in_the_registry():
    absent = of_kind("absent")
    assert len(absent) == 600
    for r in absent:
        assert r.truth is None and r.source is None
        if r.address:
            assert r.address in ADDRESSES
            assert (ADDRESSES[r.address], r.name) not in HOUSEHOLD_NAMES
        if r.id_number and "id_typo" not in kinds(r):
            assert citizen_id.parse(r.id_number).number not in REGISTRY_IDS
    assert sum("id15" in kinds(r) for r in absent) > 0
    assert len(generated_numbers()) == sum(
        1 for r in ROWS if r.truth is None and r.id_number and "id_typo" not in kinds(r)
    )


# ------------------------------------------------------------------------------------------ the tables


def test_lookalikes_are_about_sixty_pairs_that_read_differently():
    pairs = {frozenset((a, b)) for group in LOOKALIKES.split() for a in group for b in group if a != b}
    assert 60 <= len(pairs) <= 90
    for a, b in map(tuple, pairs):
        assert lazy_pinyin(a) != lazy_pinyin(b), (a, b)  # or a name typo would be a homophone as well
    for pair in ("己已", "王玉", "未末", "日曰", "土士", "大太", "人入"):
        assert frozenset(pair) in pairs


def test_homophones_share_their_pinyin():
    groups = HOMOPHONES.split()
    chars = "".join(groups)
    assert 70 <= len(chars) <= 110
    assert len(chars) == len(set(chars))  # each character in one group
    for group in groups:
        assert len(group) >= 2
        assert len({lazy_pinyin(c)[0] for c in group}) == 1, group
    for group in ("明铭鸣", "丽莉俐", "伟玮炜", "静婧靖", "华桦"):
        assert group in groups


def test_homophones_cover_most_registry_given_names():
    from hearth.registry.population import GIVEN_NAMES

    given = [g for names in GIVEN_NAMES.values() for g in names.split()]
    chars = set(HOMOPHONES.replace(" ", ""))
    assert sum(any(c in chars for c in g) for g in given) / len(given) > 0.5
