from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "haven.referrals"
    label = "referrals"
    verbose_name = "Referral directory"

    def ready(self) -> None:
        from haven.referrals import case_page, receivers  # noqa: F401  (connects the receivers)

        case_page.register()
