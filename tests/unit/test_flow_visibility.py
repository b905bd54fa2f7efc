"""Without a Prefect run (the flow body called directly, as `journey run` may without a server), the
Prefect side of a run's visibility does nothing and fails nothing; the run keeps its own id and
its summary stays findable in logs/runs/<run_id>/summary.md."""

from __future__ import annotations

import logging
from datetime import date

from flows.visibility import current_run_id, publish_artifacts, run_logs_in_prefect, run_name
from journey.config import Settings
from journey.runs import RunSummary, keep_evidence


def test_outside_a_flow_run_nothing_is_sent_and_the_summary_is_still_kept(settings: Settings) -> None:
    assert current_run_id() is None
    summary = RunSummary.begin(date(2026, 3, 2), run_id=current_run_id())
    assert summary.run_id[:8].isdigit() and len(summary.run_id) == len(run_name())
    handlers = list(logging.getLogger("journey").handlers)
    with run_logs_in_prefect():
        assert logging.getLogger("journey").handlers == handlers
    summary.finish("skipped", "no new or changed files in landing")
    publish_artifacts(settings, summary)  # no run context: a no-op, not an error
    markdown = keep_evidence(settings, summary).read_text(encoding="utf-8")
    assert markdown.startswith(f"# journey run `{summary.run_id}`: skipped\n")
    assert "| reason | no new or changed files in landing |" in markdown
    assert not (settings.log_dir / "runs" / summary.run_id / "quarantine.parquet").exists(), "it loaded nothing"
