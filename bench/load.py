"""Load from a separate process: wrk where installed (``make bench`` installs it), otherwise a
small threaded Python client (``python -m bench.load``), used by the smoke run. Both run for a
fixed duration at a fixed concurrency; a warm-up run before the measured one is discarded."""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class Target:
    """One request, repeated: method, path, headers, body, and the status it must answer."""

    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    expect: int = 200


@dataclass
class LoadResult:
    tool: str
    seconds: float
    concurrency: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # transport errors plus answers other than 2xx/3xx

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def run(
    target: Target, *, duration: float, concurrency: int, tool: str = "auto", timeout: float = 10
) -> LoadResult:
    """Load ``target`` for ``duration`` seconds; ``tool`` is wrk, python or auto."""
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    if tool == "wrk":
        return _run_wrk(target, duration=duration, concurrency=concurrency, timeout=timeout)
    return _run_python(target, duration=duration, concurrency=concurrency, timeout=timeout)


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def _run_wrk(target: Target, *, duration: float, concurrency: int, timeout: float) -> LoadResult:
    lines = [f"wrk.method = {_lua_string(target.method)}"]
    if target.body:
        lines.append(f"wrk.body = {_lua_string(target.body)}")
    for name, value in target.headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "request.lua"
        script.write_text("\n".join(lines) + "\n")
        cmd = [
            "wrk",
            "--latency",
            "-t",
            "1",
            "-c",
            str(concurrency),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            f"{int(timeout)}s",
            "-s",
            str(script),
            target.url,
        ]
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=duration + timeout + 30, check=True
        ).stdout
    return parse_wrk(out, concurrency=concurrency)


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(out: str, *, concurrency: int) -> LoadResult:
    latencies = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not (latencies and total and rps):
        raise RuntimeError(f"unreadable wrk output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)) + sum(
        int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out)
    )
    return LoadResult(
        tool="wrk",
        seconds=_ms(total.group(2) + total.group(3)) / 1000,
        concurrency=concurrency,
        requests=int(total.group(1)),
        rps=float(rps.group(1)),
        p50_ms=_ms(latencies["50"]),
        p99_ms=_ms(latencies["99"]),
        errors=errors,
    )


def _run_python(target: Target, *, duration: float, concurrency: int, timeout: float) -> LoadResult:
    spec = json.dumps({**asdict(target), "duration": duration, "concurrency": concurrency})
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", spec],
        capture_output=True,
        text=True,
        timeout=duration + timeout + 30,
        check=True,
    ).stdout
    return LoadResult(**json.loads(out))


def _client_main(spec: dict) -> dict:
    """The Python load client: ``concurrency`` threads on keep-alive connections (reopened when
    the server closes them), each looping until the deadline."""
    parts = urlsplit(spec["url"])
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    body = spec["body"].encode() if spec["body"] else None
    headers = dict(spec["headers"])
    if body is not None:
        headers["Content-Length"] = str(len(body))
    latencies: list[list[float]] = [[] for _ in range(spec["concurrency"])]
    errors = [0] * spec["concurrency"]
    start = time.monotonic()
    deadline = start + spec["duration"]

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                conn.request(spec["method"], path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 400
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            latencies[i].append((time.perf_counter() - t0) * 1000)
            if not ok:
                errors[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(spec["concurrency"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(spec["duration"] + 30)
    elapsed = time.monotonic() - start
    values = sorted(v for per_thread in latencies for v in per_thread)
    return LoadResult(
        tool="python",
        seconds=round(elapsed, 3),
        concurrency=spec["concurrency"],
        requests=len(values),
        rps=round(len(values) / elapsed, 1),
        p50_ms=round(percentile(values, 0.50), 2),
        p99_ms=round(percentile(values, 0.99), 2),
        errors=sum(errors),
    ).as_dict()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the Python load client (see bench.load)")
    parser.add_argument("spec", help="JSON: url, method, headers, body, duration, concurrency")
    print(json.dumps(_client_main(json.loads(parser.parse_args().spec))))
