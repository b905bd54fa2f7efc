"""Run alerts (a failed, interrupted or degraded run) through apprise, to every URL in
``Settings.alert_urls`` (WeCom ``wecombot://``, DingTalk ``dingtalk://``, Slack, Teams, mail, … or a
plain JSON endpoint ``json://`` / ``jsons://``) and to ``Settings.webhook_url`` (posted as JSON).

Every destination gets the same short text (run id, status, stage, what failed, where to look; no
identifiers); a JSON endpoint also gets the alert's fields at the top level of apprise's JSON document.
Delivery is best effort by design: a destination that is down, slow or refuses the alert is logged
and never replaces the error that caused the alert (the run still fails with its own reason).
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

from journey.config import Settings

if TYPE_CHECKING:
    import apprise

log = logging.getLogger(__name__)

#: Chat bots cap a text message (WeCom 2048 bytes): the reason is cut to this many characters.
MAX_REASON_CHARS = 600
JSON_SCHEMES = frozenset({"json", "jsons"})


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
    """The URL without credentials, path or query (they often carry a token): safe to log."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


def as_json_url(url: str) -> str:
    """A plain http(s) webhook as apprise's JSON URL: ``json://`` / ``jsons://``, the query kept as the
    request's own query parameters (apprise forwards ``-name=value`` ones)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        return url
    query = urlencode([(f"-{name}", value) for name, value in parse_qsl(parts.query, keep_blank_values=True)])
    scheme = "json" if parts.scheme == "http" else "jsons"
    return parts._replace(scheme=scheme, query=query).geturl()


def alert_urls(settings: Settings) -> list[str]:
    """Every destination: JOURNEY_ALERT_URLS (whitespace or comma separated), then JOURNEY_WEBHOOK_URL."""
    urls = [item for item in re.split(r"[\s,]+", settings.alert_urls or "") if item]
    if settings.webhook_url:
        urls.append(as_json_url(settings.webhook_url))
    return urls


def message(settings: Settings, alert: Alert) -> tuple[str, str]:
    """(title, body) of the alert: run id, status, stage, what failed, where to look."""
    reason = " ".join(alert.reason.split())
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    stage = f" at stage {alert.stage}" if alert.stage else ""
    look = f"{settings.log_dir / 'journey.log'} and {settings.log_dir / 'runs.jsonl'} (search the run id)"
    if alert.stage in {"validate", "load", "health"}:
        look += "; `journey quarantine list`, table ops.dq_results"
    lines = [f"run:    {alert.run_id}", f"status: {alert.status}{stage}"]
    if alert.run_date:
        lines.append(f"date:   {alert.run_date}")
    lines += [f"why:    {reason or 'no reason recorded'}", f"look:   {look}"]
    return f"journey run {alert.status}: {alert.run_id}", "\n".join(lines)


def notifier(settings: Settings, alert: Alert) -> apprise.Apprise:
    """The apprise destinations for ``alert``: one per URL apprise understands (others are logged and
    skipped), each with the alert timeout; JSON endpoints carry the alert's fields too."""
    import apprise
    from apprise.plugins.custom_json import NotifyJSON

    asset = apprise.AppriseAsset(app_id="journey", app_desc="journey run alerts")  # the bot's user name
    destinations = apprise.Apprise(asset=asset)
    timeout = settings.webhook_timeout_seconds
    for url in alert_urls(settings):
        plugin = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None and urlsplit(url).scheme in {"http", "https"}:
            plugin = apprise.Apprise.instantiate(as_json_url(url), asset=asset)  # not a bot's own URL: plain JSON
        if plugin is None:
            log.error("alert URL not understood by apprise, skipped: %s", _where(url))
            continue
        plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout
        if isinstance(plugin, NotifyJSON):
            plugin.payload_extras.update(
                {key: "" if value is None else str(value) for key, value in alert.payload().items()}
            )
        destinations.add(plugin)
    return destinations


def _described(plugin: apprise.NotifyBase) -> str:
    """A destination safe to log: the service, and the host of a JSON endpoint (a chat bot's URL
    holds its token where the host would be)."""
    if plugin.secure_protocol in JSON_SCHEMES:
        return f"{plugin.service_name} {plugin.host}"
    return str(plugin.service_name)


def deliver(settings: Settings, alert: Alert, destinations: apprise.Apprise) -> bool:
    """Send ``alert`` to each destination; True if every one accepted it. Never raises."""
    import apprise

    title, body = message(settings, alert)
    kind = apprise.NotifyType.WARNING if alert.status == "degraded" else apprise.NotifyType.FAILURE
    delivered = 0
    for plugin in destinations:
        where = _described(plugin)
        try:
            sent = bool(plugin.notify(body=body, title=title, notify_type=kind))
        except Exception as error:  # noqa: BLE001 - an alert never fails the run it reports
            log.warning("alert for run %s not delivered to %s: %s", alert.run_id, where, error)
            continue
        if sent:
            delivered += 1
            log.info("alert for run %s delivered to %s", alert.run_id, where)
        else:
            log.warning("alert for run %s not delivered to %s (see apprise's warning above)", alert.run_id, where)
    return bool(len(destinations)) and delivered == len(destinations)


def send_alert(settings: Settings, alert: Alert) -> bool:
    """Deliver ``alert`` to every configured destination; True if all accepted it. Never raises."""
    if not alert_urls(settings):
        log.info("no alert destination configured (JOURNEY_ALERT_URLS); alert only logged", extra=alert.payload())
        return False
    try:
        return deliver(settings, alert, notifier(settings, alert))
    except Exception as error:  # noqa: BLE001 - an alert never fails the run it reports
        log.warning("alert for run %s not sent: %s", alert.run_id, error)
        return False
