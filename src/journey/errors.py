"""Errors a user can act on. The CLI maps every JourneyError to a clean message and exit code.

The message says what went wrong and where (file, row, table, setting); ``hint`` says what to do
next. Each class has a default hint; a raise site with better advice passes ``hint=``.
"""

from __future__ import annotations


class JourneyError(Exception):
    """Base class: the message says what went wrong and where; ``hint`` what to do next."""

    exit_code = 1
    hint = "Fix the cause named above, then run the same command again."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(JourneyError):
    """A setting is missing or invalid."""

    exit_code = 2
    hint = ("Check the JOURNEY_* environment variables (docs/operations.md → Configuration); "
            "`journey info` shows the paths in use.")


class UsageError(JourneyError):
    """A command was asked for something it refuses (the message says what and why)."""

    exit_code = 2
    hint = "Change the arguments named above (`--help` lists them), then run the command again."


class MissingInput(JourneyError):
    """Something a command reads does not exist yet (data dir, published warehouse, needles file)."""

    hint = (
        "Set JOURNEY_DATA_DIR to your data dir, or start one: `journey init`, `journey generate` (demo drops), "
        "`journey backfill`."
    )


class LandingError(JourneyError):
    """A landed file or folder cannot be used (unsafe path, unreadable file, missing drop)."""

    hint = (
        "Replace it with a regular file inside landing/<source>/<YYYY-MM-DD>/ (or remove it), then run again; "
        "nothing was published."
    )


class ValidationFailed(JourneyError):
    """A batch-level error-severity check failed: the run stops before publish."""

    hint = (
        "The published warehouse is unchanged. Land a corrected file at the same path (it replaces the earlier "
        "version) or fix what the rule names, then run again. `journey quarantine list` shows refused rows; "
        "ops.dq_results every check."
    )

    def __init__(
        self, message: str, *, file: str | None = None, rule: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.rule = rule


class BuildFailed(JourneyError):
    """dbt build failed: nothing was published."""

    hint = (
        "The published warehouse is unchanged. Fix the model, test or seed named above (`dbt build -s <node>` "
        "reproduces it), then run again; after a model change `journey run --rebuild` rebuilds the marts."
    )
