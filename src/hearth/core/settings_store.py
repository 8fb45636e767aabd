"""Read policy values kept as data (SystemSetting rows), with the shipped defaults."""

from typing import Any

DEFAULTS: dict[str, Any] = {
    # Exports of personal data above this many rows need approval by the grant above.
    "export.approval_threshold": 200,
    # Audit rows older than this many days may be removed by the retention job (after sealing).
    "audit.retention_days": 365 * 6,
}


def get_setting(key: str) -> Any:
    from .models import SystemSetting

    row = SystemSetting.objects.filter(key=key).first()
    return row.value if row is not None else DEFAULTS[key]
