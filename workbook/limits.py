"""A time limit that holds even inside a backend's native code.

formualizer evaluates in Rust and holds the interpreter lock: a Python alarm, a watchdog thread or its own
``max_eval_time_ms`` cannot stop a long evaluation (a 50,000-cell SUMPRODUCT book ran for minutes past a
5-second ``--timeout``). :func:`run_limited` therefore runs the work in a forked child process and kills it when
the time is up; the child writes atomically, so a killed run leaves the user's file as it was, and the parent
removes the temporary file the child may have left. A child that dies (an abort in native code, the kernel's
out-of-memory killer) is reported in one line too. Where ``fork`` is not available, an alarm is used instead.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from buildbuy.engine.errors import BuildBuyError


class TimeLimitError(BuildBuyError):
    """The work ran past its time limit and was stopped."""


def run_limited(seconds: float | None, fn: Callable[..., Any], *args: Any, writes: str | Path | None = None,
                **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, stopped after ``seconds`` (None or 0: no limit, run here).

    ``writes``: the file the work replaces atomically, so that the temporary file of a killed run is removed.
    Errors of the work come back as :class:`BuildBuyError` with the same message (an unexpected exception as a
    one-line ``RuntimeError``).
    """
    if not seconds:
        return fn(*args, **kwargs)
    if not hasattr(os, "fork") or sys.platform == "win32":  # pragma: no cover - POSIX everywhere we test
        return _with_alarm(seconds, fn, *args, **kwargs)
    started = time.time()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, send the outcome, leave without running the parent's cleanups
        os.close(read_fd)
        _child(write_fd, fn, args, kwargs)
    os.close(write_fd)
    try:
        outcome = _receive(read_fd, pid, seconds, writes, started)
    finally:
        os.close(read_fd)
    kind, payload = outcome
    if kind == "ok":
        return payload
    if kind == "error":
        raise BuildBuyError(payload)
    raise RuntimeError(payload)


def _child(write_fd: int, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    code = 0
    try:
        try:
            outcome: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BuildBuyError as exc:
            outcome = ("error", str(exc))
        except MemoryError:
            outcome = ("error", "out of memory")
        except OSError as exc:
            outcome = ("error", f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        except BaseException as exc:  # noqa: BLE001 - sent to the parent as one line
            outcome = ("unexpected", f"{type(exc).__name__}: {exc}")
        try:
            data = pickle.dumps(outcome)
        except Exception as exc:  # noqa: BLE001 - a result that cannot travel is a bug, said in one line
            data = pickle.dumps(("unexpected", f"the result cannot be sent back ({exc})"))
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    except BaseException:  # noqa: BLE001 - the child must never return into the parent's code
        code = 1
    finally:
        os._exit(code)


def _receive(read_fd: int, pid: int, seconds: float, writes: str | Path | None, started: float) -> tuple[str, Any]:
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                _stop(pid, writes, started)
                raise TimeLimitError(f"stopped after {seconds:g} s (--timeout)")
            ready, _, _ = select.select([read_fd], [], [], left)
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    except BaseException:
        _stop(pid, writes, started)
        raise
    _, status = os.waitpid(pid, 0)
    if not chunks:
        _cleanup(writes, started)
        how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}")
        raise BuildBuyError(f"the recalculation stopped abnormally ({how}: out of memory or a crash in the "
                            f"backend); nothing was written")
    return pickle.loads(b"".join(chunks))


def _stop(pid: int, writes: str | Path | None, started: float) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    _cleanup(writes, started)


def _cleanup(writes: str | Path | None, started: float) -> None:
    """Remove the temporary files a killed write left next to its target (see ``xlsx.write_package``)."""
    if writes is None:
        return
    target = Path(os.path.realpath(writes))
    try:
        for p in target.parent.glob(f".{target.name[:80]}.*.tmp"):
            try:
                if p.stat().st_mtime >= started - 1:
                    p.unlink()
            except OSError:
                pass
    except OSError:
        pass


def run_in_process(seconds: float | None, fn: Callable[..., Any], *args: Any, writes: str | Path | None = None,
                   **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` here, stopped after ``seconds`` by an alarm: for work that stays in Python
    (the template's compiled plan), which an alarm interrupts, so no child process is needed. A stopped run
    leaves no temporary file (``writes``: the file the work replaces atomically)."""
    if not seconds:
        return fn(*args, **kwargs)
    started = time.time()
    try:
        return _with_alarm(seconds, fn, *args, **kwargs)
    except TimeLimitError:
        _cleanup(writes, started)
        raise


def _with_alarm(seconds: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    def stop(*_: Any) -> None:
        raise TimeLimitError(f"stopped after {seconds:g} s (--timeout)")

    if not hasattr(signal, "SIGALRM"):
        return fn(*args, **kwargs)
    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
