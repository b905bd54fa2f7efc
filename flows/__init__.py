"""Prefect entry points. Importing this package switches every tool's telemetry off first, so even
``prefect deploy`` or a direct ``import flows.nightly`` never phones home."""

import os as _os

from journey.config import telemetry_off_env as _telemetry_off_env

for _key, _value in _telemetry_off_env().items():
    _os.environ.setdefault(_key, _value)
