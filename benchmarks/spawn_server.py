"""The process that starts every measured command (stdlib only; run with ``python -S``).

Why a separate process: a child's ``ru_maxrss`` counts the memory of the process that forked
it, as it stood before the exec — a harness holding a million generated manifest entries
would make every child look that big. This server is a fresh, small interpreter that never
holds workload data, so the floor under every measured peak is its own few MiB.

Protocol: one JSON job per line on stdin — ``{"argvs": [[...], ...], "cwd": str|null,
"env": {...}|null, "stderr": path}`` — and one JSON result per line on stdout —
``{"seconds": float, "codes": [int], "peaks": [bytes]}``. The argvs of a job start together;
the clock stops when the last one has been reaped.
"""

import json
import os
import sys
import time


def _exec_child(argv, cwd, env, stderr_path):
    try:
        if cwd:
            os.chdir(cwd)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        err = os.open(stderr_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(err, 2)
        os.execvpe(argv[0], argv, os.environ if env is None else env)
    except BaseException as error:  # noqa: BLE001 - the child must never return into the server
        try:
            os.write(2, f"cannot run {argv[0]}: {error}\n".encode())
        finally:
            os._exit(127)


def run(job):
    """Run one job; its wall time, exit codes and peak RSS per process."""
    start = time.perf_counter()
    pids = []
    for argv in job["argvs"]:
        pid = os.fork()
        if pid == 0:
            _exec_child(argv, job.get("cwd"), job.get("env"), job["stderr"])
        pids.append(pid)
    codes, peaks = [], []
    for pid in pids:
        _, status, usage = os.wait4(pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
        peaks.append(usage.ru_maxrss * 1024)  # Linux reports KiB
    return {"seconds": time.perf_counter() - start, "codes": codes, "peaks": peaks}


def main():
    for line in sys.stdin:
        sys.stdout.write(json.dumps(run(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
