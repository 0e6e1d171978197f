from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 with test-sized costs; production settings never list it."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1
