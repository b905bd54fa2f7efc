"""What a data engineer sees of a served run, on the real pieces: `journey serve` against a real
`prefect server` on 127.0.0.1 executes a quick run that succeeds and one that fails (a tiny
hand-written landing: counts computed by hand), and the Prefect API then holds, for each, a flow
run named by journey's run id, journey's own log lines carrying that id (the same lines as
journey.log), a markdown summary and a table of failed checks; the failed run's refused rows are
listed by `journey quarantine list --run` after its working copy is gone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from test_ops_deploy import prefect_server  # noqa: F401 - the real server fixture

from journey.config import Settings
from journey.ops.prefect_server import stop_process_group, wait_until
from journey.ops.runlog import read_runs

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

GOOD, BAD = date(2026, 3, 2), date(2026, 3, 3)
JOURNEY = str(Path(sys.executable).with_name("journey"))


def _land(settings: Settings) -> None:
    """GOOD: 4 reviews (one rated 7: quarantined by the staging gate) and 2 touches (one on an unknown
    channel: a warning) = 2 files, 6 rows read, 5 loaded, 1 quarantined. BAD: 20 encounters, 18 of
    them without class.code: quarantined by the loader, 90 % > the 20 % allowed, so the run fails."""
    def write(relative: str, rows: list[dict[str, Any]]) -> None:
        path = settings.landing_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    write(f"relations/{GOOD}/reviews.jsonl", [
        {"review_id": f"r{i}", "platform": "dianping", "rating": rating, "text": "ok",
         "posted_at": f"{GOOD} 1{i}:00:00"}
        for i, rating in enumerate([5, 7, 4, 1], start=1)
    ])
    write(f"crm/{GOOD}/touches.jsonl", [
        {"touch_id": "t1", "ts": f"{GOOD} 09:00:00", "anonymous_id": "a", "channel": "wechat", "action": "click"},
        {"touch_id": "t2", "ts": f"{GOOD} 09:01:00", "anonymous_id": "a", "channel": "telegraph", "action": "click"},
    ])
    valid = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
             "subject": {"reference": "Patient/p1"}}
    write(f"ehr/{BAD}/Encounter.ndjson", [{**valid, "id": f"e{i}"} for i in range(2)]
          + [{"resourceType": "Encounter", "id": f"x{i}", "status": "finished"} for i in range(18)])


@pytest.fixture
def served(settings: Settings, tmp_path: Path, prefect_server: str) -> Iterator[subprocess.Popen[bytes]]:  # noqa: F811
    """`journey serve` against the real server, its schedule twelve hours away (no run comes due)."""
    hour = (datetime.now(ZoneInfo(settings.timezone)).hour + 12) % 24
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "prefect-client"),
           "JOURNEY_SCHEDULE_CRON": f"15 {hour} * * *"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([JOURNEY, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until(lambda: b"being served" in log.read_bytes(), "journey serve", process, log, timeout_seconds=600)
        yield process
    finally:
        stop_process_group(process, signal.SIGINT)


def _run(client: Any, served: subprocess.Popen[bytes], run_date: date) -> Any:
    """Trigger the deployment for ``run_date`` (no docs site: quicker) and wait for the run's end."""
    deployment = client.read_deployment_by_name("journey-nightly/nightly")
    flow_run = client.create_flow_run_from_deployment(
        deployment.id, parameters={"run_date": run_date.isoformat(), "docs": False})

    def ended() -> bool:
        state = client.read_flow_run(flow_run.id).state
        return state is not None and state.is_final()

    wait_until(ended, f"the served run for {run_date}", served, Path(os.devnull), timeout_seconds=900)
    return client.read_flow_run(flow_run.id)


