"""GOVERN_JOBS caps every kind of parallel work, and =1 keeps it all in one process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govern.log import validation
from govern.log import verification as log_verification
from govern.runtime import jobs


@pytest.mark.parametrize("value, expected", [("1", 1), ("3", 3)])
def test_govern_jobs_is_the_count(monkeypatch: pytest.MonkeyPatch, value: str, expected: int):
    monkeypatch.setenv(jobs.JOBS_ENV, value)
    assert jobs.default_jobs() == expected


@pytest.mark.parametrize("value", ["", "0", "-2", "two"])
def test_an_unusable_govern_jobs_means_the_cpus(monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv(jobs.JOBS_ENV, value)
    assert jobs.default_jobs() >= 1
    monkeypatch.delenv(jobs.JOBS_ENV)
    assert jobs.default_jobs() == len(os.sched_getaffinity(0))


def _large_jsonl(tmp_path: Path) -> Path:
    line = b'{"a":"' + b"x" * 120 + b'"}\n'
    path = tmp_path / "big.jsonl"
    path.write_bytes(line * (2 * max(validation.PARALLEL_SLICE_BYTES, log_verification.PARALLEL_MIN_BYTES) // len(line) + 1))
    return path


def test_validate_shares_a_large_file_only_when_jobs_allow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = _large_jsonl(tmp_path)
    monkeypatch.setenv(jobs.JOBS_ENV, "2")
    assert validation._process_count(path) == 2
    monkeypatch.setenv(jobs.JOBS_ENV, "1")
    assert validation._process_count(path) == 1


def test_verify_log_shares_a_large_log_only_when_jobs_allow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = _large_jsonl(tmp_path).read_bytes()
    monkeypatch.setenv(jobs.JOBS_ENV, "2")
    assert len(log_verification._halves(data, 0, len(data))) == 2
    monkeypatch.setenv(jobs.JOBS_ENV, "1")
    assert log_verification._halves(data, 0, len(data)) == [(0, len(data))]
