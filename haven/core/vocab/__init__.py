"""Controlled vocabularies: the closed lists of codes every app shares, with translated labels.

A vocabulary is data, not scattered literals: each module here declares one ``Vocabulary``
of ``Term``s. Codes are stable identifiers stored in the database and the API; labels are
what people read, in their language. A code not in the list is refused with a message that
names it and the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Term:
    code: str
    label: Promise | str
    # Extra facts about a term that rules need (a consent scope is "visible", a channel
    # type is looked up as a phone number...).
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.attrs.get(name)


class Vocabulary:
    """An ordered, closed list of terms, looked up by code."""

    def __init__(self, name: str, title: Promise | str, terms: Iterable[Term]) -> None:
        self.name = name
        self.title = title
        self._terms = {term.code: term for term in terms}

    def __iter__(self) -> Iterator[Term]:
        return iter(self._terms.values())

    def __contains__(self, code: object) -> bool:
        return code in self._terms

    def __len__(self) -> int:
        return len(self._terms)

    @property
    def codes(self) -> list[str]:
        return list(self._terms)

    @property
    def choices(self) -> list[tuple[str, Promise | str]]:
        return [(term.code, term.label) for term in self._terms.values()]

    def get(self, code: str) -> Term:
        self.validate(code)
        return self._terms[code]

    def label(self, code: str) -> str:
        """The label of ``code`` in the active language; an unknown code shows as itself."""
        term = self._terms.get(code)
        return str(term.label) if term else code

    def validate(self, code: Any) -> None:
        """Raise ``ValidationError`` naming the code and this vocabulary if it is unknown."""
        if code not in self._terms:
            raise ValidationError(
                _("“%(code)s” is not a known code for %(vocabulary)s. Use one of: %(codes)s.")
                % {"code": code, "vocabulary": self.title, "codes": ", ".join(self._terms)},
                code="unknown_code",
            )

    def validate_list(self, codes: Any) -> None:
        if not isinstance(codes, list | tuple):
            raise ValidationError(_("Give a list of codes."), code="invalid")
        for code in codes:
            self.validate(code)
