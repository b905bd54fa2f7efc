"""Backfill in resumable segments: each segment is a full nightly run that publishes.

A day counts as finished once a run that loaded it has published. After a failure, the days of
earlier segments are published and the next backfill plans again from the published manifest, so it
resumes at the first unfinished day (the first day of the failed segment). Smaller segments resume
more precisely; larger ones rebuild the marts less often (``JOURNEY_BACKFILL_DAYS_PER_RUN``).
"""

from __future__ import annotations

from datetime import date

from journey.config import Settings
from journey.errors import JourneyError
from journey.runs import plan_run


class BackfillStopped(JourneyError):
    """A backfill segment failed; earlier segments stay published."""

    hint = "`journey quarantine list` shows refused rows; logs/runs.jsonl records every run of the backfill."


def backfill_segments(settings: Settings, start: date | None, end: date | None) -> list[tuple[date, date]]:
    """The pending drop days in [start, end], in order, cut into runs of ``backfill_days_per_run`` days."""
    days = list(plan_run(settings, end, start=start, end=end).days)
    size = settings.backfill_days_per_run
    return [(chunk[0], chunk[-1]) for chunk in (days[i:i + size] for i in range(0, len(days), size))]


def stopped_message(segment: tuple[date, date], published_days: int, reason: str) -> str:
    first, last = segment
    span = first.isoformat() if first == last else f"{first} … {last}"
    return (
        f"backfill stopped at {span}: {reason}\n"
        f"{published_days} earlier day(s) of this backfill are published; the warehouse holds them.\n"
        f"Fix the cause, then run `journey backfill` again: it resumes at {first}."
    )
