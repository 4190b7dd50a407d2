"""The load generator, run as its own process so it does not share the server's CPU
budget in-process: `concurrency` clients, each with its own keep-alive connection, POST
signups, one attempt per credential, until the credentials run out.

    python -m tests.bench.rush_load SPEC.json OUT.json

SPEC: {"base_url", "path", "header", "values": [...], "concurrency", "client"?}; each
attempt sends `header: value` with a value used once. Before the clock starts every
client opens its connection with a GET /healthz (warm-up, not timed).
OUT: {"started", "finished", "client", "cpu_s", "sold_out_s" (start → last "confirmed"
answer), "statuses": {code: n}, "outcomes": {status: n}, "latencies_ms": [...],
"error_samples": [...]}.

Optional, for the door check-in benchmark (tests/bench/test_door.py), raw client only:
"bodies": [...] sends one JSON body per attempt (used once, in order) instead of the
header values, with the fixed "headers": {...}; "outcome_field" names the answer's field
counted in "outcomes" (default "status"); "timing_header" names a response header holding
the server's own milliseconds, collected in OUT's "server_ms" (in answer order).

Two clients, same protocol (HTTP/1.1 keep-alive, one connection per client):
- "raw" (default): a minimal HTTP/1.1 client on asyncio streams (uvloop), ~0.1 ms of
  CPU per request.
- "httpx": one httpx.AsyncClient per client (pool of one connection). Measured here: ~1 ms
  of CPU per request, so on a 2-core machine it needs about a core for ~800 requests/s
  and caps the floor; and one AsyncClient with a pool of 500 is far worse (~13 ms of CPU
  per request at 500 in flight: httpcore scans the whole pool for every request).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ERROR_SAMPLES = 5
TIMEOUT_S = 120.0


class Recorder:
    def __init__(self, outcome_field: str = "status") -> None:
        self.outcome_field = outcome_field
        self.server_ms: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.confirmed_at: list[float] = []  # time.time() of each "confirmed" answer

    def response(self, began: float, status: int, body: bytes) -> None:
        self.latencies.append((time.perf_counter() - began) * 1000)
        self.statuses[str(status)] += 1
        if 200 <= status < 300:
            outcome = str(json.loads(body).get(self.outcome_field))
            self.outcomes[outcome] += 1
            if outcome == "confirmed":
                self.confirmed_at.append(time.time())
        elif len(self.errors) < ERROR_SAMPLES:
            self.errors.append(f"{status} {body[:300].decode(errors='replace')}")

    def failure(self, began: float, error: BaseException) -> None:
        self.latencies.append((time.perf_counter() - began) * 1000)
        self.statuses[f"exception:{type(error).__name__}"] += 1
        if len(self.errors) < ERROR_SAMPLES:
            self.errors.append(repr(error))


class RawConnection:
    """One keep-alive HTTP/1.1 connection; reconnects after a close or an error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.headers: dict[str, str] = {}  # of the last answer, names in lower case

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += [f"Content-Length: {len(body)}", "", ""]
        try:
            self.writer.write("\r\n".join(lines).encode() + body)
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT_S)
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split(" ", 2)[1])
            fields = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                if name:
                    fields[name.strip().lower()] = value.strip()
            if fields.get("transfer-encoding", "").lower() == "chunked":
                answer = await self._chunked()
            else:
                answer = await self.reader.readexactly(int(fields.get("content-length", "0")))
        except BaseException:
            await self.close()
            raise
        self.headers = fields
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, answer

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0].strip(), 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])

    async def close(self) -> None:
        writer, self.writer, self.reader = self.writer, None, None
        if writer is not None:
            writer.close()


async def run_raw(spec: dict[str, Any], recorder: Recorder) -> tuple[float, float]:
    url = urlsplit(spec["base_url"])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    connections = [RawConnection(host, port) for _ in range(int(spec["concurrency"]))]
    warm = await asyncio.gather(
        *(c.request("GET", "/healthz", {}) for c in connections), return_exceptions=True
    )
    bad = [w for w in warm if isinstance(w, BaseException) or w[0] != 200]
    if bad:
        raise SystemExit(f"warm-up failed: {bad[0]!r}")
    path = spec["path"]
    if "bodies" in spec:
        fixed = dict(spec.get("headers", {}), **{"Content-Type": "application/json"})
        attempts = iter([(fixed, json.dumps(b).encode()) for b in spec["bodies"]])
    else:
        attempts = iter([({spec["header"]: value}, b"") for value in spec["values"]])
    timing = spec.get("timing_header", "").lower()

    async def client_loop(connection: RawConnection) -> None:
        for headers, payload in attempts:
            began = time.perf_counter()
            try:
                status, body = await connection.request("POST", path, headers, payload)
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
                recorder.failure(began, error)
                continue
            recorder.response(began, status, body)
            if timing and timing in connection.headers:
                recorder.server_ms.append(float(connection.headers[timing]))

    started = time.time()
    await asyncio.gather(*(client_loop(c) for c in connections))
    finished = time.time()
    for connection in connections:
        await connection.close()
    return started, finished


async def run_httpx(spec: dict[str, Any], recorder: Recorder) -> tuple[float, float]:
    import httpx

    context = ssl.create_default_context()  # one, not one per client (~40 ms each)
    clients = [
        httpx.AsyncClient(
            base_url=spec["base_url"],
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=httpx.Timeout(TIMEOUT_S),
            verify=context,
        )
        for _ in range(int(spec["concurrency"]))
    ]
    warm = await asyncio.gather(*(c.get("/healthz") for c in clients), return_exceptions=True)
    bad = [w for w in warm if isinstance(w, BaseException) or w.status_code != 200]
    if bad:
        raise SystemExit(f"warm-up failed: {bad[0]!r}")
    values = iter(spec["values"])
    header, path = spec["header"], spec["path"]

    async def client_loop(client: httpx.AsyncClient) -> None:
        for value in values:
            began = time.perf_counter()
            try:
                response = await client.post(path, headers={header: value})
            except httpx.HTTPError as error:
                recorder.failure(began, error)
                continue
            recorder.response(began, response.status_code, response.content)

    started = time.time()
    await asyncio.gather(*(client_loop(c) for c in clients))
    finished = time.time()
    for client in clients:
        await client.aclose()
    return started, finished


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    recorder = Recorder(spec.get("outcome_field", "status"))
    kind = spec.get("client", "raw")
    if kind == "httpx" and "bodies" in spec:
        raise SystemExit("JSON bodies are sent by the raw client only")
    cpu_before = time.process_time()
    runner = run_httpx if kind == "httpx" else run_raw
    started, finished = await runner(spec, recorder)
    return {
        "client": kind,
        "started": started,
        "finished": finished,
        "cpu_s": time.process_time() - cpu_before,
        "sold_out_s": (
            round(max(recorder.confirmed_at) - started, 3) if recorder.confirmed_at else None
        ),
        "statuses": dict(recorder.statuses),
        "outcomes": dict(recorder.outcomes),
        "latencies_ms": recorder.latencies,
        "error_samples": recorder.errors,
        "server_ms": recorder.server_ms,
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    try:
        from uvloop import new_event_loop as loop_factory
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(run(spec))
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
