"""Print the PostgreSQL URL the test suite should use; exit 1 if that server does not answer.

``HAVEN_TEST_POSTGRES`` names it; otherwise the local server at 127.0.0.1:5432.
"""

from __future__ import annotations

import os
import sys

import psycopg

DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> int:
    url = os.environ.get("HAVEN_TEST_POSTGRES") or DEFAULT
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        print(f"PostgreSQL at {url} did not answer: {error}", file=sys.stderr)
        return 1
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
