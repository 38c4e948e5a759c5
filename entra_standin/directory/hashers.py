from django.contrib.auth.hashers import PBKDF2PasswordHasher


class StandinPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with fewer rounds: demo passwords and dev client secrets, checked many times in
    tests. The stored hash records its rounds, so the default hasher still verifies it."""

    iterations = 20_000
