from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "haven.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from haven.audit import receivers  # noqa: F401  (connects the audit receivers)
