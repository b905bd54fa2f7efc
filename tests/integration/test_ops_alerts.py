"""Alerts and the failure frame, with a real HTTP server on 127.0.0.1 receiving the webhook.

Fast tests: the guard around a run (lock, recovery of a killed run's leftovers, failure record,
alert) without a Prefect run. The end-to-end CLI test (real flow fails → webhook → exit code) is
marked slow.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey.ops.alerts import Alert, deliver, notifier, send_alert
from journey.ops.guard import guarded_run, recover
from journey.ops.lock import RunInProgress, acquire_run_lock
from journey.ops.runlog import read_runs, write_run
from journey.runs import RunSummary
from journey_demo import generate

START = date(2026, 3, 2)


class Webhook:
    """A real HTTP server collecting the JSON bodies POSTed to it (and the path + query of each POST)."""

    def __init__(self) -> None:
        received: list[dict[str, object]] = []
        paths: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append(json.loads(body))
                paths.append(self.path)
                self.send_response(200)  # chat bots answer 200 (apprise's WeCom plugin wants exactly that)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.paths = paths
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/journey?token=secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ALERT = Alert(run_id="r1", run_date="2026-03-02", stage="validate",
              reason="landing: crm/2026-03-02/touches.jsonl: 30 of 30 rows failed [rule: max_quarantine_share]",
              status="failed")


def _expected_text(settings: Settings) -> str:
    logs = settings.log_dir
    return (
        "run:    r1\n"
        "status: failed at stage validate\n"
        "date:   2026-03-02\n"
        "why:    landing: crm/2026-03-02/touches.jsonl: 30 of 30 rows failed [rule: max_quarantine_share]\n"
        f"look:   {logs / 'journey.log'} and {logs / 'runs.jsonl'} (search the run id); "
        "`journey quarantine list`, table ops.dq_results"
    )


def test_the_webhook_setting_still_gets_the_alert_as_json_with_its_token(webhook: Webhook) -> None:
    settings = Settings()
    assert send_alert(settings, ALERT) is True
    (body,) = webhook.received
    assert webhook.paths == ["/hooks/journey?token=secret"], "the webhook's own query (its token) is kept"
    assert {key: body[key] for key in ("run_id", "run_date", "stage", "reason", "status", "source")} == {
        "run_id": "r1", "run_date": "2026-03-02", "stage": "validate", "reason": ALERT.reason,
        "status": "failed", "source": "journey"}
    assert (body["title"], body["message"], body["type"]) == ("journey run failed: r1", _expected_text(settings),
                                                              "failure")


def test_one_setting_alerts_a_wecom_bot_and_a_json_endpoint(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two formats from one JOURNEY_ALERT_URLS: apprise's own WeCom bot payload and plain JSON. The
    WeCom plugin only posts to qyapi.weixin.qq.com, so its instance's API URL is pointed at the local
    receiver; the payload is built and posted by apprise itself."""
    bot, plain = Webhook(), Webhook()
    try:
        port = plain.server.server_address[1]
        monkeypatch.setenv("JOURNEY_ALERT_URLS", f"wecombot://BOTKEY123,\n  json://127.0.0.1:{port}/alerts")
        settings = Settings()
        destinations = notifier(settings, ALERT)
        assert [plugin.secure_protocol for plugin in destinations] == ["wecombot", "jsons"]
        (wecom,) = [plugin for plugin in destinations if plugin.secure_protocol == "wecombot"]
        wecom.api_url = f"http://127.0.0.1:{bot.server.server_address[1]}/cgi-bin/webhook/send?key=BOTKEY123"
        caplog.set_level(logging.INFO, logger="journey.ops.alerts")
        assert deliver(settings, ALERT, destinations) is True
        # WeCom text messages have no title: apprise puts it on the first line
        content = "journey run failed: r1\r\n" + _expected_text(settings)
        assert bot.received == [{"msgtype": "text", "text": {"content": content}}]
        assert bot.paths == ["/cgi-bin/webhook/send?key=BOTKEY123"]
        (body,) = plain.received
        assert (body["run_id"], body["status"], body["message"]) == ("r1", "failed", _expected_text(settings))
        assert "BOTKEY123" not in caplog.text, "a bot's key is never logged"
    finally:
        bot.close()
        plain.close()


