"""Measure the crypto layer on this machine: field encryption and decryption, data-key
creation, blind indexes, streaming a 100 MB file, and (when present) key rotation and
emergency destruction at scale.

    .venv/bin/python bench/crypto.py [--keys 100000] [--database-url postgresql://...]

Runs against throwaway databases and keys in a temporary folder (SQLite by default) and
prints a markdown table. Nothing here is asserted: performance is measured, not tested.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from harness import measure_destruction, measure_rotation, throwaway_instance


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def _timed(function: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=20_000, help="field operations to time")
    parser.add_argument("--rows", type=int, default=5_000, help="rows saved and read back")
    parser.add_argument(
        "--keys", type=int, default=100_000, help="data keys for rotation/destruction"
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default SQLite)")
    args = parser.parse_args()

    work = throwaway_instance(args.database_url)
    from django.db import connections

    from haven.core.models import Mission
    from haven.crypto.blindindex import blind_index
    from haven.crypto.cache import key_scope
    from haven.crypto.datakeys import new_data_key
    from haven.crypto.models import DataKey
    from haven.crypto.sealing import create_intake_key
    from haven.crypto.streams import decrypt_stream, encrypt_stream
    from tests.testapp.models import Subject

    results: list[tuple[str, str]] = [("database", connections["default"].vendor)]
    mission = Mission.objects.create(name="Bench", slug="bench", country="KE")

    with key_scope():
        row = Subject(mission=mission, data_key=new_data_key())
        field = Subject._meta.get_field("name")
        plaintext = b"Jane Wanjiru Defender"
        sealed, seconds = _timed(lambda: [field.seal(row, plaintext) for _ in range(args.fields)])
        results.append(("text field encrypt", _rate(args.fields, seconds)))
        _, seconds = _timed(lambda: [field.open(row, s) for s in sealed])
        results.append(("text field decrypt", _rate(args.fields, seconds)))
        _, seconds = _timed(
            lambda: [blind_index(f"+254 700 {i:06d}", "phone") for i in range(args.fields)]
        )
        results.append(("blind index", _rate(args.fields, seconds)))

    def save_rows() -> None:
        for i in range(args.rows):
            Subject.objects.create(
                mission=mission,
                data_key=new_data_key(),
                name=f"Defender {i}",
                phone=f"+254 700 {i:06d}",
                profile={"region": "Rift Valley"},
            )

    _, seconds = _timed(save_rows)
    results.append(("subject saved (new data key + 3 encrypted fields)", _rate(args.rows, seconds)))
    with key_scope():
        _, seconds = _timed(lambda: [s.name for s in Subject.objects.all()])
    results.append(("subject read and decrypted (cold keys)", _rate(args.rows, seconds)))

    intake = create_intake_key(mission)
    source = work / "upload.bin"
    with source.open("wb") as handle:
        chunk = os.urandom(1024 * 1024)
        for _ in range(100):
            handle.write(chunk)
    target = work / "upload.enc"
    tracemalloc.start()
    with source.open("rb") as src, target.open("wb") as dst:
        _, seconds = _timed(
            lambda: encrypt_stream(src, dst, public_key=bytes(intake.public_key), context=b"b")
        )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    results.append(
        ("100 MB file encrypted", f"{seconds:.2f} s, peak memory growth {peak / 2**20:.2f} MiB")
    )
    tracemalloc.start()
    with target.open("rb") as src, open(os.devnull, "wb") as sink:
        _, seconds = _timed(
            lambda: decrypt_stream(src, sink, mission=mission, context=b"b", what="bench")
        )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    results.append(
        ("100 MB file decrypted", f"{seconds:.2f} s, peak memory growth {peak / 2**20:.2f} MiB")
    )

    existing = DataKey.objects.count()
    extra = max(0, args.keys - existing)

    def make_keys() -> None:
        for _ in range(extra):
            new_data_key()

    _, seconds = _timed(make_keys)
    results.append((f"data keys created ({extra:,})", _rate(max(extra, 1), seconds)))

    rotated = measure_rotation()
    results.append(
        (
            f"key rotation: {rotated['keys']:,} keys re-wrapped",
            f"{rotated['seconds']:.2f} s ({_rate(rotated['keys'], rotated['seconds'])})",
        )
    )
    destroyed = measure_destruction()
    results.append(
        (
            f"emergency destruction at {destroyed['data_keys']:,} keys",
            f"{destroyed['seconds'] * 1000:.0f} ms",
        )
    )

    print(f"| measure ({os.cpu_count()} cores) | result |\n|---|---|")
    for name, value in results:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
