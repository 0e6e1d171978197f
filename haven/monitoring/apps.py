import datetime

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "haven.monitoring"
    label = "monitoring"
    verbose_name = "Trial and detention monitoring, civic space"

    def ready(self) -> None:
        from haven.core.periodic import PeriodicJob, register_job
        from haven.monitoring import case_page
        from haven.monitoring.reminders import remind_hearings

        case_page.register()
        register_job(
            PeriodicJob(
                "monitoring.remind_hearings",
                datetime.timedelta(minutes=15),
                lambda: f"{remind_hearings()} hearing reminders",
            )
        )
