from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "haven.crypto"
    label = "crypto"
    verbose_name = "Haven cryptography"

    def ready(self) -> None:
        from typing import Any

        from ninja.orm import register_field

        from haven.crypto import checks  # noqa: F401  (registers the key material check)

        # The API sees decrypted values: text as a string, JSON as any JSON value.
        register_field("EncryptedJSONField", Any)
