"""The process one document is read in: ``python -m hexagone.drive.extraction.sandbox
TASK KIND SOURCE TARGET SECONDS`` writes the text (TASK ``text``) or the PNG preview
(``preview``) of the file SOURCE, a document of KIND (:data:`.formats.KINDS`), to TARGET.

Before it reads anything it bounds itself: :data:`MEMORY` bytes of address space,
SECONDS of CPU time, :data:`MAX_OUTPUT` bytes per file written. A document that makes a
library loop, swell or crash (PDFium is C++) ends this process alone; the job that
started it also kills it after its wall-clock limit. It gets no secret: its environment
is a bare ``PATH`` and locale, and it talks to no database or store.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

MEMORY = 1 << 30
MAX_OUTPUT = 16 << 20


def _bound(seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT, MAX_OUTPUT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> int:
    task, kind, source, target, seconds = argv
    _bound(int(seconds))
    from hexagone.drive.extraction import formats

    try:
        if task == "text":
            data = formats.TEXT_READERS[kind](Path(source)).encode("utf-8", "replace")
        else:
            data = formats.PREVIEWERS[kind](Path(source))
    except Exception as error:  # a corrupt file: no text, no preview, a word in the job's log
        print(f"{type(error).__name__}: {str(error)[:200]}", file=sys.stderr)
        return 2
    Path(target).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
