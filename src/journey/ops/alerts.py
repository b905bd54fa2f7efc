"""Run alerts (a failed, interrupted or degraded run): POST a small JSON document to ``Settings.webhook_url``.

Delivery is best effort by design: a webhook that is down, slow or refuses the alert is logged and
never replaces the error that caused the alert (the run still fails with its own reason).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from journey.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """What a data engineer needs to act: which run, which date, where it stopped, and why."""

    run_id: str
    run_date: str | None
    stage: str | None
    reason: str
    status: str  # failed | interrupted | degraded

    def payload(self) -> dict[str, object]:
        return {**asdict(self), "source": "journey"}


def _where(url: str) -> str:
    """The URL without path or query (webhook URLs often carry a token): safe to log."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


def send_alert(settings: Settings, alert: Alert) -> bool:
    """Deliver ``alert``; True if the webhook answered 2xx. Never raises."""
    url = settings.webhook_url
    if not url:
        log.info("no webhook configured (JOURNEY_WEBHOOK_URL); alert only logged", extra=alert.payload())
        return False
    if urlsplit(url).scheme not in {"http", "https"}:
        log.error("webhook URL must be http(s); alert not sent to %s", _where(url))
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps(alert.payload(), default=str).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "journey-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.webhook_timeout_seconds) as response:  # noqa: S310
            status = int(response.status)
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("alert for run %s not delivered to %s: %s", alert.run_id, _where(url), error)
        return False
    log.info("alert for run %s delivered to %s (HTTP %d)", alert.run_id, _where(url), status)
    return 200 <= status < 300
