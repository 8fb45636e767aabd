"""公民身份号码 (GB 11643-1999): normalisation and validation.

python-stdnum's `stdnum.cn.ric` supplies the MOD 11-2 check digit; we do not use its `validate()` as a
whole because it refuses area codes created after the birth year, which real residents hold.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from .errors import DomainError

_SHAPE = re.compile(r"^\d{17}[\dX]$")
_SEPARATORS = re.compile(r"[\s\-\u3000]")


@dataclass(frozen=True)
class CitizenId:
    number: str
    birth_date: date
    sex: str  # "M" or "F", from the sequence digit (odd = male)

    @property
    def last4(self) -> str:
        return self.number[-4:]


def normalise(raw: str) -> str:
    """Full-width digits and letters to ASCII (NFKC), separators removed, `x` upper-cased."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "")).upper()


def check_digit(first17: str) -> str:
    # stdnum expects the whole number and ignores its last character, so pad a placeholder check digit.
    return ric.calc_check_digit(first17 + "0")


def parse(raw: str, *, field: str = "id_number") -> CitizenId:
    """Normalise and validate; raise DomainError with a code that says why it is refused."""
    number = normalise(raw)
    if len(number) != 18:
        raise DomainError("id.length", _("身份证号码应为18位，当前为%(n)d位。") % {"n": len(number)}, field)
    if not _SHAPE.match(number):
        raise DomainError("id.format", _("身份证号码前17位应为数字，末位为数字或X。"), field)
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise DomainError("id.date", _("身份证号码中的出生日期不存在。"), field) from None
    if born.year < 1880:
        raise DomainError("id.date", _("身份证号码中的出生日期不存在。"), field)
    if check_digit(number[:17]) != number[17]:
        raise DomainError("id.checksum", _("身份证号码校验位错误，请核对号码。"), field)
    return CitizenId(number=number, birth_date=born, sex="M" if int(number[16]) % 2 else "F")


def validate_against(
    parsed: CitizenId, *, sex: str | None, birth_date: date | None, field: str = "id_number"
) -> list[DomainError]:
    """The ID's own birth date and sex digit must agree with the record's fields."""
    errors: list[DomainError] = []
    if birth_date is not None and parsed.birth_date != birth_date:
        errors.append(
            DomainError("id.birthdate_mismatch", _("身份证号码中的出生日期与填写的出生日期不一致。"), field)
        )
    if sex in {"M", "F"} and parsed.sex != sex:
        errors.append(DomainError("id.sex_mismatch", _("身份证号码中的性别与填写的性别不一致。"), field))
    return errors


def mask(number: str) -> str:
    """Lists show the last four characters only."""
    return "*" * 14 + number[-4:] if number else ""


def make(area: str, born: date, sequence: int) -> str:
    """Build a valid number (demo data and tests): area code, birth date, 3-digit sequence, check digit."""
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)
