from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "haven.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from haven.reports import desk, export_views

        desk.register()
        export_views.register_panels()
