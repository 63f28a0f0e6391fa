from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self) -> None:
        from health.checks import database_check
        from infinityai.metrics import record_health

        database_check.add_listener(lambda result, seconds: record_health(result.state.value, seconds))
