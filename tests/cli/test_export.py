"""``hexagone org export``: one zip holding an organisation's data, in open formats, and
nothing of any other organisation."""

from __future__ import annotations

import json
import mailbox
import uuid
import zipfile
from pathlib import Path

from hexagone.core.db import org_session
from hexagone.identity.models import OrgRole
from hexagone.identity.service import groups
from tests.cli.test_commands import hexagone
from tests.factories import TestOrg, TestUser, make_space, make_user, principal, unique
from tests.mail.factories import deliver, make_mail_org, make_message


async def _populated_org() -> tuple[TestOrg, TestUser, TestUser]:
    org = await make_mail_org()
    admin = await make_user(org, role=OrgRole.ADMIN, mfa=True)
    member = await make_user(org)
    await make_space(admin, members={member: "member"}, name=unique("Space "))
    actor = await principal(admin)
    async with org_session(org.id) as db:
        group = await groups.create_group(db, actor, name=unique("Group "))
        await groups.add_to_group(db, actor, group, member.id)
        await db.commit()
    return org, admin, member


def _read_json(archive: zipfile.ZipFile, name: str) -> object:
    return json.loads(archive.read(name))


async def test_org_export_writes_the_manifest_identity_as_json_and_each_mailbox_as_mbox(
    migrated: None, tmp_path: Path
) -> None:
    org, admin, member = await _populated_org()
    await deliver(member, make_message(subject="Bonjour de la mairie", body="Le conseil a lieu mardi.\n"))
    await deliver(member, make_message(subject="Compte rendu"), folder="Archive", flags=("\\Seen",))
    target = tmp_path / "export.zip"

    done = hexagone("org", "export", org.domain, str(target), "--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["modules"] == ["identity", "mail"]
    with zipfile.ZipFile(target) as archive:
        manifest = _read_json(archive, "manifest.json")
        assert manifest["format"] == 1 and manifest["modules"] == ["identity", "mail"]  # type: ignore[index]
        assert manifest["organisation"] == {"id": str(org.id), "name": org.name, "domain": org.domain}  # type: ignore[index]
        assert _read_json(archive, "identity/organisation.json")["domains"] == [org.domain]  # type: ignore[index]
        users = {user["email"]: user for user in _read_json(archive, "identity/users.json")}  # type: ignore[union-attr]
        assert set(users) == {admin.email, member.email}
        assert users[admin.email]["role"] == "admin" and users[admin.email]["mfa_enabled"] is True
        assert not {"password_hash", "totp_secret"} & set(users[admin.email])
        assert admin.password not in archive.read("identity/users.json").decode()
        [group] = _read_json(archive, "identity/groups.json")  # type: ignore[misc]
        assert group["members"] == [member.email]
        [space] = _read_json(archive, "identity/spaces.json")  # type: ignore[misc]
        assert space["members"] == sorted(
            [{"email": admin.email, "role": "owner"}, {"email": member.email, "role": "member"}],
            key=lambda m: m["email"],
        )
        archive.extractall(tmp_path / "unpacked")
    mail_dir = tmp_path / "unpacked" / "mail" / member.email
    inbox = mailbox.mbox(mail_dir / "INBOX.mbox", create=False)
    [message] = list(inbox)
    assert message["Subject"] == "Bonjour de la mairie"
    assert "Le conseil a lieu mardi." in message.get_payload()
    [archived] = list(mailbox.mbox(mail_dir / "Archive.mbox", create=False))
    assert archived["Subject"] == "Compte rendu" and "R" in archived.get_flags()
    assert (mail_dir / "Sent.mbox").exists()  # empty folders are kept


async def test_org_export_never_includes_another_organisations_data(migrated: None, tmp_path: Path) -> None:
    ours, _admin, _member = await _populated_org()
    theirs, their_admin, their_member = await _populated_org()
    await deliver(their_member, make_message(subject="Confidentiel ailleurs"))
    target = tmp_path / "ours.zip"

    assert hexagone("org", "export", ours.domain, str(target)).returncode == 0

    with zipfile.ZipFile(target) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
        names = archive.namelist()
    for foreign in (theirs.domain, str(theirs.id), their_admin.email, their_member.email, "Confidentiel ailleurs"):
        assert foreign.encode() not in everything and not any(foreign in name for name in names)


def test_org_export_of_an_unknown_domain_is_refused_with_a_message(migrated: None, tmp_path: Path) -> None:
    target = tmp_path / "none.zip"

    refused = hexagone("org", "export", f"{uuid.uuid4().hex[:8]}.absent.test", str(target))

    assert refused.returncode == 2 and "No organisation has the domain" in refused.stderr
    assert "Traceback" not in refused.stderr and not target.exists()


async def test_org_export_never_overwrites_an_existing_file(migrated: None, tmp_path: Path) -> None:
    org, _admin, _member = await _populated_org()
    target = tmp_path / "taken.zip"
    target.write_bytes(b"precious")

    refused = hexagone("org", "export", org.domain, str(target))

    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert target.read_bytes() == b"precious"