def _journey_messages(client: Any, flow_run_id: UUID, served: subprocess.Popen[bytes], expected: int) -> list[str]:
    """journey's lines in the run's Prefect logs, once all ``expected`` have arrived (sent in batches)."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    found: list[str] = []

    def arrived() -> bool:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200)
        found[:] = [entry.message for entry in logs if entry.name.startswith("journey")]
        return len(found) >= expected

    wait_until(arrived, "the run's logs in the Prefect API", served, Path(os.devnull), timeout_seconds=120)
    return found


def _artifacts(client: Any, flow_run_id: UUID) -> dict[str, Any]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    this_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    found = client.read_artifacts(artifact_filter=this_run)
    return {artifact.key: artifact.data for artifact in found}


def _log_file_records(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    lines = (settings.log_dir / "journey.log").read_text(encoding="utf-8").splitlines()
    return [record for record in map(json.loads, lines) if record.get("run_id") == run_id]


def test_a_served_run_shows_its_id_logs_summary_and_failed_checks_in_prefect(
    settings: Settings, prefect_server: str, served: subprocess.Popen[bytes]  # noqa: F811
) -> None:
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    _land(settings)
    with temporary_settings({PREFECT_API_URL: prefect_server}), get_client(sync_client=True) as client:
        good = _run(client, served, GOOD)
        bad = _run(client, served, BAD)
        assert (good.state.type.value, bad.state.type.value) == ("COMPLETED", "FAILED")
        runs = {str(run["run_date"]): run for run in read_runs(settings)}
        good_id, bad_id = str(runs[str(GOOD)]["run_id"]), str(runs[str(BAD)]["run_id"])
        # The UI's run is journey's run: ops.runs, runs.jsonl and the alert name it the same.
        assert (good.name, bad.name) == (good_id, bad_id)
        assert (runs[str(GOOD)]["status"], runs[str(BAD)]["status"]) == ("succeeded", "failed")

        for flow_run, run_id in ((good, good_id), (bad, bad_id)):
            in_file = _log_file_records(settings, run_id)
            assert len(in_file) >= 5, in_file
            in_prefect = _journey_messages(client, flow_run.id, served, expected=len(in_file))
            # Every journey line of the run, in Prefect as in journey.log, carries the run id.
            assert all(f"run_id={run_id}" in message for message in in_prefect), in_prefect
            assert sorted(message.split(" | ")[0] for message in in_prefect) == sorted(r["msg"] for r in in_file)
        assert any(message.startswith("loaded day 2026-03-03: 1 files, 20 rows read, 2 loaded, 18 quarantined")
                   for message in _journey_messages(client, bad.id, served, expected=1))

        good_artifacts, bad_artifacts = _artifacts(client, good.id), _artifacts(client, bad.id)

    summary = good_artifacts["journey-run-summary"]
    assert f"# journey run `{good_id}`: succeeded" in summary
    assert "| files | 2 |" in summary and "| rows | 6 read, 5 loaded, 1 quarantined |" in summary
    assert "| drop days | 2026-03-02 |" in summary and "| load |" in summary and "| dbt |" in summary
    assert f"`{settings.warehouse_path}`" in summary and f"journey quarantine list --run {good_id}" in summary
    checks = {(row["stage"], row["severity"], row["rule"], row["where"])
              for row in json.loads(good_artifacts["journey-run-checks"])}
    assert checks == {("staging", "warn", "channel_known", f"crm/{GOOD}/touches.jsonl row 2"),
                      ("staging", "error", "review_rating_in_range", f"relations/{GOOD}/reviews.jsonl row 2")}

    failed = bad_artifacts["journey-run-summary"]
    assert f"# journey run `{bad_id}`: failed" in failed
    assert "| files | 1 |" in failed and "| rows | 20 read, 2 loaded, 18 quarantined |" in failed
    assert "| stopped at | validate |" in failed and "(unchanged by this run)" in failed
    (stopping,) = json.loads(bad_artifacts["journey-run-checks"])
    assert (stopping["stage"], stopping["severity"], stopping["rule"]) == ("validate", "error", "max_quarantine_share")
    assert stopping["where"].startswith(f"ehr/{BAD}/Encounter.ndjson: 18 of 20 rows failed row-level rules")

    # The failed run's working copy is gone; what it refused is still listed, row by row.
    assert not settings.work_path.exists()
    listed = subprocess.run([JOURNEY, "quarantine", "list", "--run", bad_id], capture_output=True, text=True,
                            timeout=120, env=os.environ.copy())
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if line.startswith(f"ehr/{BAD}/Encounter.ndjson:")]
    assert [line.split("  ")[:3] for line in rows] == [
        [f"ehr/{BAD}/Encounter.ndjson:{row}", "load", "required:class.code"] for row in range(3, 21)]
    assert f"run {bad_id} failed at stage validate: 18 row(s) quarantined" in listed.stdout
