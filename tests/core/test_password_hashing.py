"""Password hashing: production uses OWASP's first argon2id configuration (docs/security.md
says why); the cost is a setting so that an operator can raise it and the test harness can
make hashing cheap, and hashes of another cost still verify (and are re-hashed at the next
sign-in)."""

from __future__ import annotations

from argon2 import PasswordHasher

from hexagone.core.config import Settings, get_settings
from hexagone.core.security import hash_password, password_needs_rehash, verify_password

# OWASP Password Storage Cheat Sheet, Argon2id: "m=19456 (19 MiB), t=2, p=1".
OWASP_FIRST = {"password_hash_memory_kib": 19456, "password_hash_time_cost": 2, "password_hash_parallelism": 1}


def test_password_hash_cost_by_default_is_owasp_first_argon2id_configuration() -> None:
    defaults = {name: Settings.model_fields[name].default for name in OWASP_FIRST}
    assert defaults == OWASP_FIRST


def test_password_hash_made_here_carries_the_configured_cost() -> None:
    settings = get_settings()
    made = hash_password("Correct horse battery")
    assert made.startswith("$argon2id$v=19$")
    assert (
        f"m={settings.password_hash_memory_kib},t={settings.password_hash_time_cost},"
        f"p={settings.password_hash_parallelism}$"
    ) in made
    assert verify_password(made, "Correct horse battery")
    assert not verify_password(made, "Correct horse battery!")
    assert not password_needs_rehash(made)


def test_password_hash_of_another_cost_verifies_and_is_due_for_a_rehash() -> None:
    settings = get_settings()
    other = PasswordHasher(
        time_cost=settings.password_hash_time_cost + 1,
        memory_cost=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    ).hash("Correct horse battery")
    assert verify_password(other, "Correct horse battery")
    assert not verify_password(other, "wrong")
    assert password_needs_rehash(other)
