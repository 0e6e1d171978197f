"""Model checks: encrypted fields are refused where the database would have to read them."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.test.utils import isolate_apps

from haven.crypto.blindindex import BlindIndexField
from haven.crypto.fields import EncryptedTextField
from haven.crypto.models import EncryptedModel


def _ids(model: Any) -> set[str]:
    return {message.id for message in model.check()}


@isolate_apps("tests.testapp")
def test_encrypted_field_outside_an_encrypted_model_is_reported() -> None:
    class Loose(models.Model):  # noqa: DJ008
        name = EncryptedTextField()

        class Meta:
            app_label = "testapp"

    assert "haven_crypto.E001" in _ids(Loose)


@isolate_apps("tests.testapp")
def test_indexed_unique_or_ordered_encrypted_field_is_reported() -> None:
    class Indexed(EncryptedModel):
        name = EncryptedTextField(unique=True)
        label = EncryptedTextField()

        class Meta:
            app_label = "testapp"
            ordering = ["-label"]

    assert {"haven_crypto.E002", "haven_crypto.E003"} <= _ids(Indexed)


@isolate_apps("tests.testapp")
def test_blind_index_of_a_plain_field_is_reported() -> None:
    class Misindexed(EncryptedModel):
        title = models.CharField(max_length=10)
        title_index = BlindIndexField(source="title", kind="name")

        class Meta:
            app_label = "testapp"

    assert "haven_crypto.E004" in _ids(Misindexed)


@isolate_apps("tests.testapp")
def test_sound_encrypted_model_passes() -> None:
    class Sound(EncryptedModel):
        name = EncryptedTextField(blank=True)
        name_index = BlindIndexField(source="name", kind="name")

        class Meta:
            app_label = "testapp"

    assert not [message for message in Sound.check() if message.id.startswith("haven_crypto")]
