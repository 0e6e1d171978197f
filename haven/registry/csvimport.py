"""CSV import of defenders and organisations: check every line first, then write all or none.

``check_file`` reads the whole file without writing and reports, per line, each column that
is wrong and why, and flags possible duplicates (within the file and against the registry).
``import_file`` writes the checked rows in one transaction, through the same services as the
workspace, so each person gets their own data key and encrypted fields; it refuses a file
with any invalid line unless told to import only the valid ones. A problem with the file as
a whole (not UTF-8, wrong delimiter, unknown columns, too many lines, a huge cell) raises
``ImportRefused`` and nothing is read further.

Line numbers are those a spreadsheet shows: the header is line 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit.services import record
from haven.core.models import Mission
from haven.crypto.blindindex import blind_index
from haven.crypto.router import data_and_keys
from haven.registry import services
from haven.registry.models import ContactChannel, Defender, Organisation
from haven.registry.services import ChannelInput

MAX_CELL = 10_000
CHANNEL_COLUMNS = ("phone", "whatsapp", "signal", "email")
COLUMNS = {
    "defenders": (
        "name",
        "known_as",
        "country",
        "region",
        "place",
        "actor_type",
        "work_focus",
        "visibility",
        *CHANNEL_COLUMNS,
        "preferred_channel",
        "notes",
    ),
    "organisations": (
        "name",
        "kind",
        "country",
        "region",
        "work_focus",
        "visibility",
        "phone",
        "email",
        "notes",
    ),
}
REQUIRED = {"defenders": ("name",), "organisations": ("name", "kind")}
MODELS: dict[str, type[Defender] | type[Organisation]] = {
    "defenders": Defender,
    "organisations": Organisation,
}
Progress = Callable[[int], None]


class ImportRefused(Exception):
    """The file as a whole cannot be read; the message says what and where."""


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str


@dataclass
class Row:
    line: int
    values: dict[str, Any]
    channels: list[ChannelInput]


@dataclass
class Duplicate:
    line: int
    reasons: list[str]
    other_line: int | None = None
    existing_id: int | None = None

    def message(self) -> str:
        because = ", ".join(
            str(services.PossibleDuplicate.REASON_LABELS[reason]) for reason in self.reasons
        )
        if self.other_line is not None:
            return _("Possible duplicate of line %(line)d (%(because)s).") % {
                "line": self.other_line,
                "because": because,
            }
        return _("Possible duplicate of a record already in the registry (%(because)s).") % {
            "because": because
        }


@dataclass
class ImportReport:
    kind: str
    lines: int = 0
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def invalid_lines(self) -> int:
        return len({problem.line for problem in self.problems})

    @property
    def valid(self) -> bool:
        return not self.problems


# -- reading the file


def _text(data: bytes) -> str:
    if len(data) > settings.HAVEN_UPLOAD_MAX_BYTES:
        raise ImportRefused(
            _("The file is larger than %(size)d MB. Split it into smaller files.")
            % {"size": settings.HAVEN_UPLOAD_MAX_BYTES // (1024 * 1024)}
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused(
            _(
                "The file is not UTF-8 text (line %(line)d has a character in another encoding). "
                "Save it as “CSV UTF-8” and try again."
            )
            % {"line": line}
        ) from None


def _header(cells: list[str], kind: str) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    expected = COLUMNS[kind]
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        separator = _("semicolons") if ";" in names[0] else _("tabs")
        raise ImportRefused(
            _(
                "Line 1: the columns are separated by %(separator)s. Save the file with commas "
                "between columns (“CSV UTF-8, comma-separated”)."
            )
            % {"separator": separator}
        )
    missing = [name for name in REQUIRED[kind] if name not in names]
    if missing:
        raise ImportRefused(
            _(
                "Line 1 must name the columns, and it has no “%(missing)s” column. "
                "The columns are: %(columns)s."
            )
            % {"missing": missing[0], "columns": ", ".join(expected)}
        )
    unknown = [name for name in names if name not in expected]
    if unknown:
        raise ImportRefused(
            _("Line 1: unknown columns %(unknown)s. The columns are: %(columns)s.")
            % {
                "unknown": ", ".join(f"“{name}”" for name in unknown),
                "columns": ", ".join(expected),
            }
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ImportRefused(
            _("Line 1: the column “%(name)s” appears twice.") % {"name": repeated[0]}
        )
    return names


def _records(text: str, kind: str) -> Iterator[tuple[int, dict[str, str] | None, int, int]]:
    """(line, cells by column or None if the cell count is wrong, cell count, header's count)
    per data line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 0
    try:
        header: list[str] | None = None
        for cells in reader:
            line += 1
            if header is None:
                header = _header(cells, kind)
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, as spreadsheets leave at the end
            if line - 1 > settings.HAVEN_IMPORT_MAX_ROWS:
                raise ImportRefused(
                    _("The file has more than %(rows)d lines. Split it into smaller files.")
                    % {"rows": settings.HAVEN_IMPORT_MAX_ROWS}
                )
            if len(cells) != len(header):
                yield line, None, len(cells), len(header)
            else:
                yield line, dict(zip(header, cells, strict=True)), len(cells), len(header)
        if header is None:
            raise ImportRefused(_("The file is empty."))
    except csv.Error as error:
        raise ImportRefused(
            _("Line %(line)d cannot be read as CSV (%(error)s). Check quotes and cell sizes.")
            % {"line": line + 1, "error": error}
        ) from None


# -- checking each line


def _codes(raw: str) -> list[str]:
    return [code.strip() for code in raw.replace(",", ";").split(";") if code.strip()]


def _row(line: int, cells: dict[str, str], kind: str, mission: Mission) -> Row | list[Problem]:
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for column, raw in cells.items():
        cell = raw.strip()
        if len(cell) > MAX_CELL:
            problems.append(
                Problem(
                    line,
                    column,
                    _("The cell is longer than %(limit)d characters.") % {"limit": MAX_CELL},
                )
            )
        elif column in CHANNEL_COLUMNS or column == "preferred_channel":
            continue
        elif column == "work_focus":
            values[column] = _codes(cell)
        elif column == "known_as":
            values[column] = "\n".join(_codes(cell))
        elif cell or column in REQUIRED[kind]:
            values[column] = cell
    channels: list[ChannelInput] = []
    preferred = cells.get("preferred_channel", "").strip().lower()
    for column in CHANNEL_COLUMNS:
        value = cells.get(column, "").strip()
        if not value or len(value) > MAX_CELL:
            continue
        try:
            value = services.clean_channel_value(column, value, quote=False)
        except ValidationError as error:
            problems.append(Problem(line, column, " ".join(error.messages)))
            continue
        channels.append(ChannelInput(column, value, preferred=column == preferred))
    if preferred and preferred not in {channel.channel_type for channel in channels}:
        problems.append(
            Problem(
                line,
                "preferred_channel",
                _("“%(value)s” is not one of this line's filled channel columns (%(columns)s).")
                % {"value": preferred[:40], "columns": ", ".join(CHANNEL_COLUMNS)},
            )
        )
    if not problems:
        try:
            services.validate_entry(MODELS[kind], mission=mission, values=values)
        except ValidationError as error:
            for column, messages in error.message_dict.items():
                problems.extend(Problem(line, column, message) for message in messages)
    return problems or Row(line, values, channels)


def _lookups(row: Row) -> list[tuple[str, str]]:
    found = [("name", blind_index(str(row.values.get("name", "")), "name"))]
    found += services.channel_lookups(row.channels)
    return [(kind, index) for kind, index in found if index]


def _flag_duplicates(report: ImportReport, mission: Mission) -> None:
    """Possible duplicates within the file, then against the registry, in a few queries."""
    model = MODELS[report.kind]
    first_seen: dict[str, int] = {}
    found: dict[int, Duplicate] = {}
    for row in report.rows:
        for kind, index in _lookups(row):
            if index in first_seen:
                duplicate = found.setdefault(row.line, Duplicate(row.line, [], first_seen[index]))
                if kind not in duplicate.reasons:
                    duplicate.reasons.append(kind)
            else:
                first_seen[index] = row.line
    name_indexes = [index for index in first_seen if index]
    known_names: dict[str, int] = {}
    known_channels: dict[str, int] = {}
    owner = "defender" if model is Defender else "organisation"
    for start in range(0, len(name_indexes), 500):
        chunk = name_indexes[start : start + 500]
        known_names.update(
            model.objects.filter(mission=mission, name_index__in=chunk).values_list(
                "name_index", "pk"
            )
        )
        known_channels.update(
            ContactChannel.objects.filter(mission=mission, lookup__in=chunk)
            .filter(**{f"{owner}__isnull": False})
            .values_list("lookup", f"{owner}_id")
        )
    for row in report.rows:
        if row.line in found:
            continue
        reasons: list[str] = []
        existing: int | None = None
        for kind, index in _lookups(row):
            match = known_names.get(index) if kind == "name" else known_channels.get(index)
            if match is not None:
                existing = existing or match
                if kind not in reasons:
                    reasons.append(kind)
        if reasons:
            found[row.line] = Duplicate(row.line, reasons, existing_id=existing)
    report.duplicates = [found[line] for line in sorted(found)]


def check_file(
    *, data: bytes, kind: str, mission: Mission, progress: Progress | None = None
) -> ImportReport:
    """Read and check every line, writing nothing. Raises ``ImportRefused`` for the file."""
    if kind not in COLUMNS:
        raise ImportRefused(_("Choose what the file holds: defenders or organisations."))
    report = ImportReport(kind)
    for line, cells, count, expected in _records(_text(data), kind):
        report.lines += 1
        if cells is None:
            report.problems.append(
                Problem(
                    line,
                    "",
                    _("The line has %(count)d cells; the header has %(expected)d.")
                    % {"count": count, "expected": expected},
                )
            )
        else:
            checked = _row(line, cells, kind, mission)
            if isinstance(checked, Row):
                report.rows.append(checked)
            else:
                report.problems.extend(checked)
        if progress is not None:
            progress(1)
    if report.lines == 0:
        raise ImportRefused(_("The file has a header but no data lines."))
    _flag_duplicates(report, mission)
    return report


# -- writing


def import_file(
    *,
    report: ImportReport,
    mission: Mission,
    actor: User | None,
    only_valid: bool = False,
    progress: Progress | None = None,
) -> int:
    """Create every checked row in one transaction; returns how many were created.

    Refuses (``ImportRefused``) when any line is invalid, unless ``only_valid``.
    """
    if report.problems and not only_valid:
        raise ImportRefused(
            _(
                "%(count)d lines have problems, so nothing was imported. Correct them, or "
                "choose to import only the valid lines."
            )
            % {"count": report.invalid_lines}
        )
    create = (
        services.create_defender if report.kind == "defenders" else services.create_organisation
    )
    # The key store is another database: a failure inside leaves neither rows nor keys, and
    # one between the two commits (keys first) leaves unused keys, never rows without a key.
    with data_and_keys():
        for row in report.rows:
            create(
                mission=mission,
                actor=actor,
                channels=row.channels,
                allow_duplicates=True,
                audit=False,
                **row.values,
            )
            if progress is not None:
                progress(1)
        record(
            action="registry.imported",
            actor=actor,
            mission=mission,
            object_type=f"registry.{MODELS[report.kind]._meta.model_name}",
            fields=sorted({*COLUMNS[report.kind]}),
            reason=(
                f"CSV import: {len(report.rows)} created, {report.invalid_lines} invalid lines "
                f"skipped, {len(report.duplicates)} possible duplicates"
            ),
        )
    return len(report.rows)
