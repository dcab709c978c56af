"""Encryption at rest: a :class:`~hexagone.core.blobs.BlobStore` that seals every blob
before it reaches the backend it wraps (``HEXAGONE_BLOB_ENCRYPTION``), so that whoever
holds the disk or the bucket reads nothing and can change nothing unnoticed.

Three levels of keys (envelope encryption):

- the **master key** (``HEXAGONE_BLOB_MASTER_KEY``) lives only in the configuration; it
  seals the keys of the key ring;
- each **organisation** has its own random key, sealed by the master key and kept in the
  store under ``.keys/org/<org id>`` (outside every key; keys ``org/<org id>/…`` are that
  organisation's); everything else (content-addressed blobs included) is under the
  store's own key, ``.keys/store``. Deleting an organisation's key makes its blobs
  unreadable at once;
- each **blob** has its own random data key, sealed by its organisation's key in the
  blob's header, with the blob's key (its name) as associated data: a blob moved or
  copied over another name by someone with access to the storage does not open.

A blob is ``header ‖ segment₀ ‖ segment₁ ‖ …``; the header (68 bytes) is ``HXB\\x01``, the
organisation key's id (4 bytes), the nonce (12) and the sealed data key (48). Each
segment is 1 MiB of plaintext (the last one 0 to 1 MiB) sealed with AES-256-GCM under the
data key, its nonce the segment's index (11 bytes) and a last-segment flag (1): a segment
moved elsewhere in the blob, taken from another blob, or a blob cut at a segment boundary
fails its tag. The overhead is 16 bytes a MiB; the plaintext size follows from the stored
size, and a range reads and opens only the segments it overlaps. Segments do not bind the
blob's name (the header does, and the data key is the blob's alone), so a copy only
writes a new header and lets the backend copy the segments.

A content-addressed blob (``put`` without a key) is stored under
``sha256/<hmac>`` where the HMAC of the content's SHA-256 is keyed by the store's key: the
same content is still stored once, yet the storage's operator cannot tell whether a file
they know is in it. The :class:`~hexagone.core.blobs.BlobRef` keeps the plaintext's SHA-256.

Changing the master key: set the new one in ``HEXAGONE_BLOB_MASTER_KEY`` and the former
one in ``HEXAGONE_BLOB_MASTER_KEY_PREVIOUS`` on every process, run ``hexagone blobs
rewrap`` (it seals the key ring again, never the blobs), then drop the former key.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hexagone.core.blobs import (
    MAX_PARTS,
    BlobCorrupt,
    BlobNotFound,
    BlobRef,
    BlobStore,
    BlobTooLarge,
    Chunks,
    InvalidRange,
    PartRef,
    Upload,
    Usage,
    WrongMasterKey,
    check_range,
    chunks_of,
    content_key,
    nothing,
)
from hexagone.core.config import Settings, decode_key

SEGMENT = 1 << 20
TAG = 16
SEALED = SEGMENT + TAG
MAGIC = b"HXB\x01"
NONCE = 12
HEADER = len(MAGIC) + 4 + NONCE + 32 + TAG
KEYS = ".keys"
CHECK = f"{KEYS}/master"
STORE_SCOPE = "store"
CLOSING_PART = MAX_PARTS + 1


def master_keys(settings: Settings) -> list[bytes]:
    """The master key, then the one it replaces (still accepted until ``rewrap`` ran)."""
    assert settings.blob_master_key is not None, "Settings refuse encryption without a master key"
    keys = [decode_key(settings.blob_master_key)]
    if settings.blob_master_key_previous is not None:
        keys.append(decode_key(settings.blob_master_key_previous))
    return keys


def fingerprint(master: bytes) -> str:
    """A name for a master key that says nothing of it: which one sealed a key of the ring."""
    return hashlib.sha256(b"hexagone blob master key\0" + master).hexdigest()[:16]


def scope_of(key: str) -> str:
    """Whose key seals a blob: ``org/<id>`` for ``org/<id>/…``, else the store's."""
    first, _, rest = key.partition("/")
    return f"org/{rest.split('/', 1)[0]}" if first == "org" and rest else STORE_SCOPE


