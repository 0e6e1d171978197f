"""Measure the portal on this machine: requests sent per second with one attachment (through
Django's request handling, the production receipt cost), and memory growth for one upload
of 25 MB.

    .venv/bin/python bench/intake.py [--requests 100] [--database-url postgresql://...]

Throwaway databases, keys and media in a temporary folder (SQLite by default). Sequential,
in one process: the figure is the server's work per request, not a load test.
"""

from __future__ import annotations

import argparse
import io
import os
import time

from harness import server_memory_for_upload, throwaway_instance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    throwaway_instance(args.database_url)
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connections
    from django.test import Client
    from PIL import Image

    from haven.core.models import Mission
    from haven.intake import tokens
    from haven.intake.models import Submission

    settings.ALLOWED_HOSTS = ["*"]
    Mission.objects.create(
        name="Bench",
        slug="bench",
        country="KE",
        portal_receipt_limit=10**6,
        portal_hourly_limit=10**6,
    )
    photo = io.BytesIO()
    Image.effect_noise((1200, 900), 64).convert("RGB").save(photo, format="JPEG", quality=85)
    answers = {"kind": "help", "at_risk": "me", "description": "They came at night. " * 20}
    client = Client()
    start = time.perf_counter()
    for _ in range(args.requests):
        upload = SimpleUploadedFile("photo.jpg", photo.getvalue())
        token = tokens.issue("request")
        response = client.post(
            "/request/", {**answers, "form_token": token, "attachments": [upload]}
        )
        assert response.status_code == 200 and b"secret receipt" in response.content
    seconds = time.perf_counter() - start
    assert Submission.objects.count() == args.requests

    results = [
        ("database", connections["default"].vendor),
        (
            "receipt KDF",
            f"Argon2id ops={settings.HAVEN_RECEIPT_KDF_OPSLIMIT}, "
            f"mem={settings.HAVEN_RECEIPT_KDF_MEMLIMIT // 2**20} MiB",
        ),
        (
            f"requests sent with one {len(photo.getvalue()) // 1024} KiB JPEG",
            f"{args.requests / seconds:.1f}/s ({seconds / args.requests * 1000:.0f} ms each)",
        ),
    ]
    for kind, head in (("video, kept as sent", b"\x00\x00\x00\x18ftypmp42"), ("text", b"")):
        filler = os.urandom(1024).hex().encode() if kind == "text" else os.urandom(2048)
        body = (head + filler * (25 * 2**20 // len(filler)))[: 25 * 2**20 - 4096]
        measured = server_memory_for_upload(answers, body)
        assert measured["accepted"], measured["status"]
        python_peak, rss_growth = measured["python_peak_mib"], measured["rss_growth_mib"]
        results.append(
            (
                f"one 25 MB upload ({kind}), server side",
                f"Python peak {python_peak:.1f} MiB, max RSS growth {rss_growth:.1f} MiB",
            )
        )
    print("| measure | result |\n|---|---|")
    for name, value in results:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
