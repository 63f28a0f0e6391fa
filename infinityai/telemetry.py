"""Optional telemetry to Azure Monitor (Application Insights) through OpenTelemetry.

OpenCensus, which the old runbook names, was retired in 2024; Microsoft's OpenTelemetry
distro `azure-monitor-opentelemetry` replaces it. It is an optional requirement
(requirements/azure.txt): when APPLICATIONINSIGHTS_CONNECTION_STRING is unset nothing
of it is imported, so the base image and the tests never load it.
"""

from __future__ import annotations

import logging

from infinityai.config import SERVICE_NAME, Config

log = logging.getLogger("infinityai.telemetry")


def configure(config: Config) -> bool:
    """Start exporting when a connection string is set; True when it did."""
    connection_string = config.APPLICATIONINSIGHTS_CONNECTION_STRING
    if not connection_string:
        return False
    try:
        from azure.monitor.opentelemetry import configure_azure_monitor
    except ImportError:
        log.error("APPLICATIONINSIGHTS_CONNECTION_STRING is set but azure-monitor-opentelemetry is not "
                  "installed (pip install -r requirements/azure.txt); telemetry is off")
        return False
    from opentelemetry.sdk.resources import Resource

    configure_azure_monitor(
        connection_string=connection_string,
        resource=Resource.create({"service.name": SERVICE_NAME}),
        # Our own loggers only: gunicorn's access lines would duplicate the request telemetry.
        logger_name="infinityai",
    )
    log.info("telemetry to Azure Monitor is on")
    return True
