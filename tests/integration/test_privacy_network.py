"""No telemetry, no surprise network: `journey init`, `journey generate` and `journey run` (the real
CLI, the nightly Prefect flow with its temporary local API server, dbt and Great Expectations) succeed
with every outbound connection refused except loopback, and never even try one.

Every Python process of the run (the CLI, Prefect's server, each dbt subprocess) loads
``netguard/sitecustomize.py``, which refuses and records any non-loopback connect, sendto or name
lookup, and records the telemetry switches at the moment Prefect, dbt or GX is first imported. The run
starts with those switches unset, so the entry points must set them. Where ``unshare -n`` works, the
run is also inside a network namespace with only loopback up, so a non-Python client would fail too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

PROJECT = Path(__file__).resolve().parents[2]
GUARD = Path(__file__).resolve().parent / "netguard"
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
DAY = "2026-03-02"


def _namespace_prefix() -> list[str]:
    """``unshare -n`` with loopback up, if this machine allows it (else the Python guard alone)."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip:
        return []
    prefix = [unshare, "-n", "sh", "-c", f'{ip} link set lo up && exec "$0" "$@"']
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else []


def _env(data: Path, log: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in TELEMETRY_OFF and not key.startswith(("JOURNEY_", "PREFECT_", "DBT_", "GX_"))
    }
    env.update(
        JOURNEY_DATA_DIR=str(data),
        JOURNEY_NETGUARD_LOG=str(log),
        JOURNEY_LANDING_SETTLE_SECONDS="0",  # the drop was generated a moment ago
        PYTHONPATH=os.pathsep.join([str(GUARD), str(PROJECT), str(PROJECT / "src")]),
    )
    return env


def _records(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_cli_and_nightly_flow_need_no_network_and_send_no_telemetry(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "netguard.jsonl"
    env = _env(data, log)
    prefix = _namespace_prefix()
    journey = [*prefix, sys.executable, "-m", "journey.cli"]
    outputs = []
    for args in (["init"], ["generate", "--days", "1", "--scale", "0.02", "--seed", "5", "--start", DAY],
                 ["run", "--date", DAY]):
        proc = subprocess.run([*journey, *args], cwd=PROJECT, env=env, capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, f"journey {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
        outputs.append(proc.stdout)
    assert outputs[-1].startswith("run ") and " succeeded in " in outputs[-1], outputs[-1]

    records = _records(log)
    refused = [record for record in records if record["event"] == "refused"]
    assert refused == [], f"outbound attempts: {refused}"
    imports = {str(record["module"]): record for record in records if record["event"] == "import"}
    assert {"prefect", "dbt", "great_expectations"} <= set(imports), "the guard saw every tool start"
    for record in records:
        if record["event"] == "import":
            # Prefect re-exports its settings to its server subprocess as Python booleans ("False").
            seen = {key: str(value).lower() for key, value in record["env"].items()}
            assert seen == TELEMETRY_OFF, f"telemetry not off when {record['module']} was imported: {record}"
    assert len({record["pid"] for record in records if record["event"] == "start"}) >= 4, "guard in subprocesses"

    conn = duckdb.connect(str(data / "warehouse" / "journey.duckdb"), read_only=True)
    try:
        assert conn.execute("select count(*) from marts.fct_encounters").fetchone()[0] > 0
    finally:
        conn.close()
