"""Quiet hours and digest times across midnight and across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

from delivery.timing import next_digest, quiet_until

AMS = "Europe/Amsterdam"
UTC = UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_window_across_midnight() -> None:
    # 23:30 local (CET, UTC+1) in a 23:00–07:00 window ends at 07:00 local = 06:00 UTC next day.
    assert quiet_until(23 * 60, 7 * 60, AMS, utc(2026, 1, 10, 22, 30)) == utc(2026, 1, 11, 6, 0)
    # 03:00 local is inside too and ends the same morning.
    assert quiet_until(23 * 60, 7 * 60, AMS, utc(2026, 1, 11, 2, 0)) == utc(2026, 1, 11, 6, 0)
    # 07:00 local is the end itself: no longer quiet; 22:59 local is not yet quiet.
    assert quiet_until(23 * 60, 7 * 60, AMS, utc(2026, 1, 11, 6, 0)) is None
    assert quiet_until(23 * 60, 7 * 60, AMS, utc(2026, 1, 10, 21, 59)) is None


def test_daytime_window_and_no_window() -> None:
    assert quiet_until(9 * 60, 17 * 60, AMS, utc(2026, 1, 12, 10, 0)) == utc(2026, 1, 12, 16, 0)
    assert quiet_until(0, 0, AMS, utc(2026, 1, 12, 10, 0)) is None


def test_window_ending_after_spring_forward() -> None:
    # Night of 28–29 March 2026: clocks go from 02:00 CET to 03:00 CEST. 07:00 local is 05:00 UTC.
    assert quiet_until(23 * 60, 7 * 60, AMS, utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 5, 0)


def test_window_ending_after_autumn_back() -> None:
    # Night of 24–25 October 2026: clocks go from 03:00 CEST back to 02:00 CET. 07:00 local is 06:00 UTC.
    assert quiet_until(23 * 60, 7 * 60, AMS, utc(2026, 10, 24, 22, 0)) == utc(2026, 10, 25, 6, 0)


def test_window_ending_inside_the_skipped_hour() -> None:
    # A window ending at 02:30 on the spring-forward night: 02:30 does not exist; it resolves to 03:30 CEST.
    assert quiet_until(0, 2 * 60 + 30, AMS, utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 1, 30)


def test_daily_and_weekly_digest_times() -> None:
    assert next_digest(9, None, AMS, utc(2026, 1, 12, 7, 0)) == utc(2026, 1, 12, 8, 0)  # later today
    assert next_digest(9, None, AMS, utc(2026, 1, 12, 8, 0)) == utc(2026, 1, 13, 8, 0)  # strictly after
    # Weekly on Monday (0) at 09:00 local, asked on Tuesday 13 January 2026.
    assert next_digest(9, 0, AMS, utc(2026, 1, 13, 12, 0)) == utc(2026, 1, 19, 8, 0)


def test_digest_across_dst() -> None:
    # Daily 09:00 local: 08:00 UTC before the spring change, 07:00 UTC after it.
    assert next_digest(9, None, AMS, utc(2026, 3, 28, 9, 0)) == utc(2026, 3, 29, 7, 0)
    # New York falls back at 06:00 UTC on 1 November 2026: 09:00 EST that day is 14:00 UTC.
    assert next_digest(9, None, "America/New_York", utc(2026, 11, 1, 12, 0)) == utc(2026, 11, 1, 14, 0)
    assert next_digest(9, None, "America/New_York", utc(2026, 10, 31, 12, 0)) == utc(2026, 10, 31, 13, 0)
