import datetime

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "haven.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from haven.cases import desk, receivers  # noqa: F401  (connects the receivers)
        from haven.cases.reminders import raise_reminders, send_digests
        from haven.core.periodic import PeriodicJob, register_job

        desk.register()
        register_job(
            PeriodicJob(
                "cases.raise_reminders",
                datetime.timedelta(minutes=15),
                lambda: f"{raise_reminders()} new notices",
            )
        )
        register_job(
            PeriodicJob(
                "cases.send_digests",
                datetime.timedelta(hours=1),
                lambda: f"{send_digests()} digests queued",
            )
        )
