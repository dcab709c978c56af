"""The scheduling of ``pytest -n`` (``tests/conftest.py``): the tests of a group in
:data:`~tests.conftest.XDIST_GROUPS` go to one worker together, the others in runs as
pytest-xdist's ``load`` sends them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from xdist.remote import Producer

from tests.conftest import ROOT, XDIST_GROUPS, pytest_xdist_make_scheduler


class Node:
    """What the scheduler uses of a worker: its id, what it is sent, whether it stops."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def shutdown(self) -> None:
        self.shutting_down = True

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent += indices


def scheduler(collection: list[str]) -> tuple[Any, Node, Node]:
    options = {"dist": "load", "maxschedchunk": None, "tx": ["popen", "popen"]}
    config = SimpleNamespace(getoption=options.get, getvalue=options.get)
    sched = pytest_xdist_make_scheduler(config, Producer("test", enabled=False))  # type: ignore[arg-type]
    first, second = Node("gw0"), Node("gw1")
    for node in (first, second):
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    return sched, first, second


def test_xdist_groups_name_test_files_and_folders_that_exist() -> None:
    for prefix in XDIST_GROUPS:
        assert (ROOT / prefix).exists(), prefix
        assert prefix.endswith((".py", "/")), prefix


def test_xdist_group_goes_whole_to_the_worker_of_its_first_test() -> None:
    group = XDIST_GROUPS[0]
    collection = [f"tests/a/test_{n}.py::t" for n in range(20)] + [f"{group}test_x.py::t{n}" for n in range(30)]
    collection += [f"tests/z/test_{n}.py::t" for n in range(20)]
    sched, first, second = scheduler(collection)
    while sched.pending:
        for node in (first, second):
            for index in list(sched.node2pending[node]):
                sched.mark_test_complete(node, index)
    grouped = set(range(20, 50))
    assert grouped <= set(first.sent) or grouped <= set(second.sent)
    assert sorted(first.sent + second.sent) == list(range(len(collection)))


@pytest.mark.parametrize("dist", ["loadscope", "loadfile", "no"])
def test_xdist_other_distributions_are_left_to_pytest_xdist(dist: str) -> None:
    config = SimpleNamespace(getoption=lambda name: dist)
    assert pytest_xdist_make_scheduler(config, None) is None  # type: ignore[arg-type]
