"""Password hashing: production keeps RFC 9106's argon2id profile; the cost is a setting
only so that the test harness can make hashing cheap, and hashes of another cost still
verify (and are re-hashed at the next sign-in)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY

from hexagone.core.config import Settings, get_settings
from hexagone.core.security import hash_password, password_needs_rehash, verify_password


def test_password_hash_cost_by_default_is_rfc_9106_low_memory_profile() -> None:
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert defaults["password_hash_time_cost"] == RFC_9106_LOW_MEMORY.time_cost == 3
    assert defaults["password_hash_memory_kib"] == RFC_9106_LOW_MEMORY.memory_cost == 65536
    assert defaults["password_hash_parallelism"] == RFC_9106_LOW_MEMORY.parallelism == 4


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
