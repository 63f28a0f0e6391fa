import logging

from django.apps import AppConfig
from django.conf import settings

log = logging.getLogger("infinityai.config")


class InfinityAIConfig(AppConfig):
    name = "infinityai"
    verbose_name = "InfinityAI"

    def ready(self) -> None:
        # Settings that weaken security but are allowed: said at every start.
        for warning in settings.CONFIG.warnings:
            log.warning(warning)
        self._count_logins()
        # Before the WSGI handler loads its middleware, so Django's instrumentation is in.
        from infinityai import telemetry

        telemetry.configure(settings.CONFIG)

    @staticmethod
    def _count_logins() -> None:
        from accounts.signals import login_attempted
        from infinityai.metrics import record_login

        login_attempted.connect(record_login, dispatch_uid="infinityai.metrics.record_login")
