"""Prefect entry points. Importing this package switches every tool's telemetry off first, so even
``prefect deploy`` or a direct ``import flows.nightly`` never phones home."""

import os as _os

from journey.config import telemetry_off_env as _telemetry_off_env

for _key, _value in _telemetry_off_env().items():
    _os.environ.setdefault(_key, _value)

# The temporary local Prefect API needs longer than Prefect's 20 s default on a busy 2-core machine;
# set before any flow starts it (a flow called directly, as in tests, starts it before its body runs).
_os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
