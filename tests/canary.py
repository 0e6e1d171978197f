"""The canary scan: plant unique tokens, then look for them everywhere data could leak.

Each token is searched as UTF-8, UTF-16LE, base64 (at every byte alignment), URL-encoded,
JSON-escaped and lower case, in the database files (SQLite main file, ``-wal`` and ``-shm``),
a ``pg_dump`` on PostgreSQL, and any extra folders given (media, logs, temporary files).
Tokens carry non-ASCII characters so that the encodings really differ.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from django.db import connections

MAX_FILE = 512 * 1024 * 1024


def new_token(label: str = "") -> str:
    """A token no real data contains: random hex around characters outside ASCII."""
    return f"Cny{label}Ä{secrets.token_hex(8).upper()}ç"


def variants(token: str) -> dict[str, bytes]:
    raw = token.encode("utf-8")
    found = {
        "utf-8": raw,
        "utf-16le": token.encode("utf-16le"),
        "url": quote(token).encode("ascii"),
        "url-plus": quote_plus(token).encode("ascii"),
        "json": json.dumps(token)[1:-1].encode("ascii"),
        "lower": token.lower().encode("utf-8"),
    }
    # Base64 of the token inside a longer value depends on its offset modulo 3: drop the
    # characters that mix with neighbouring bytes and keep the stable middle.
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw)
        start = 4 * ((offset + 2) // 3)
        end = len(encoded) - 4
        found[f"base64+{offset}"] = encoded[start:end]
        found[f"base64url+{offset}"] = base64.urlsafe_b64encode(b"\0" * offset + raw)[start:end]
    return found


@dataclass(frozen=True)
class Hit:
    token: str
    encoding: str
    where: str


def _search(blob: bytes, where: str, tokens: Iterable[str]) -> list[Hit]:
    hits = []
    for token in tokens:
        for encoding, needle in variants(token).items():
            if needle and needle in blob:
                hits.append(Hit(token, encoding, where))
    return hits


def database_blobs() -> dict[str, bytes]:
    """Every byte the databases hold (the data and the key store), as stored: SQLite files,
    or a pg_dump of each."""
    blobs: dict[str, bytes] = {}
    for alias in connections:
        connection = connections[alias]
        if connection.vendor == "sqlite":
            name = str(connection.settings_dict["NAME"])
            if connection.is_in_memory_db():
                raise AssertionError("the canary scan needs file-backed SQLite test databases")
            for suffix in ("", "-wal", "-shm", "-journal"):
                path = Path(name + suffix)
                if path.exists():
                    blobs[f"{alias}:{path.name}"] = path.read_bytes()
        elif connection.vendor == "postgresql":
            params = connection.get_connection_params()
            env = {**os.environ, "PGPASSWORD": str(params.get("password") or "")}
            command = ["pg_dump", "--no-owner", "-d", str(params["dbname"])]
            for flag, key in (("-h", "host"), ("-p", "port"), ("-U", "user")):
                if params.get(key):
                    command += [flag, str(params[key])]
            dump = subprocess.run(command, env=env, capture_output=True, check=True, timeout=300)
            blobs[f"{alias}:pg_dump"] = dump.stdout
        else:
            raise AssertionError(f"no canary scan for {connection.vendor}")
    return blobs


def scan(tokens: Iterable[str], folders: Iterable[Path] = ()) -> list[Hit]:
    """All places where any token shows up; an empty list is a pass."""
    tokens = list(tokens)
    hits: list[Hit] = []
    for where, blob in database_blobs().items():
        hits += _search(blob, where, tokens)
    for folder in folders:
        if not folder.exists():
            continue
        for path in [folder] if folder.is_file() else folder.rglob("*"):
            if path.is_file() and path.stat().st_size <= MAX_FILE:
                hits += _search(path.read_bytes(), str(path), tokens)
    return hits
