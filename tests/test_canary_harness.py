"""The canary scan finds a token in every encoding it promises, and nothing else."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.canary import new_token, scan, variants


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: t.encode("utf-16le"),
        lambda t: base64.b64encode(t.encode()),
        lambda t: base64.b64encode(b"x" + t.encode()),
        lambda t: base64.b64encode(b"xy" + t.encode()),
        lambda t: quote(t).encode(),
        lambda t: json.dumps({"v": t}).encode(),
        lambda t: t.lower().encode(),
    ],
    ids=["utf8", "utf16", "b64", "b64+1", "b64+2", "url", "json", "lower"],
)
def test_scan_finds_each_encoding_in_files(
    encode: Any, tmp_path: Path, transactional_db: Any
) -> None:
    token = new_token()
    (tmp_path / "leak.bin").write_bytes(b"prefix " + encode(token) + b" suffix")
    assert scan([token], [tmp_path])
    assert not scan([new_token()], [tmp_path])


def test_scan_reads_the_database_files(transactional_db: Any) -> None:
    from haven.core.models import Mission

    token = new_token()
    Mission.objects.create(name=token, slug="canary", country="KE")
    hits = scan([token])
    assert hits and all(h.token == token for h in hits)


def test_variants_differ_for_non_ascii_tokens() -> None:
    found = variants(new_token())
    assert len(set(found.values())) >= 8
