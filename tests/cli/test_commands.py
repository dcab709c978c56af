"""The ``hexagone`` command as an administrator scripts it: JSON out, clear errors."""

from __future__ import annotations

import json
import uuid

import httpx

from tests.commands import hexagone
from tests.conftest import server_env
from tests.factories import TestUser, login


def test_org_and_user_create_print_one_json_object_each(migrated: None) -> None:
    domain = f"cli-{uuid.uuid4().hex[:8]}.test"
    org = hexagone("org", "create", "--name", "Mairie de Test", "--domain", domain, "--json")
    assert org.returncode == 0, org.stderr
    org_payload = json.loads(org.stdout)
    assert org_payload["domain"] == domain and uuid.UUID(org_payload["id"])
    user = hexagone(
        "user", "create", "--org", domain, "--email", f"maire@{domain}", "--name", "Le Maire", "--admin", "--json"
    )
    assert user.returncode == 0, user.stderr
    payload = json.loads(user.stdout)
    assert payload["role"] == "admin" and len(payload["password"]) >= 12


async def test_user_create_reads_the_password_from_stdin(client: httpx.AsyncClient) -> None:
    domain = f"cli-{uuid.uuid4().hex[:8]}.test"
    org_id = json.loads(hexagone("org", "create", "--name", "X", "--domain", domain, "--json").stdout)["id"]
    created = hexagone(
        "user",
        "create",
        "--org",
        domain,
        "--email",
        f"a@{domain}",
        "--name",
        "A",
        "--json",
        stdin="Stdin-password-123\n",
    )
    payload = json.loads(created.stdout)
    assert "password" not in payload
    await login(
        client,
        TestUser(
            id=uuid.UUID(payload["id"]),
            org_id=uuid.UUID(org_id),
            email=f"a@{domain}",
            password="Stdin-password-123",
            role="user",
        ),
    )
    assert (await client.get("/api/v1/me")).json()["email"] == f"a@{domain}"


def test_create_errors_are_messages_with_exit_code_2(migrated: None) -> None:
    bad_domain = hexagone("org", "create", "--name", "X", "--domain", "not a domain", "--json")
    assert bad_domain.returncode == 2 and "not a valid domain" in bad_domain.stderr
    assert "Traceback" not in bad_domain.stderr
    no_org = hexagone("user", "create", "--org", "absent.test", "--email", "a@absent.test", "--name", "A")
    assert no_org.returncode == 2 and "absent.test" in no_org.stderr


def test_demo_is_idempotent_and_prints_the_logins(migrated: None) -> None:
    first = hexagone("demo", "--json")
    second = hexagone("demo", "--json")
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    payload = json.loads(second.stdout)
    assert payload["created"] is False
    assert payload["users"] == [
        "alice@demo.hexagone.test",
        "bob@demo.hexagone.test",
        "carol@demo.hexagone.test",
        "guest@partner.test",
    ]


async def test_demo_users_sign_in_with_the_demo_password(client: httpx.AsyncClient) -> None:
    hexagone("demo")
    alice = TestUser(
        id=uuid.uuid4(),
        org_id=uuid.uuid4(),
        email="alice@demo.hexagone.test",
        password=server_env()["HEXAGONE_DEMO_PASSWORD"],
        role="admin",
    )
    await login(client, alice)
    me = (await client.get("/api/v1/me")).json()
    assert me["role"] == "admin" and me["organisation"]["name"] == "Démo"
    assert [s["name"] for s in me["spaces"]] == ["Projet Alpha"]


def test_a_module_from_hexagone_modules_contributes_its_commands(migrated: None) -> None:
    listed = hexagone("--help")
    assert listed.returncode == 0 and "sample" in listed.stdout
    ran = hexagone("sample", "modules")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["identity", "mail", "calendar", "drive", "chat", "sample"]
