"""Azure Monitor telemetry is optional: nothing of it loads unless its connection string is set."""

from __future__ import annotations

import importlib.util
import logging
import sys

import pytest

from infinityai import telemetry
from infinityai.config import load

CONNECTION_STRING = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"


def test_unset_imports_nothing() -> None:
    assert telemetry.configure(load({"SECRET_KEY": "k" * 32, "ENV_FILE": ""})) is False
    assert not any(name.startswith("azure.monitor") for name in sys.modules)


def _installed() -> bool:
    try:
        return importlib.util.find_spec("azure.monitor.opentelemetry") is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(_installed(), reason="azure-monitor-opentelemetry is installed here")
def test_set_without_the_package_says_what_to_install(caplog: pytest.LogCaptureFixture) -> None:
    config = load({"SECRET_KEY": "k" * 32, "ENV_FILE": "", "APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION_STRING})
    with caplog.at_level(logging.ERROR, logger="infinityai.telemetry"):
        assert telemetry.configure(config) is False
    assert "requirements/azure.txt" in caplog.text
    assert CONNECTION_STRING not in caplog.text