def segments_of(stored: int) -> int | None:
    """How many segments a stored blob of this size holds (None: no blob of ours has it)."""
    body = stored - HEADER
    if body < TAG:
        return None
    count = -(-body // SEALED)
    return count if body - (count - 1) * SEALED >= TAG else None


def plain_size(stored: int) -> int | None:
    count = segments_of(stored)
    return None if count is None else stored - HEADER - TAG * count


def sealed_part_size(number: int, size: int) -> int:
    """The stored size of an upload's part of ``size`` plaintext bytes (the first carries the header)."""
    return (HEADER if number == 1 else 0) + size + TAG * max(1, -(-size // SEGMENT))


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(NONCE - 1, "big") + (b"\x01" if final else b"\x00")


class _Sealer:
    """Seals the segments of one stream, counting (and hashing) the plaintext."""

    def __init__(self, aead: AESGCM, index: int = 0, *, hashing: bool = False):
        self.aead, self.index, self.size = aead, index, 0
        self.digest = hashlib.sha256() if hashing else None

    def seal(self, data: bytes, final: bool) -> bytes:
        if self.digest is not None:
            self.digest.update(data)
        self.size += len(data)
        self.index += 1
        return self.aead.encrypt(_nonce(self.index - 1, final), data, None)


async def _sealed(
    chunks: AsyncIterator[bytes], sealer: _Sealer, head: bytes, max_size: int | None, whole: int | None
) -> AsyncIterator[bytes]:
    """``head``, then the stream sealed segment by segment. The last segment is marked
    final unless the stream had exactly ``whole`` bytes (a full part, which more parts
    may follow). A full segment waits for the next byte: only then is it known not to be
    the last."""
    if head:
        yield head
    buffer, total = bytearray(), 0
    async for chunk in chunks:
        total += len(chunk)
        if max_size is not None and total > max_size:
            raise BlobTooLarge(f"blob larger than {max_size} bytes")
        buffer += chunk
        while len(buffer) > SEGMENT:
            yield await asyncio.to_thread(sealer.seal, bytes(memoryview(buffer)[:SEGMENT]), False)
            del buffer[:SEGMENT]
    yield await asyncio.to_thread(sealer.seal, bytes(buffer), whole is None or total < whole)


async def _opened(chunks: Chunks, aead: AESGCM, key: str, index: int, last: int, skip: int, length: int) -> Chunks:
    """The plaintext of the segments from ``index`` on, each checked before any of its
    bytes goes out, without the first ``skip`` bytes and no more than ``length``. Every
    segment the stream holds is opened, the empty final one of an empty blob included."""

    def open_segment(sealed: bytes) -> bytes:
        try:
            return aead.decrypt(_nonce(index, index == last), sealed, None)
        except InvalidTag:
            raise BlobCorrupt(f"blob {key!r}: segment {index} fails its integrity check") from None

    buffer = bytearray()
    try:
        ended = False
        while not ended:
            chunk = await anext(chunks, None)
            ended = chunk is None
            buffer += chunk or b""
            while len(buffer) >= SEALED or (ended and buffer):
                plain = await asyncio.to_thread(open_segment, bytes(memoryview(buffer)[:SEALED]))
                del buffer[:SEALED]
                index += 1
                if out := plain[skip : skip + length]:
                    yield out
                length -= len(out)
                skip = 0
    finally:
        await chunks.aclose()
    if length > 0:
        raise BlobCorrupt(f"blob {key!r} ends before its last segment")


async def _take(chunks: Chunks, count: int, key: str) -> tuple[bytes, bytes]:
    """The first ``count`` bytes of the stream, and what came with them."""
    head = bytearray()
    async for chunk in chunks:
        head += chunk
        if len(head) >= count:
            return bytes(head[:count]), bytes(head[count:])
    raise BlobCorrupt(f"blob {key!r} is shorter than its header")


async def _resumed(head: bytes, rest: Chunks) -> Chunks:
    try:
        if head:
            yield head
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()


class KeyRing:
    """The organisations' keys, kept in the store sealed by the master key, and cached
    here once opened (a key never changes; ``rewrap`` only seals it again)."""

    def __init__(self, store: BlobStore, masters: list[bytes]):
        self.store = store
        self.masters = {fingerprint(master): master for master in masters}
        self.current = fingerprint(masters[0])
        self.keys: dict[str, dict[int, bytes]] = {}
        self.checked = False

    async def _read(self, name: str) -> bytes | None:
        try:
            _size, chunks = await self.store._get(name, 0, None)
        except BlobNotFound:
            return None
        return b"".join([chunk async for chunk in chunks])

    async def _check_master(self) -> None:
        """Refuse a master key that is not this store's before it seals anything: with a
        wrong one, new organisations' keys would be sealed by a key the others never knew."""
        if self.checked:
            return
        record = json.dumps({"master": self.current}).encode()
        found = await self._read(CHECK)
        if found is None and not await self.store._create(CHECK, record):
            found = await self._read(CHECK)
        if found is not None and json.loads(found)["master"] not in self.masters:
            raise WrongMasterKey(
                f"HEXAGONE_BLOB_MASTER_KEY (fingerprint {self.current}) is not the master key of this store "
                f"(fingerprint {json.loads(found)['master']})"
            )
        self.checked = True

    def _seal(self, scope: str, key_id: int, key: bytes) -> dict[str, str]:
        nonce = os.urandom(NONCE)
        sealed = AESGCM(self.masters[self.current]).encrypt(nonce, key, f"{scope}#{key_id}".encode())
        return {"master": self.current, "nonce": nonce.hex(), "sealed": sealed.hex()}

    def _open(self, scope: str, key_id: int, entry: dict[str, str]) -> bytes:
        master = self.masters.get(entry["master"])
        if master is None:
            raise WrongMasterKey(
                f"the key of {scope} is sealed by master key {entry['master']}, not by HEXAGONE_BLOB_MASTER_KEY "
                f"({self.current}) nor HEXAGONE_BLOB_MASTER_KEY_PREVIOUS"
            )
        try:
            return AESGCM(master).decrypt(
                bytes.fromhex(entry["nonce"]), bytes.fromhex(entry["sealed"]), f"{scope}#{key_id}".encode()
            )
        except InvalidTag:
            raise BlobCorrupt(f"the key of {scope} fails its integrity check") from None

    async def scope_keys(self, scope: str, *, create: bool) -> dict[int, bytes]:
        """The keys of ``scope`` by id, created (id 1) on its first blob."""
        if scope in self.keys:
            return self.keys[scope]
        await self._check_master()
        name = f"{KEYS}/{scope}"
        found = await self._read(name)
        if found is None:
            if not create:
                raise BlobCorrupt(f"no key for {scope} in the key ring")
            record = json.dumps({"keys": {"1": self._seal(scope, 1, AESGCM.generate_key(256))}}).encode()
            found = record if await self.store._create(name, record) else await self._read(name)
            assert found is not None, "a key once created is never deleted by a running store"
        entries = json.loads(found)["keys"]
        self.keys[scope] = {int(key_id): self._open(scope, int(key_id), entry) for key_id, entry in entries.items()}
        return self.keys[scope]

    async def current_key(self, scope: str) -> tuple[int, bytes]:
        keys = await self.scope_keys(scope, create=True)
        key_id = max(keys)
        return key_id, keys[key_id]

    async def key(self, scope: str, key_id: int) -> bytes:
        keys = await self.scope_keys(scope, create=False)
        if key_id not in keys:
            raise BlobCorrupt(f"no key {key_id} for {scope} in the key ring")
        return keys[key_id]

    async def rewrap(self) -> int:
        """Seal every key of the ring with the current master key; the number sealed again."""
        await self._check_master()
        count = 0
        for name in await self.store._names(KEYS):
            if name == CHECK:
                continue
            scope = name[len(KEYS) + 1 :]
            found = await self._read(name)
            assert found is not None
            entries = json.loads(found)["keys"]
            stale = [key_id for key_id, entry in entries.items() if entry["master"] != self.current]
            for key_id in stale:
                entries[key_id] = self._seal(scope, int(key_id), self._open(scope, int(key_id), entries[key_id]))
            if stale:
                await self.store._put(chunks_of(json.dumps({"keys": entries}).encode()), name, None, hashing=False)
                count += len(stale)
        await self.store._put(chunks_of(json.dumps({"master": self.current}).encode()), CHECK, None, hashing=False)
        return count


class Encrypted(BlobStore):
    """Seals what goes into ``inner`` and opens what comes out, through its hooks."""

    def __init__(self, inner: BlobStore, masters: list[bytes]):
        self.inner = inner
        self.keys = KeyRing(inner, masters)
        self.part_size = inner.part_size
        assert self.part_size % SEGMENT == 0, "an upload's parts are whole segments"

    async def close(self) -> None:
        await self.inner.close()

    async def _header(self, name: str, data_key: bytes) -> bytes:
        key_id, scope_key = await self.keys.current_key(scope_of(name))
        nonce = os.urandom(NONCE)
        prefix = MAGIC + key_id.to_bytes(4, "big")
        return prefix + nonce + AESGCM(scope_key).encrypt(nonce, data_key, prefix + name.encode())

    async def _data_key(self, name: str, header: bytes) -> bytes:
        if len(header) != HEADER or not header.startswith(MAGIC):
            raise BlobCorrupt(f"blob {name!r} has no header of an encrypted blob")
        scope_key = await self.keys.key(scope_of(name), int.from_bytes(header[4:8], "big"))
        try:
            return AESGCM(scope_key).decrypt(header[8:20], header[20:], header[:8] + name.encode())
        except InvalidTag:
            raise BlobCorrupt(f"blob {name!r}: its key does not open (altered, or moved from another name)") from None

    async def _content_name(self, sha256: str) -> str:
        store_key = (await self.keys.scope_keys(STORE_SCOPE, create=True))[1]  # stable: names never change
        secret = hmac.digest(store_key, b"hexagone content names", "sha256")
        return content_key(hmac.new(secret, sha256.encode(), "sha256").hexdigest())

    async def _put(
        self, chunks: AsyncIterator[bytes], key: str | None, max_size: int | None, hashing: bool = True
    ) -> BlobRef:
        # Content-addressed: sealed under a temporary name, then copied under its own.
        name = key or f".tmp/{uuid.uuid4().hex}"
        data_key = AESGCM.generate_key(256)
        sealer = _Sealer(AESGCM(data_key), hashing=True)
        header = await self._header(name, data_key)
        await self.inner._put(_sealed(chunks, sealer, header, max_size, None), name, None, hashing=False)
        assert sealer.digest is not None
        sha256 = sealer.digest.hexdigest()
        if key is None:
            try:
                key = await self._content_name(sha256)
                if not await self.inner._exists(key):
                    await self._copy(name, key)
            finally:
                await self.inner._delete(name)
        return BlobRef(key=key, size=sealer.size, sha256=sha256)

    async def _get(self, key: str, start: int, end: int | None) -> tuple[int, Chunks]:
        """A whole read is one request to the backend; a range is two (the header, then
        the segments it overlaps); an empty range reads only the size."""
        whole = start == 0 and end is None
        try:
            stored, chunks = await self.inner._get(key, 0, None if whole else 0 if end == start else HEADER)
        except InvalidRange:
            raise BlobCorrupt(f"blob {key!r} is shorter than its header") from None
        try:
            count = segments_of(stored)
            if count is None:
                raise BlobCorrupt(f"blob {key!r} has the size of no encrypted blob")
            size = stored - HEADER - TAG * count
            stop = check_range(size, start, end)
            if stop == start and not whole:
                await chunks.aclose()
                return size, nothing()
            header, rest = await _take(chunks, HEADER, key)
            aead = AESGCM(await self._data_key(key, header))
        except BaseException:
            await chunks.aclose()
            raise
        if whole:
            return size, _opened(_resumed(rest, chunks), aead, key, 0, count - 1, 0, size)
        await chunks.aclose()
        first = start // SEGMENT
        stored_end = min(stored, HEADER + ((stop - 1) // SEGMENT + 1) * SEALED)
        _stored, chunks = await self.inner._get(key, HEADER + first * SEALED, stored_end)
        return size, _opened(chunks, aead, key, first, count - 1, start - first * SEGMENT, stop - start)

    async def _exists(self, key: str) -> bool:
        return await self.inner._exists(key)

    async def _delete(self, key: str) -> bool:
        return await self.inner._delete(key)

    async def _copy(self, source: str, target: str, head: bytes = b"", skip: int = 0) -> None:
        assert not head and not skip, "an encrypted store is wrapped by nothing"
        try:
            _stored, chunks = await self.inner._get(source, 0, HEADER)
        except InvalidRange:
            raise BlobCorrupt(f"blob {source!r} is shorter than its header") from None
        header = b"".join([chunk async for chunk in chunks])
        data_key = await self._data_key(source, header)
        await self.inner._copy(source, target, await self._header(target, data_key), HEADER)

    async def _usage(self, prefix: str, measure: Callable[[int], int]) -> Usage:
        return await self.inner._usage(prefix, lambda stored: measure(plain_size(stored) or 0))

    async def _names(self, prefix: str) -> list[str]:
        return await self.inner._names(prefix)

    async def _create(self, key: str, data: bytes) -> bool:
        return await self.inner._create(key, data)

    # --- multipart uploads: part n holds the segments from (n - 1) × part_size on ----

    async def _start(self, key: str, extra: bytes) -> str:
        return await self.inner._start(key, await self._header(key, AESGCM.generate_key(256)))

    async def _upload(self, upload: str) -> Upload:
        return await self.inner._upload(upload)

    async def _sealer(self, upload: str, index: int) -> tuple[bytes, _Sealer]:
        state = await self.inner._upload(upload)
        return state.extra, _Sealer(AESGCM(await self._data_key(state.key, state.extra)), index)

    async def _put_part(self, upload: str, number: int, chunks: AsyncIterator[bytes], max_size: int) -> PartRef:
        header, sealer = await self._sealer(upload, (number - 1) * (self.part_size // SEGMENT))
        sealed = _sealed(chunks, sealer, header if number == 1 else b"", max_size, self.part_size)
        stored = await self.inner._put_part(upload, number, sealed, sealed_part_size(number, max_size))
        return PartRef(number=number, size=sealer.size, etag=stored.etag)

    async def _complete(self, upload: str, parts: list[PartRef]) -> str:
        stored = [PartRef(part.number, sealed_part_size(part.number, part.size), part.etag) for part in parts]
        if not parts or parts[-1].size == self.part_size:
            # The last segment sealed so far is not marked final (a full part may have
            # more after it): an empty final segment closes the blob, in a part whose
            # number no caller's part has (parts need not be numbered without gaps).
            header, sealer = await self._sealer(upload, len(parts) * (self.part_size // SEGMENT))
            closing = (b"" if parts else header) + sealer.seal(b"", True)
            stored.append(await self.inner._put_part(upload, CLOSING_PART, chunks_of(closing), len(closing)))
        return await self.inner._complete(upload, stored)

    async def _abort(self, upload: str) -> bool:
        return await self.inner._abort(upload)