def test_a_mattermost_bot_on_a_local_host_gets_slack_style_text(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat-bot format apprise can point at 127.0.0.1 itself: Mattermost's incoming webhook (the
    Slack-compatible ``{"text": …, "username": …}``), through send_alert with nothing overridden."""
    bot = Webhook()
    try:
        monkeypatch.setenv("JOURNEY_ALERT_URLS", f"mmost://127.0.0.1:{bot.server.server_address[1]}/abcdef0123456789")
        assert send_alert(Settings(), ALERT) is True
        (body,) = bot.received
        assert bot.paths == ["/hooks/abcdef0123456789"]
        assert (body["text"], body["username"]) == ("journey run failed: r1\r\n" + _expected_text(Settings()),
                                                    "journey")
    finally:
        bot.close()


def test_a_dead_or_unknown_destination_is_logged_and_never_raised(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("JOURNEY_ALERT_URLS", f"nosuchservice://x json://127.0.0.1:{_closed_port()}/hook")
    monkeypatch.setenv("JOURNEY_WEBHOOK_TIMEOUT_SECONDS", "2")
    assert send_alert(Settings(), ALERT) is False
    assert "alert URL not understood by apprise, skipped: nosuchservice://x" in caplog.text
    assert "alert for run r1 not delivered to JSON 127.0.0.1" in caplog.text


def test_failed_run_is_recorded_and_alerted_and_an_unreachable_webhook_never_masks_the_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("JOURNEY_WEBHOOK_URL", f"http://127.0.0.1:{_closed_port()}/hook")
    settings = Settings()
    summary = RunSummary.begin(START)
    settings.work_path.write_bytes(b"half-built working copy")
    with pytest.raises(ValueError, match="disk on fire"), guarded_run(settings, summary):
        summary.stage = "load"
        raise ValueError("disk on fire")
    assert "not delivered" in caplog.text
    (run,) = read_runs(settings)
    assert (run["run_id"], run["status"], run["stage"]) == (summary.run_id, "failed", "load")
    assert run["reason"] == "ValueError: disk on fire"
    assert not settings.work_path.exists(), "a failed run's working copy is discarded"
    lines = (settings.log_dir / "runs.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["status"] == "failed"


def test_next_run_recovers_a_killed_runs_leftovers_and_alerts(settings: Settings, webhook: Webhook) -> None:
    settings = Settings()
    published = settings.warehouse_path
    conn = duckdb.connect(str(published))
    conn.execute("create table t as select 1 as v")
    conn.close()
    killed = RunSummary.begin(START)
    killed.stage = "dbt"
    write_run(settings, killed.row())  # what a run writes while in its dbt stage, before it is killed
    leftovers = [settings.work_path, settings.work_path.with_name(settings.work_path.name + ".wal"),
                 settings.work_path.with_name(settings.work_path.name + ".copying"),
                 settings.warehouse_dir / "ops.duckdb.tmp", settings.warehouse_dir / ".spill" / "duckdb_temp_1.block"]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left by kill -9")

    lock = acquire_run_lock(settings, "next-run", wait_seconds=0)
    try:
        recover(settings)
    finally:
        lock.release()

    assert not any(path.exists() for path in leftovers)
    assert duckdb.connect(str(published), read_only=True).execute("select v from t").fetchone() == (1,)
    (run,) = read_runs(settings)
    assert (run["status"], run["stage"]) == ("interrupted", "dbt")
    assert [(a["run_id"], a["status"], a["stage"]) for a in webhook.received] == [(killed.run_id, "interrupted", "dbt")]


_HOLD_LOCK = """
import sys, time
from journey.config import Settings
from journey.ops.lock import acquire_run_lock
lock = acquire_run_lock(Settings(), "holder", wait_seconds=0)
print("held", flush=True)
time.sleep(600)
"""


def test_run_lock_is_exclusive_and_a_killed_holder_leaves_no_stale_lock(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEY_RUN_LOCK_WAIT_SECONDS", "0")
    settings = Settings()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunInProgress, match=rf"run holder \(pid {holder.pid}, since "):
            acquire_run_lock(settings, "second", wait_seconds=0)
        summary = RunSummary.begin(START)
        with pytest.raises(RunInProgress), guarded_run(settings, summary):
            pytest.fail("the body must not run without the lock")
        assert read_runs(settings) == [], "a run that never got the lock does not touch the run log"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    acquire_run_lock(settings, "after-kill", wait_seconds=0).release()


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_cli_run_failure_posts_webhook_and_exits_non_zero(settings: Settings, webhook: Webhook) -> None:
    """A real `journey run`: first a stage timeout, then an error-severity check; both alert and exit 1."""
    generate(settings.landing_dir, settings.generator_dir, start=START, days=1, scale=0.02, seed=7)
    env = {**os.environ, "JOURNEY_TIMEOUTS__STAGE": "1"}
    timed_out = subprocess.run([str(Path(sys.executable).with_name("journey")), "run", "--date", "2026-03-02"],
                               env=env, capture_output=True, text=True, timeout=900)
    assert timed_out.returncode != 0
    assert "error: run failed" in timed_out.stderr and "timed out" in timed_out.stderr
    assert not settings.warehouse_path.exists(), "a failed run publishes nothing"

    touches = settings.landing_dir / "crm" / START.isoformat() / "touches.jsonl"
    touches.write_text("this is not json\n" * 30, encoding="utf-8")
    rejected = subprocess.run([str(Path(sys.executable).with_name("journey")), "run", "--date", "2026-03-02"],
                              env=dict(os.environ), capture_output=True, text=True, timeout=900)
    assert rejected.returncode != 0
    assert "error:" in rejected.stderr and "max_quarantine_share" in rejected.stderr

    first, second = webhook.received
    assert (first["status"], first["stage"], first["run_date"]) == ("failed", "stage", "2026-03-02")
    assert "StepTimeout: step dbt-staging timed out after 1 s" in str(first["reason"])  # no Prefect API: plain
    assert (second["status"], second["stage"]) == ("failed", "validate")
    assert "crm/2026-03-02/touches.jsonl" in str(second["reason"])
    assert [run["status"] for run in read_runs(settings)] == ["failed", "failed"]
    assert {str(run["run_id"]) for run in read_runs(settings)} == {first["run_id"], second["run_id"]}
