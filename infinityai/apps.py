import logging

from django.apps import AppConfig
from django.conf import settings

log = logging.getLogger("infinityai.config")


class InfinityAIConfig(AppConfig):
    name = "infinityai"
    verbose_name = "InfinityAI"

    def ready(self) -> None:
        from infinityai import openapi  # noqa: F401  (registers the schema's view extensions)

        # Settings that weaken security but are allowed: said at every start.
        for warning in settings.CONFIG.warnings:
            log.warning(warning)
