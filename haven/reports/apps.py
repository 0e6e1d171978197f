from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "haven.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from haven.reports import export_views

        export_views.register_panels()
