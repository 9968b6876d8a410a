"""What the service benchmarks share: a real server process, wrk (the C load generator) for HTTP load,
memory as the kernel counts it, and markdown tables."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from deeplook.engine.status import FINISHED
from tests.support import free_port


class Server:
    """``deeplook serve`` on a free loopback port with a temporary data folder (or a given one)."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        args: Sequence[str] = (),
        cwd: Path | None = None,
    ) -> None:
        self._folder = None if data_dir else tempfile.TemporaryDirectory(prefix="deeplook-bench-")
        self.data_dir = data_dir or Path(self._folder.name) / "data"  # type: ignore[union-attr]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DEEPLOOK_DATA_DIR": str(self.data_dir),
            "DEEPLOOK_OFFLINE": "1",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deeplook", "serve", "--port", str(self.port), *args],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=cwd,  # `python -m` puts the working directory first on sys.path: another tree, another cwd
        )
        self.http = httpx.Client(base_url=self.url, timeout=60)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if self.http.get("/api/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def start(self, **settings: object) -> str:
        response = self.http.post("/api/runs", json=settings)
        response.raise_for_status()
        return str(response.json()["id"])

    def wait(self, run_id: str, until: str = "finished", timeout: float = 600) -> dict:  # type: ignore[type-arg]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.http.get(f"/api/runs/{run_id}").json()
            if (until == "finished" and run["status"] in FINISHED) or (
                until == "trained" and run["checkpoint_epoch"] >= 1
            ):
                return run
            time.sleep(0.1)
        raise RuntimeError(f"run {run_id} did not reach {until}")

    def stop_all(self) -> None:
        for run in self.http.get("/api/runs").json():
            if run["status"] not in FINISHED:
                self.http.post(f"/api/runs/{run['id']}/stop")

    def close(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self._folder is not None:
            self._folder.cleanup()


@dataclass(frozen=True)
class Load:
    rps: float
    p50: float
    p99: float
    errors: int


WRK_SCRIPT = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "{content_type}"
local f = io.open("{body}", "rb")
wrk.body = f:read("*all")
f:close()
"""


def wrk(
    url: str,
    body: bytes | None,
    connections: int,
    seconds: float,
    content_type: str = "application/json",
    threads: int = 2,
    headers: Sequence[str] = (),
    niceness: int = 0,
) -> Load:
    """Requests per second and latency (ms) of wrk's keep-alive clients POSTing ``body`` (GET without),
    with extra ``headers`` ("Name: value"), at a lower CPU priority when ``niceness`` is set."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (scripts/system-deps.sh installs it)")
    with tempfile.TemporaryDirectory() as folder:
        command = [
            *(["nice", "-n", str(niceness)] if niceness else []),
            "wrk",
            "-t",
            str(min(threads, connections)),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--latency",
        ]
        for header in headers:
            command += ["-H", header]
        if body is not None:
            body_path = Path(folder) / "body"
            body_path.write_bytes(body)
            script = Path(folder) / "post.lua"
            script.write_text(WRK_SCRIPT.format(method="POST", content_type=content_type, body=body_path))
            command += ["-s", str(script)]
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Load(rps, _latency(output, "50"), _latency(output, "99"), errors)


def _latency(output: str, percent: str) -> float:
    match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\b", output, re.M)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB: PSS splits shared pages (a mapped dataset) among their users."""
    rss = pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def children(pid: int) -> list[int]:
    """Every descendant process of ``pid``."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        path = Path(f"/proc/{parent}/task/{parent}/children")
        kids = [int(k) for k in path.read_text().split()] if path.exists() else []
        found += kids
        todo += kids
    return found


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def report(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> None:
    """Print the machine, then the rows as a markdown table."""
    print(f"Machine: {machine()}\n")
    print(table(rows, header))


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}"
