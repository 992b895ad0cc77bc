"""The statutory clock: 48 hours that skip weekends, Good Friday, Christmas Day and bank holidays; five days to reply.

Every expected date below was worked out by hand from a calendar (2026 and 2027, England and Wales).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from app import clock
from app.clock import UK, add_statutory_hours, format_uk, is_excluded_day, poster_reply_deadline


def uk(text: str) -> datetime:
    """A wall-clock time in the UK, like "2026-06-05 15:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=UK)


# The five DEF-3 cases of the research (reference implementation, 2026 holidays).
@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Fri 15:00: 9 hours of Friday, the weekend skipped, 24 of Monday, 15 of Tuesday.
        ("2026-06-05 15:00", "2026-06-09 15:00"),
        # Fri 22 May 15:00: the weekend and Mon 25 May (spring bank holiday) skipped.
        ("2026-05-22 15:00", "2026-05-27 15:00"),
        # Sat 6 June: Saturday and Sunday skipped, the clock starts Mon 00:00; 48 hours later is Wed 00:00.
        ("2026-06-06 10:00", "2026-06-10 00:00"),
        # Good Friday 3 April: Good Friday, the weekend and Easter Monday (6 April) skipped; Tue and Wed count.
        ("2026-04-03 09:00", "2026-04-09 00:00"),
        # Thu 24 Dec 12:00: 12 hours of Thursday, 25-28 December skipped, 24 of Tuesday, 12 of Wednesday.
        ("2026-12-24 12:00", "2026-12-30 12:00"),
    ],
)
def test_reference_cases(received: str, due: str) -> None:
    assert add_statutory_hours(uk(received)) == uk(due)
    assert add_statutory_hours(uk(received), 48) == uk(due)


def test_christmas_2026_skips_each_day_it_should() -> None:
    received = uk("2026-12-24 10:00")  # Thursday
    skipped = {
        date(2026, 12, 25): "Christmas Day (Friday)",
        date(2026, 12, 26): "Saturday",
        date(2026, 12, 27): "Sunday",
        date(2026, 12, 28): "the substitute Boxing Day bank holiday (Monday)",
    }
    for day, why in skipped.items():
        assert is_excluded_day(day), f"{day} should be skipped: {why}"
    counted = [date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 30)]
    assert not any(is_excluded_day(day) for day in counted)
    # 14 hours of Thursday 24th, 24 of Tuesday 29th, 10 of Wednesday 30th.
    due = add_statutory_hours(received)
    assert due == uk("2026-12-30 10:00")
    assert due.strftime("%A") == "Wednesday"
    assert due.utcoffset() == timedelta(0)  # GMT in December
    assert due.isoformat() == "2026-12-30T10:00:00+00:00"


def test_the_clocks_going_back_keep_the_wall_clock_time() -> None:
    # BST ends at 02:00 on Sunday 25 October 2026; Friday is BST (UTC+1), Tuesday is GMT (UTC+0).
    received = uk("2026-10-23 15:00")
    assert received.utcoffset() == timedelta(hours=1)
    due = add_statutory_hours(received)
    assert due == uk("2026-10-27 15:00")  # 9 hours of Friday, Monday, 15 hours of Tuesday
    assert due.utcoffset() == timedelta(0)
    assert due.astimezone(UTC) == datetime(2026, 10, 27, 15, 0, tzinfo=UTC)


def test_the_same_instant_in_any_time_zone_gives_the_same_deadline() -> None:
    in_utc = datetime(2026, 10, 23, 14, 0, tzinfo=UTC)  # 15:00 BST
    assert add_statutory_hours(in_utc) == uk("2026-10-27 15:00")


def test_easter_2027() -> None:
    # Good Friday 26 March, Easter Monday 29 March; the clocks also go forward on Sunday 28 March.
    for day in (date(2027, 3, 26), date(2027, 3, 27), date(2027, 3, 28), date(2027, 3, 29)):
        assert is_excluded_day(day)
    received = uk("2027-03-25 10:00")  # Thursday, GMT
    due = add_statutory_hours(received)
    # 14 hours of Thursday, Friday to Monday skipped, 24 of Tuesday 30th, 10 of Wednesday 31st (BST).
    assert due == uk("2027-03-31 10:00")
    assert due.utcoffset() == timedelta(hours=1)


def test_good_friday_and_christmas_day_are_skipped_beyond_the_bundled_data() -> None:
    assert clock.easter_sunday(2040) == date(2040, 4, 1)
    assert is_excluded_day(date(2040, 3, 30))  # Good Friday 2040
    assert is_excluded_day(date(2040, 12, 25))  # a Tuesday
    assert not is_excluded_day(date(2040, 3, 29))


def test_bank_holidays_come_from_the_bundled_data_without_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the clock must never fetch bank holidays")

    monkeypatch.setattr(requests, "get", no_network)
    clock.bank_holidays.cache_clear()
    holidays = clock.bank_holidays()
    assert date(2026, 5, 25) in holidays  # spring bank holiday
    assert date(2026, 12, 28) in holidays  # substitute Boxing Day
    assert date(2026, 8, 31) in holidays  # summer bank holiday (England and Wales, not Scotland)


def test_zero_hours_on_a_working_day_is_the_same_time() -> None:
    assert add_statutory_hours(uk("2026-06-03 09:30"), 0) == uk("2026-06-03 09:30")


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        add_statutory_hours(datetime(2026, 6, 1, 10, 0))
    with pytest.raises(ValueError):
        poster_reply_deadline(datetime(2026, 6, 1, 10, 0))


def test_poster_reply_deadline_is_the_end_of_the_fifth_day_after() -> None:
    # Sent Monday 1 June 2026 10:00: Tue, Wed, Thu, Fri, Sat are the five days; due by the end of Saturday.
    due = poster_reply_deadline(uk("2026-06-01 10:00"))
    assert due == uk("2026-06-07 00:00")
    assert (due - timedelta(seconds=1)).strftime("%A %H:%M:%S") == "Saturday 23:59:59"
    assert format_uk(due) == "midnight at the end of Saturday 6 June 2026"


def test_poster_reply_deadline_counts_calendar_days_in_uk_time() -> None:
    # 23:30 UTC on 31 May is 00:30 BST on Monday 1 June: the notice is sent on Monday in the UK.
    assert poster_reply_deadline(datetime(2026, 5, 31, 23, 30, tzinfo=UTC)) == uk("2026-06-07 00:00")
    # Calendar days: Christmas and weekends are not skipped (reg 1(3) is about 48-hour periods only).
    assert poster_reply_deadline(uk("2026-12-23 16:00")) == uk("2026-12-29 00:00")


def test_format_uk() -> None:
    assert format_uk(uk("2026-12-30 10:00")) == "10:00am on Wednesday 30 December 2026"
    assert format_uk(uk("2026-12-30 12:00")) == "midday on Wednesday 30 December 2026"
    assert format_uk(datetime(2026, 6, 9, 14, 5, tzinfo=UTC)) == "3:05pm on Tuesday 9 June 2026"
