"""Test-only models, created by the test runner through their own migrations.

They need migrations because they point at migrated tables (missions, data keys): Django
creates the tables of an app without migrations before it migrates, so on PostgreSQL their
foreign keys would name tables that do not exist yet. After changing a model here, run
``DJANGO_SETTINGS_MODULE=tests.settings python manage.py makemigrations testapp``.

``Subject`` stands in for a data subject (a defender, a case) with every kind of encrypted
field and blind index; ``SubjectNote`` for a row that belongs to a subject and uses its key.
"""

from __future__ import annotations

from django.db import models

from haven.core.models import MissionScopedModel
from haven.crypto.blindindex import BlindIndexField
from haven.crypto.fields import EncryptedJSONField, EncryptedTextField
from haven.crypto.models import EncryptedModel


class Subject(MissionScopedModel, EncryptedModel):
    is_data_subject = True

    name = EncryptedTextField(blank=True)
    nickname = EncryptedTextField(blank=True)
    phone = EncryptedTextField(blank=True)
    email = EncryptedTextField(blank=True)
    profile = EncryptedJSONField(default=dict, blank=True)
    notes = EncryptedTextField(null=True, blank=True)
    status = models.CharField(max_length=20, default="active")
    name_index = BlindIndexField(source="name", kind="name")
    phone_index = BlindIndexField(source="phone", kind="phone")
    email_index = BlindIndexField(source="email", kind="email")

    def __str__(self) -> str:
        # Deliberately shows the name, as a domain model would: repr() must still hide it.
        return self.name


class SubjectNote(EncryptedModel):
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="subject_notes")
    body = EncryptedTextField()
