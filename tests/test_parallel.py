"""Issue 12 point 1: parallel work through one helper with one failure policy.

``govern.runtime.parallel`` is the one way govern forks workers. What must hold, with real
processes and real signals:

- a part whose worker is SIGKILLed mid-way is redone in this process, and the overall result
  is the serial one (never ``E_INTERNAL``, never a lost result);
- a part that raises in its worker is redone here; when it raises here too, that error — the
  real one — surfaces;
- for any parts and any number of workers, the result is exactly the serial map's;
- what the workers work on is the pool's ``shared`` object, not a module global.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govern.runtime.parallel import CAN_FORK, Parallel, parallel_map

pytestmark = pytest.mark.skipif(not CAN_FORK, reason="workers are forked")


def _square_plus(offset: int, number: int) -> int:
    return number * number + offset


def _stall_in_a_worker(shared: tuple[int, Path], number: int) -> int:
    """In a worker: say who it is (its pid in the file ``shared`` names) and wait to be
    killed; in the parent: just the answer."""
    parent, pid_file = shared
    if os.getpid() != parent:
        pid_file.with_suffix(".tmp").write_text(str(os.getpid()))
        os.replace(pid_file.with_suffix(".tmp"), pid_file)  # never seen half-written
        time.sleep(60)
    return number * 10


def _kill_myself_in_a_worker(parent: int, number: int) -> int:
    if os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    return number + 1


def _raise_in_a_worker(parent: int, number: int) -> int:
    if os.getpid() != parent:
        raise RuntimeError("only in a worker")
    return number - 1


def _raise_everywhere(_: object, number: int) -> int:
    if number == 3:
        raise ValueError(f"part {number} is bad")
    return number


def _alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2] not in "ZX"


def test_a_worker_sigkilled_mid_way_has_its_part_redone_here(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    began = time.monotonic()
    with Parallel(1, shared=(os.getpid(), pid_file)) as pool:
        ticket = pool.submit(_stall_in_a_worker, 7)
        while not pid_file.exists():
            assert time.monotonic() - began < 10, "the worker never started its task"
            time.sleep(0.005)
        worker = int(pid_file.read_text())
        assert worker != os.getpid()
        os.kill(worker, signal.SIGKILL)  # mid-way: it is asleep inside the task
        assert pool.result(ticket) == 70  # what the serial map gives
        assert pool.processes == 0  # the dead worker was reaped, not replaced
        later = pool.submit(_stall_in_a_worker, 8)  # with no worker left, work runs here
        assert pool.result(later) == 80
    assert not _alive(worker)
    assert time.monotonic() - began < 5


def test_the_parts_a_dead_worker_held_or_was_to_take_are_all_redone_here() -> None:
    numbers = list(range(40))  # more than a worker is handed ahead: some still wait for it
    with Parallel(2, shared=os.getpid()) as pool:
        assert list(pool.map(_kill_myself_in_a_worker, numbers)) == [n + 1 for n in numbers]
        assert pool.processes == 0


def test_a_part_raising_in_its_worker_is_redone_here() -> None:
    with Parallel(2, shared=os.getpid()) as pool:
        assert list(pool.map(_raise_in_a_worker, range(20))) == [n - 1 for n in range(20)]
        assert pool.processes == 2  # a task that raised costs no worker


def test_when_the_redo_fails_too_the_real_error_surfaces() -> None:
    with Parallel(2) as pool, pytest.raises(ValueError, match="part 3 is bad"):
        list(pool.map(_raise_everywhere, range(6)))


def test_parallel_map_redoes_a_dead_part_here_and_surfaces_a_real_error() -> None:
    parent = os.getpid()

    def die_in_a_worker(number: int) -> tuple[int, bool]:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return number + 1, os.getpid() == parent

    assert parallel_map(die_in_a_worker, [1, 2, 3]) == [(2, True), (3, True), (4, True)]
    with pytest.raises(ValueError, match="part 3 is bad"):
        parallel_map(lambda number: _raise_everywhere(None, number), [1, 3])


def test_parallel_map_shares_the_work_with_this_process_and_workers() -> None:
    parent = os.getpid()
    assert parallel_map(lambda n: (n * n, os.getpid() == parent), [1, 2, 3]) == [(1, True), (4, False), (9, False)]


def test_the_workers_read_the_pools_shared_object_given_after_import() -> None:
    # Made after the module was imported and never stored anywhere but in the pool.
    shared = {"offset": 1000 + os.getpid() % 7}
    with Parallel(2, shared=shared) as pool:
        assert list(pool.map(_offset_of, range(5))) == [shared["offset"] + n for n in range(5)]


def _offset_of(shared: dict[str, int], number: int) -> int:
    return shared["offset"] + number


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-(2**70), 2**70), max_size=40), st.integers(0, 4), st.integers(-5, 5))
def test_the_pool_gives_exactly_the_serial_map(numbers: list[int], processes: int, offset: int) -> None:
    with Parallel(processes, shared=offset) as pool:
        assert list(pool.map(_square_plus, numbers)) == [_square_plus(offset, n) for n in numbers]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 255), max_size=30), max_size=4))
def test_parallel_map_gives_exactly_the_serial_map(parts: list[list[int]]) -> None:
    def checksum(part: list[int]) -> tuple[int, bytes]:
        return sum(part), bytes(part)

    assert parallel_map(checksum, parts) == [checksum(part) for part in parts]
