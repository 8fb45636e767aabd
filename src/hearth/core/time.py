"""The one clock. Code asks here for the time so tests have one place to freeze it."""

from datetime import date, datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def today() -> date:
    return timezone.localdate(now())


def age_on(birth_date: date, as_of: date) -> int:
    """Completed years on `as_of` (a person born on 29 Feb ages on 1 Mar in common years)."""
    years = as_of.year - birth_date.year
    if (as_of.month, as_of.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def localtime_str(moment: datetime) -> str:
    """A moment as people read it here: 2026-11-23 14:05 in the deployment's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
