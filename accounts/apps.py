from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import fallback

        # Said at every start: an ERROR when the fallback was asked for but cannot
        # work (names the variable), a WARNING while it is on.
        fallback.report_at_start()
