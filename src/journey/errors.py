"""Errors a user can act on. The CLI maps every JourneyError to a clean message and exit code."""

from __future__ import annotations


class JourneyError(Exception):
    """Base class: the message says what went wrong, where, and what to do next."""

    exit_code = 1


class ConfigError(JourneyError):
    """A setting is missing or invalid."""

    exit_code = 2


class LandingError(JourneyError):
    """A landed file or folder cannot be used (unsafe path, unreadable file, missing drop)."""


class ValidationFailed(JourneyError):
    """A batch-level error-severity check failed: the run stops before publish."""

    def __init__(self, message: str, *, file: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.rule = rule


class BuildFailed(JourneyError):
    """dbt build failed: nothing was published."""
