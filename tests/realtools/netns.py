"""A private network namespace, the processes run inside it, and a way in for this process.

Crossplane core binds its webhook, metrics and health servers on every interface at fixed
ports, and other test runs on the same machine may use the same ports: inside a namespace of
its own a control plane sees only its own loopback. Processes started with ``spawn`` run in
a process group of their own (``ip netns exec`` execs the command), so ``close`` ends each
group with everything it started, then deletes the namespace.

This process reaches servers in the namespace through ``entered``: the calling thread joins
the namespace (``setns``) while it opens a socket, and the socket stays there afterwards.
Namespaces are named ``<PREFIX><pid>``; ``reap_stale`` removes those of runs that died
without cleaning up (a killed pytest), so they never pile up.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

PREFIX = "xpreal-"
NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
STOP_GRACE_S = 10.0
_libc = ctypes.CDLL(None, use_errno=True)


class NamespaceError(RuntimeError):
    """A namespace could not be made, entered or left."""


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        msg = f"setns: {os.strerror(error)}"
        raise NamespaceError(msg)


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"ip {' '.join(args)}: {done.stderr.strip()}"
        raise NamespaceError(msg)


def _pids_in(name: str) -> list[int]:
    done = subprocess.run(
        ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in done.stdout.split()]


def _kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def reap_stale() -> list[str]:
    """Delete the namespaces (and kill their processes) of earlier runs whose pytest is gone."""
    reaped = []
    for entry in sorted(NETNS_DIR.glob(f"{PREFIX}*")) if NETNS_DIR.is_dir() else []:
        owner = entry.name.removeprefix(PREFIX)
        if owner.isdigit() and Path(f"/proc/{owner}").exists():
            continue
        for pid in _pids_in(entry.name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(NamespaceError):
            _ip("netns", "delete", entry.name)
        reaped.append(entry.name)
    return reaped


@dataclass
class Process:
    """A process spawned in the namespace, with the log its output goes to."""

    label: str
    popen: subprocess.Popen[bytes]
    log: Path

    def running(self) -> bool:
        """Whether it has not exited."""
        return self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        """The last lines of its log."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL after a grace period; then reap it."""
        if self.running():
            _kill_group(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=STOP_GRACE_S)
        _kill_group(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=STOP_GRACE_S)


@dataclass
class NetworkNamespace:
    """A network namespace with only a loopback interface, and what runs in it."""

    logs: Path
    name: str = field(default_factory=lambda: f"{PREFIX}{os.getpid()}")
    processes: list[Process] = field(default_factory=list)
    _sinks: list[IO[bytes]] = field(default_factory=list)

    def create(self) -> NetworkNamespace:
        """Make the namespace and bring its loopback up."""
        reap_stale()
        if (NETNS_DIR / self.name).exists():
            self.delete()
        _ip("netns", "add", self.name)
        _ip("-n", self.name, "link", "set", "lo", "up")
        self.logs.mkdir(parents=True, exist_ok=True)
        return self

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Run the body with this thread in the namespace; sockets opened there stay there."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(NETNS_DIR / self.name, os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(own)
        finally:
            os.close(target)
            os.close(own)

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def spawn(
        self, label: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> Process:
        """Start ``argv`` in the namespace, in a process group of its own, logging to a file."""
        log = self.logs / f"{label}.log"
        sink = log.open("ab")
        self._sinks.append(sink)
        popen = subprocess.Popen(
            self.command(argv),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        process = Process(label=label, popen=popen, log=log)
        self.processes.append(process)
        return process

    def run(
        self,
        label: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float = 120.0,
    ) -> int:
        """Run ``argv`` in the namespace to completion; its output is appended to its log."""
        process = self.spawn(label, argv, env)
        try:
            return process.popen.wait(timeout=timeout)
        finally:
            process.stop()

    def delete(self) -> None:
        """Kill whatever still runs in the namespace and delete it."""
        for pid in _pids_in(self.name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_GRACE_S
        while _pids_in(self.name) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(NamespaceError):
            _ip("netns", "delete", self.name)

    def close(self) -> None:
        """Stop every process (last started first), delete the namespace, close the logs."""
        for process in reversed(self.processes):
            process.stop()
        self.delete()
        for sink in self._sinks:
            sink.close()
