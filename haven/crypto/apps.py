from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "haven.crypto"
    label = "crypto"
    verbose_name = "Haven cryptography"

    def ready(self) -> None:
        import datetime
        from typing import Any

        from ninja.orm import register_field

        from haven.core.periodic import PeriodicJob, register_job
        from haven.crypto import checks  # noqa: F401  (registers the key material check)
        from haven.crypto.orphans import check_orphans

        # Keys left unused by a write that crashed between its two commits (docs/keys.md).
        register_job(
            PeriodicJob(
                "crypto.orphaned_keys",
                datetime.timedelta(hours=6),
                lambda: check_orphans(remove=True).summary(),
            )
        )

        # The API sees decrypted values: text as a string, JSON as any JSON value.
        register_field("EncryptedJSONField", Any)
