"""Chinese phone numbers (mobile or landline with area code), validated with phonenumbers' CN metadata."""

import phonenumbers
from django.utils.translation import gettext_lazy as _

from .errors import DomainError


def normalise_phone(raw: str, *, field: str = "phone") -> str:
    """Digits only, as dialled inside China (13812345678, 037167891234); '' for blank; DomainError if invalid."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise DomainError(
            "phone.invalid", _("联系电话格式不正确，请填写11位手机号或带区号的固定电话。"), field
        )
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else phone
