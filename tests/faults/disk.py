"""A small filesystem of the test's own that can be filled: tmpfs, mounted by root.

ENOSPC is only honest when the kernel says it: a tmpfs of a few hundred kilobytes is mounted
over a folder, filled with a filler file until a write fails, and emptied again to give the
space back. Mounting needs root (as CI runs); elsewhere ``small_filesystem`` skips, saying so.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_filesystem(folder: Path, *, kilobytes: int = 512) -> Iterator[Path]:
    """A tmpfs of ``kilobytes`` mounted on ``folder`` for the length of the block."""
    folder.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip(
            "a full disk needs a tmpfs of its own, and mounting one needs root (as CI runs)"
        )
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={kilobytes}k,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"this sandbox refuses to mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a filler file in ``folder`` until the kernel answers ENOSPC; returns it."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
    return filler


def files_under(folder: Path, *, besides: tuple[Path, ...] = ()) -> list[Path]:
    """Every regular file under ``folder``, except the ones named."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p not in besides)
