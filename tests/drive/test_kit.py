"""The drive's parts of the module kit: unified search (names and extracted text, only
what the principal reaches), its part of the organisation export, ``hexagone drive
export|import|sweep`` as commands, and the demo organisation's files."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from hexagone.core.db import org_session, utcnow
from hexagone.core.export import export_organisation
from hexagone.drive import org_export, search, service
from hexagone.drive.models import ExtractedText, Node
from tests.commands import hexagone
from tests.drive.factories import make_drive_org, make_member, own_drive, put, read
from tests.factories import make_space, make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")


async def test_search_finds_names_and_extracted_text_only_where_the_principal_reads() -> None:
    org = await make_drive_org()
    _o, owner = await make_member(org)
    _f, friend = await make_member(org)
    drive = await own_drive(owner)
    async with org_session(org.id, write=True) as db:
        folder = await service.create_folder(db, owner, drive.root_id, "Budget 2027")
        await db.commit()
    sheet = await put(owner, folder.id, "prévisions_budget.ods", b"ods")
    # a kind the extraction job does not read: its text is written here, and no job of a
    # test server's worker writes one first
    memo = await put(owner, drive.root_id, "memo.dat", b"%PDF")
    old = await put(owner, drive.root_id, "budget-ancien.txt")
    async with org_session(org.id, write=True) as db:
        db.add(
            ExtractedText(org_id=org.id, version_id=memo.version_id, node_id=memo.id, text="Le BUDGET de l'an prochain")
        )
        await service.trash(db, owner, old.id)
        await db.commit()
    hits = await search.files(owner, "budget", 20)
    assert {h.title for h in hits} == {"Budget 2027", "prévisions_budget.ods", "memo.dat"}
    assert {h.url for h in hits if h.title == "prévisions_budget.ods"} == {f"/drive/files/{sheet.id}"}
    assert [h.subtitle for h in hits if h.title == "prévisions_budget.ods"] == ["Budget 2027"]
    assert [h.title for h in await search.files(owner, "_", 20)] == ["prévisions_budget.ods"]  # literal
    assert await search.files(owner, "%", 20) == []
    assert await search.files(friend, "budget", 20) == []
    async with org_session(org.id, write=True) as db:
        await service.share(db, owner, folder.id, "reader", user_id=friend.user_id)
        await db.commit()
    assert {h.title for h in await search.files(friend, "budget", 20)} == {"Budget 2027", "prévisions_budget.ods"}
    _s, stranger = await make_member()
    assert await search.files(stranger, "budget", 20) == []


async def test_org_export_holds_every_drive_with_files_versions_and_metadata(tmp_path: Path) -> None:
    org = await make_drive_org()
    owner_user, owner = await make_member(org)
    space = await make_space(owner_user)
    owner = await principal(owner_user)
    mine = await own_drive(owner)
    async with org_session(org.id, write=True) as db:
        folder = await service.create_folder(db, owner, mine.root_id, "Dossiers")
        theirs = await service.drive_of_space(db, owner, space.id)
        await db.commit()
    doc = await put(owner, folder.id, "note.txt", b"v1")
    await put(owner, folder.id, "note.txt", b"v2")
    binned = await put(owner, mine.root_id, "binned.txt", b"bin")
    await put(owner, theirs.root_id, "commun.txt", b"shared")
    async with org_session(org.id, write=True) as db:
        await service.set_tags(db, owner, doc.id, ["Important"])
        await service.set_description(db, owner, doc.id, "Une note")
        await service.trash(db, owner, binned.id)
        await db.commit()
    target = tmp_path / "org.zip"
    await export_organisation([("drive", org_export.export_organisation)], org.id, {}, target)
    with zipfile.ZipFile(target) as archive:
        index = json.loads(archive.read("drive/drives.json"))
        base = f"drive/users/{owner.email}"
        assert archive.read(f"{base}/files/Dossiers/note.txt") == b"v2"
        assert archive.read(f"drive/spaces/{space.id}/files/commun.txt") == b"shared"
        nodes = {n["path"]: n for n in json.loads(archive.read(f"{base}/nodes.json"))}
        old = next(v for v in nodes["Dossiers/note.txt"]["versions"] if not v["current"])
        assert archive.read(f"{base}/{old['file']}") == b"v1"
        assert nodes["binned.txt"]["in_trash"] and f"{base}/files/binned.txt" not in archive.namelist()
    assert {e["folder"] for e in index} == {f"users/{owner.email}", f"spaces/{space.id}"}
    assert (
        nodes["Dossiers/note.txt"]["tags"] == ["Important"] and nodes["Dossiers/note.txt"]["description"] == "Une note"
    )


async def test_drive_import_copies_a_tree_once_and_export_gives_it_back(tmp_path: Path) -> None:
    user, me = await make_member()
    source = tmp_path / "serveur"
    (source / "Comptabilité" / "2027").mkdir(parents=True)
    (source / "Comptabilité" / "2027" / "bilan.ods").write_bytes(b"bilan" * 1000)
    (source / "lisez-moi.txt").write_text("Bonjour")
    (source / "CON").write_text("refusé")
    (source / "lien").symlink_to(source / "lisez-moi.txt")
    first = hexagone("drive", "import", str(source), "--user", user.email, "--into", "Archives", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["created"], report["updated"], report["folders"]) == (2, 0, 2), report
    assert any(line.startswith("CON:") for line in report["skipped"]), report["skipped"]
    assert any(line.startswith("lien:") for line in report["skipped"])
    (source / "lisez-moi.txt").write_text("Bonjour à tous")
    again = json.loads(
        hexagone("drive", "import", str(source), "--user", user.email, "--into", "Archives", "--json").stdout
    )
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 1)
    drive = await own_drive(me)
    async with org_session(me.org_id) as db:
        readme = await service.resolve_path(db, me, drive.id, "Archives/lisez-moi.txt")
        assert len(await service.versions(db, me, readme.id)) == 2
    assert await read(me, readme.id) == "Bonjour à tous".encode()

    target = tmp_path / "mine.zip"
    exported = hexagone("drive", "export", str(target), "--user", user.email, "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["files"] == 2 and json.loads(exported.stdout)["versions"] == 3
    with zipfile.ZipFile(target) as archive:
        assert archive.read(f"drive/users/{user.email}/files/Archives/Comptabilité/2027/bilan.ods") == b"bilan" * 1000
    refused = hexagone("drive", "export", str(target), "--user", user.email)
    assert refused.returncode == 2 and "already exists" in refused.stderr
    nobody = hexagone("drive", "import", str(source), "--user", "nobody@nowhere.test")
    assert nobody.returncode == 2 and "no active user" in nobody.stderr


async def test_drive_export_of_a_space_needs_its_membership(tmp_path: Path) -> None:
    org = await make_drive_org()
    owner = await make_user(org)
    outsider = await make_user(org)
    space = await make_space(owner)
    refused = hexagone("drive", "export", str(tmp_path / "s.zip"), "--user", outsider.email, "--space", str(space.id))
    assert refused.returncode == 2 and not (tmp_path / "s.zip").exists()
    done = hexagone("drive", "export", str(tmp_path / "s.zip"), "--user", owner.email, "--space", str(space.id))
    assert done.returncode == 0, done.stderr


async def test_drive_sweep_applies_the_trash_period_now() -> None:
    org = await make_drive_org()
    _u, me = await make_member(org)
    drive = await own_drive(me)
    doc = await put(me, drive.root_id, "old.txt")
    async with org_session(org.id, write=True) as db:
        await service.trash(db, me, doc.id)
        await db.execute(update(Node).where(Node.id == doc.id).values(trashed_at=utcnow() - timedelta(days=40)))
        await db.commit()
    swept = hexagone("drive", "sweep", org.domain, "--json")
    assert swept.returncode == 0, swept.stderr
    assert json.loads(swept.stdout) == {"versions_pruned": 0, "purged": 1}
    async with org_session(org.id) as db:
        assert await service.in_trash(db, me, drive.id) == []
    assert (await own_drive(me)).used_bytes == 0
