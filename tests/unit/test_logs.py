"""journey's logging: one setup for every entry point, the run id on every line of a run (worker
threads included), and a sink an orchestrator adds gets the same lines."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest

from journey.config import Settings
from journey.logs import Formatter, add_handler, configure_logging, current_run_id, run_logging


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def journey_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("journey")
    before = list(logger.handlers)
    yield logger
    for handler in [handler for handler in logger.handlers if handler not in before]:
        logger.removeHandler(handler)
        handler.close()


def _file_records(settings: Settings) -> list[dict[str, object]]:
    for handler in logging.getLogger("journey").handlers:
        handler.flush()
    return [json.loads(line) for line in (settings.log_dir / "journey.log").read_text(encoding="utf-8").splitlines()]


def test_a_second_setup_for_the_same_log_file_keeps_the_first_and_its_verbosity(
    settings: Settings, journey_logger: logging.Logger
) -> None:
    configure_logging(settings, verbose=True)  # the CLI with --verbose
    installed = list(journey_logger.handlers)
    sink = _Collect()
    journey_logger.addHandler(sink)  # e.g. an orchestrator's handler
    configure_logging(settings)  # the flow body, in the same process
    assert journey_logger.handlers == [*installed, sink]
    assert journey_logger.level == logging.DEBUG
    logging.getLogger("journey.runs").info("one line")
    assert [record["msg"] for record in _file_records(settings)] == ["one line"], "written once, not twice"
    assert [record.getMessage() for record in sink.records] == ["one line"]


def test_every_line_of_a_run_carries_its_id_in_worker_threads_too(
    settings: Settings, journey_logger: logging.Logger
) -> None:
    configure_logging(settings)
    log = logging.getLogger("journey.ingest.loader")
    log.info("before the run")
    with run_logging("20260302T020000-aaaaaa"):
        log.info("in the run")
        worker = threading.Thread(target=lambda: log.info("in a worker thread"))  # no inherited context
        worker.start()
        worker.join()
        with run_logging("inner-run"):
            log.info("in a nested run")
        log.warning("again the outer run", extra={"stage": "load"})
    log.info("after the run")
    assert current_run_id() is None
    assert [(record["msg"], record.get("run_id")) for record in _file_records(settings)] == [
        ("before the run", None),
        ("in the run", "20260302T020000-aaaaaa"),
        ("in a worker thread", "20260302T020000-aaaaaa"),
        ("in a nested run", "inner-run"),
        ("again the outer run", "20260302T020000-aaaaaa"),
        ("after the run", None),
    ]


def test_an_added_sink_gets_the_run_id_and_the_message_style_keeps_its_own_fields_out(
    settings: Settings, journey_logger: logging.Logger
) -> None:
    configure_logging(settings)
    sink = _Collect()
    add_handler(sink)
    with run_logging("r-1"):
        logging.getLogger("journey.runs").info("run %s recorded", "r-1", extra={"stage": "publish"})
    (record,) = sink.records
    record.flow_run_id = "uuid-of-the-ui"
    assert Formatter("message", omit={"flow_run_id"}).format(record) == "run r-1 recorded | stage=publish run_id=r-1"
    assert Formatter("text").format(record).endswith(
        "INFO    journey.runs: run r-1 recorded | stage=publish run_id=r-1 flow_run_id=uuid-of-the-ui")
