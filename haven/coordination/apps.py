from django.apps import AppConfig


class CoordinationConfig(AppConfig):
    name = "haven.coordination"
    label = "coordination"
    verbose_name = "Coordination with partner missions"

    def ready(self) -> None:
        from haven.coordination import case_page

        case_page.register()
