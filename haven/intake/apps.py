from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "haven.intake"
    label = "intake"
    verbose_name = "Intake from the portal"

    def ready(self) -> None:
        from haven.intake import desk, receivers  # noqa: F401  (connects the receivers)

        desk.register()
