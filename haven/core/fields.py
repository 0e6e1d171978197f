"""``CodeListField``: several codes of one vocabulary in one plain, filterable column.

Stored as ``,code,code,`` so that ``has_code(name, code)`` is a portable ``LIKE '%,code,%'``
on SQLite and PostgreSQL alike. For operational data only (vocabulary codes, never
anything identifying).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.text import capfirst

from haven.core.vocab import Vocabulary


def _split(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [code for code in value.split(",") if code]
    return [str(code) for code in value]


class CodeListField(models.CharField):  # type: ignore[type-arg]
    description = "A list of vocabulary codes"

    def __init__(self, *args: Any, vocabulary: Vocabulary | None = None, **kwargs: Any) -> None:
        self.vocabulary = vocabulary
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        return _split(value)

    def to_python(self, value: Any) -> list[str]:
        return _split(value)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            codes = list(dict.fromkeys(str(code) for code in value))
            return f",{','.join(codes)}," if codes else ""
        return value

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        codes = _split(value)
        if not codes and not self.blank:
            raise ValidationError(self.error_messages["blank"], code="blank")
        if self.vocabulary is not None:
            self.vocabulary.validate_list(codes)

    def run_validators(self, value: Any) -> None:
        # CharField's length validator would measure the list, not the stored text.
        return None

    def value_to_string(self, obj: models.Model) -> str:
        return ",".join(_split(self.value_from_object(obj)))

    def formfield(self, **kwargs: Any) -> Any:
        # The vocabulary lives in code, not in the migration: a form offers its terms.
        options: dict[str, Any] = {
            "choices": self.vocabulary.choices if self.vocabulary is not None else [],
            "required": not self.blank,
            "widget": forms.CheckboxSelectMultiple,
            "label": capfirst(self.verbose_name),
            "help_text": self.help_text,
        }
        options.update(kwargs)
        return forms.MultipleChoiceField(**options)


def has_code(name: str, code: str) -> models.Q:
    """A filter: rows whose ``name`` list contains ``code``."""
    return models.Q(**{f"{name}__contains": f",{code},"})
