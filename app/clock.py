"""The statutory clock of the notice-of-complaint procedure (Defamation (Operators of Websites) Regulations 2013).

Policy (`design/moderation.md`, "Notice of complaint"; DEF-3 and DEF-5 in `research/moderation-legal.md`):

- "48 hours" (reg 1(3)) leaves out whole days that are a Saturday, a Sunday, Good Friday, Christmas Day or a bank
  holiday in England and Wales. Days are UK days: the count runs in Europe/London local time, from midnight to
  midnight, so a deadline keeps its wall-clock time across a change of the clocks (which always falls on a Sunday,
  a day that is skipped anyway).
- Bank holidays come from the data bundled with the `govuk-bank-holidays` package: never fetched at run time.
  Updating the package each year is an operations task; Good Friday and Christmas Day are also worked out here, so
  they are skipped even in a year the bundled data does not reach yet.
- The poster has until midnight at the end of the fifth calendar day after the day the notice is sent (reg 1(3)
  covers only 48-hour periods, so the five days are calendar days). We store that midnight as the first moment of
  the sixth day: a notice sent on Monday at 10:00 is due by the end of Saturday, stored as Sunday 00:00 UK time.
  A reply counts as in time when it arrives before that moment.
"""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from govuk_bank_holidays.bank_holidays import BankHolidays

UK = ZoneInfo("Europe/London")
STATUTORY_HOURS = 48
POSTER_REPLY_DAYS = 5


@lru_cache(maxsize=1)
def bank_holidays() -> frozenset[date]:
    """England and Wales bank holidays from the package's bundled data (no network access)."""
    holidays = BankHolidays(use_cached_holidays=True)
    return frozenset(event["date"] for event in holidays.get_holidays(division=BankHolidays.ENGLAND_AND_WALES))


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def is_excluded_day(day: date) -> bool:
    """True for a Saturday, Sunday, Good Friday, Christmas Day or an England and Wales bank holiday."""
    return (
        day.weekday() >= 5
        or (day.month == 12 and day.day == 25)
        or day == easter_sunday(day.year) - timedelta(days=2)
        or day in bank_holidays()
    )


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("The statutory clock needs a time with a time zone")


def _local(wall: datetime) -> datetime:
    """A wall-clock time in the UK as an aware datetime (the earlier of two, in the hour the clocks go back)."""
    return wall.replace(tzinfo=UK, fold=0)


def add_statutory_hours(start: datetime, hours: int = STATUTORY_HOURS) -> datetime:
    """`start` plus `hours`, counting only days that are not excluded (reg 1(3)); returned in UK time."""
    _require_aware(start)
    if hours < 0:
        raise ValueError("hours must not be negative")
    remaining = timedelta(hours=hours)
    wall = start.astimezone(UK).replace(tzinfo=None)
    while True:
        next_midnight = datetime.combine(wall.date() + timedelta(days=1), time())
        if is_excluded_day(wall.date()):
            wall = next_midnight
            continue
        if wall + remaining <= next_midnight:
            return _local(wall + remaining)
        remaining -= next_midnight - wall
        wall = next_midnight


def poster_reply_deadline(notice_sent_at: datetime) -> datetime:
    """Midnight at the end of the fifth calendar day after the day the notice was sent, in UK time."""
    _require_aware(notice_sent_at)
    sent_on = notice_sent_at.astimezone(UK).date()
    return _local(datetime.combine(sent_on + timedelta(days=POSTER_REPLY_DAYS + 1), time()))


def uk_time(moment: datetime) -> datetime:
    """An aware time shown as UK local time (what every page, email and API response uses)."""
    _require_aware(moment)
    return moment.astimezone(UK)


def format_uk(moment: datetime) -> str:
    """A time as people read it, in UK time: "10:00am on Wednesday 30 December 2026" (GOV.UK style).

    A deadline at 00:00 reads as the end of the day before: "midnight at the end of Saturday 12 June 2026".
    """
    local = uk_time(moment)
    if local.hour == 0 and local.minute == 0:
        day = local - timedelta(days=1)
        return f"midnight at the end of {day:%A} {day.day} {day:%B %Y}"
    if local.hour == 12 and local.minute == 0:
        clock = "midday on"
    else:
        hour = local.hour % 12 or 12
        clock = f"{hour}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'} on"
    return f"{clock} {local:%A} {local.day} {local:%B %Y}"
