import datetime

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "haven.intake"
    label = "intake"
    verbose_name = "Intake from the portal"

    def ready(self) -> None:
        from haven.core.periodic import PeriodicJob, register_job
        from haven.crypto.models import SubmissionKey
        from haven.crypto.orphans import register_key_reference
        from haven.intake import desk, limits, receivers, tokens  # noqa: F401  (receivers)
        from haven.intake.models import Submission
        from haven.intake.services import purge_unconfirmed_deletions

        desk.register()
        # A request names its key in the key store by id: the orphan check must know it.
        register_key_reference(Submission, "key_id", SubmissionKey)
        register_job(
            PeriodicJob(
                "intake.purge_unconfirmed_deletions",
                datetime.timedelta(hours=1),
                lambda: f"{purge_unconfirmed_deletions()} requests deleted",
            )
        )
        register_job(
            PeriodicJob(
                "intake.forget_portal_counts",
                datetime.timedelta(hours=1),
                lambda: (
                    f"{limits.forget_old_windows()} counts and "
                    f"{tokens.forget_expired()} spent form tokens forgotten"
                ),
            )
        )
