"""The bulk loader parses in worker processes: what they hand back is what parsing in
the importing process gives, message for message, in order (the real-world corpus)."""

from __future__ import annotations

from hexagone.mail.migration.engine import _Parser
from tests.mail.imap.differential.harness import CORPUS


async def test_parser_in_worker_processes_gives_what_the_importing_process_gives() -> None:
    raws = [path.read_bytes() for path in sorted(CORPUS.rglob("*.eml"))][:60]
    assert len(raws) >= 20, "the corpus is beside the checkout"
    here, there = _Parser(0), _Parser(2)
    try:
        assert await there.parse(raws) == await here.parse(raws)
    finally:
        there.close()
