"""``HEXAGONE_TEST_BLOB_BACKEND`` (``make test-s3``): the test process and the servers it
starts (they inherit its environment) store their blobs where the variable says, so that
a module's tests run again on S3, or encrypted, without a line of their own."""

from __future__ import annotations

from hexagone.core import blobs
from hexagone.core.blobs import local, s3
from hexagone.core.blobs.encrypted import Encrypted
from tests.conftest import BLOB_BACKEND


async def test_blob_store_of_the_run_is_the_backend_asked_for() -> None:
    store = blobs.get_store()
    backend = store.inner if isinstance(store, Encrypted) else store
    assert isinstance(backend, {"file": local.Backend, "s3": s3.Backend}[BLOB_BACKEND.partition("+")[0]])
    assert isinstance(store, Encrypted) == BLOB_BACKEND.endswith("+encrypted")
    ref = await store.put(b"round trip", key="org/test-backend/blob")
    assert await store.read(ref.key) == b"round trip"
    assert await store.delete(ref.key)
