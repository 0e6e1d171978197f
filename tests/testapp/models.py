"""Test-only models. They have no migrations: the test runner creates their tables."""
