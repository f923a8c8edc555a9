"""A fixed-count HTTP/1.1 load generator: C keep-alive connections share N POSTs of one prebuilt request.

    python -m bench.loadgen PORT PATH BODY_FILE REQUESTS CONNECTIONS   → one JSON line

Raw asyncio streams (no HTTP library): one request costs the client ~20 µs of CPU, far below what the
servers measured here spend, so on its own core it never limits them. Responses must carry
Content-Length (both servers' do); any non-200 is counted and reported.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time


async def _worker(port: int, request: bytes, left: list[int], lat: list[int], bad: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    clock = time.perf_counter_ns
    try:
        while left[0] > 0:
            left[0] -= 1
            t0 = clock()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
                    break
            else:
                raise RuntimeError(f"response without content-length: {head[:200]!r}")
            await reader.readexactly(length)
            lat.append(clock() - t0)
            if status != 200:
                bad[0] += 1
    finally:
        writer.close()


async def run(port: int, path: str, body: bytes, requests: int, connections: int) -> dict:
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Authorization: Bearer sk-bench-http\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    left, lat, bad = [requests], [], [0]
    t0 = time.perf_counter()
    await asyncio.gather(*(_worker(port, request, left, lat, bad) for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] / 1e6

    return {"requests": len(lat), "seconds": elapsed, "rps": len(lat) / elapsed, "p50_ms": pct(50),
            "p99_ms": pct(99), "max_ms": lat[-1] / 1e6, "non200": bad[0]}


def main(argv: list[str]) -> None:
    port, path, body_file, requests, connections = int(argv[0]), argv[1], argv[2], int(argv[3]), int(argv[4])
    with open(body_file, "rb") as f:
        body = f.read()
    print(json.dumps(asyncio.run(run(port, path, body, requests, connections))))


if __name__ == "__main__":
    main(sys.argv[1:])
