from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.core import citizen_id
from hearth.core.errors import DomainError

areas = st.sampled_from(["410103", "410102", "110101", "440305", "650102"])
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
seqs = st.integers(min_value=0, max_value=999)


def code_of(raw: str) -> str:
    with pytest.raises(DomainError) as exc:
        citizen_id.parse(raw)
    return exc.value.code


@given(areas, births, seqs)
def test_made_numbers_parse_back(area, born, seq):
    number = citizen_id.make(area, born, seq)
    parsed = citizen_id.parse(number)
    assert parsed.number == number
    assert parsed.birth_date == born
    assert parsed.sex == ("M" if seq % 2 else "F")


@given(areas, births, seqs, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_is_refused(area, born, seq, pos, delta):
    number = citizen_id.make(area, born, seq)
    digit = str((int(number[pos]) + delta) % 10)
    changed = number[:pos] + digit + number[pos + 1 :]
    # MOD 11-2 catches every single-digit error; a changed date digit may be caught as a date first.
    assert code_of(changed) in {"id.checksum", "id.date"}


@given(areas, births, seqs)
def test_full_width_and_lowercase_are_normalised(area, born, seq):
    number = citizen_id.make(area, born, seq)
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c.lower() for c in number)
    assert citizen_id.parse(f" {wide[:6]} {wide[6:]} ").number == number


def test_codes_say_why():
    good = citizen_id.make("410103", date(1975, 3, 9), 123)
    assert code_of(good[:-1]) == "id.length"
    assert code_of(good[:10] + "A" + good[11:]) == "id.format"
    first17 = "41010319750230123"  # 30 February
    assert code_of(first17 + citizen_id.check_digit(first17)) == "id.date"
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert code_of(bad_check) == "id.checksum"


def test_record_must_agree_with_the_number():
    parsed = citizen_id.parse(citizen_id.make("410103", date(1975, 3, 9), 123))  # odd: male
    codes = {e.code for e in citizen_id.validate_against(parsed, sex="F", birth_date=date(1975, 3, 10))}
    assert codes == {"id.sex_mismatch", "id.birthdate_mismatch"}
    assert citizen_id.validate_against(parsed, sex="M", birth_date=date(1975, 3, 9)) == []


def test_x_check_digit_and_mask():
    # 11010519491231002X is the standard's own example.
    assert citizen_id.parse("11010519491231002x").number == "11010519491231002X"
    assert citizen_id.mask("11010519491231002X") == "**************002X"


old_births = st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31))


@given(areas, old_births, seqs)
def test_fifteen_digit_numbers_upgrade_to_their_eighteen_digit_form(area, born, seq):
    number = citizen_id.make(area, born, seq)
    old = number[:6] + number[8:17]  # no century, no check digit
    parsed = citizen_id.parse(old)
    assert parsed.number == number and parsed.upgraded and parsed.birth_date == born


@given(areas, births, seqs)
def test_a_number_a_spreadsheet_stored_as_a_float_is_refused_never_rounded(area, born, seq):
    number = citizen_id.make(area, born, seq)
    if number.endswith("X"):
        number = number[:-1] + "0"
    as_float = float(number)
    for text in (f"{as_float:.5E}", f"{as_float:.14E}", repr(as_float), f"{as_float:.1f}"):
        assert code_of(text) == "id.spreadsheet_number", text


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_agrees_with_stdnum(first17):
    assert citizen_id.check_digit(first17) == citizen_id.stdnum_check_digit(first17)
