from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "haven.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from haven.accounts import desk, signals  # noqa: F401  (connects the audit receivers)

        desk.register()
