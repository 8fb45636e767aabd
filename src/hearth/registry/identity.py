"""Identity document numbers: validation per document type, encryption, and blind indexes (ADR 0004).

A number is encrypted with the keyring's current key, bound to its person's public id. Three keyed indexes
sit beside it: the whole number with its document type (uniqueness and exact search), and the last six and
last four characters (tail search). Nothing else about the number is stored in the clear.
"""

import re
import unicodedata
import uuid
from dataclasses import dataclass

from django.utils.translation import gettext as _

from hearth.core import citizen_id, crypto
from hearth.core.errors import DomainError

from .codes import DocumentType

_OTHER_SHAPES = {
    # 港澳居民来往内地通行证: H or M and 8 or 10 digits.
    DocumentType.HK_MACAO_PERMIT: re.compile(r"^[HM]\d{8}(\d{2})?$"),
    # 台湾居民来往大陆通行证: 8 digits (older ones 10 with a letter suffix).
    DocumentType.TAIWAN_PERMIT: re.compile(r"^\d{8}([A-Z]\d?|\d{2})?$"),
    DocumentType.PASSPORT: re.compile(r"^[A-Z0-9]{5,17}$"),
}


@dataclass(frozen=True)
class SealedNumber:
    id_cipher: bytes
    id_key: str
    id_index: str
    id_tail6: str
    id_tail4: str

    def as_fields(self) -> dict:
        return self.__dict__.copy()


EMPTY = {"id_cipher": None, "id_key": "", "id_index": None, "id_tail6": "", "id_tail4": ""}


def normalise_document(id_type: str, raw: str, *, field: str = "id_number") -> str:
    """Validate a number for its document type; resident IDs go through the full citizen ID parser."""
    if id_type == DocumentType.RESIDENT_ID:
        return citizen_id.parse(raw, field=field).number
    number = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw or "")).upper()
    shape = _OTHER_SHAPES.get(id_type)
    if shape is None:
        raise DomainError("id.type", _("证件类型无效。"), "id_type")
    if not shape.match(number):
        raise DomainError("id.format_other", _("证件号码格式与所选证件类型不符。"), field)
    return number


def lenient_normalise(raw: str) -> str:
    """For a legacy number kept unverified: the same cleaning, no validation."""
    return citizen_id.normalise(raw)


def _aad(public_id: uuid.UUID) -> bytes:
    return b"registry.person.id:" + public_id.bytes


def index_of(id_type: str, number: str) -> str:
    return crypto.keyring().blind_index(f"id:{id_type}", number)


def tail_index(tail: str) -> str:
    purpose = "tail6" if len(tail) == 6 else "tail4"
    return crypto.keyring().blind_index(purpose, tail, length=8)


def seal(id_type: str, number: str, public_id: uuid.UUID) -> SealedNumber:
    ring = crypto.keyring()
    key_id, blob = ring.encrypt(number, _aad(public_id))
    return SealedNumber(
        id_cipher=blob,
        id_key=key_id,
        id_index=index_of(id_type, number),
        id_tail6=tail_index(number[-6:]) if len(number) >= 6 else "",
        id_tail4=tail_index(number[-4:]) if len(number) >= 4 else "",
    )


def reveal(person) -> str:
    """The plaintext number; only to show (masked) or to reveal (audited by the caller)."""
    if not person.id_cipher:
        return ""
    return crypto.keyring().decrypt(person.id_key, bytes(person.id_cipher), _aad(person.public_id))


def masked(person) -> str:
    """Lists show the last four characters only."""
    return citizen_id.mask(reveal(person))


def reencrypt(person) -> tuple[str, bytes]:
    """The same number under the current key (key rotation); the indexes do not change."""
    ring = crypto.keyring()
    return ring.encrypt(reveal(person), _aad(person.public_id))
