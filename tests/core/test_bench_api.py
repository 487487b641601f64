"""bench/api.py's open loop (``--rate``): a request that waits for a free connection waits in its latency.

A closed-loop client sends its next request only when the last is answered, so a slow server slows the clients
down and its queue never shows in their latencies. The open loop times each request from when it was due.
"""

from __future__ import annotations

import asyncio

from bench.api import Connection, _clients


async def _slow_server(delay: float) -> tuple[asyncio.AbstractServer, int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(delay)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _run(rate: float | None) -> list[float]:
    async def main() -> list[float]:
        server, port = await _slow_server(0.05)  # 20 answers a second on one connection
        try:
            job = {
                "bases": [f"http://127.0.0.1:{port}"],
                "endpoint": "getSessionResult",
                "key": "k",
                "ids": ["a"],
                "signed": "",
                "seconds": 0.5,
                "concurrency": 1,
                "rate": rate,
            }
            return (await _clients(job))["latencies"]
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def test_an_open_loop_above_what_the_server_answers_shows_the_queue_in_the_latencies():
    closed = _run(None)
    assert closed and max(closed) < 90  # each request waits for its answer only
    opened = _run(40.0)  # twice what one connection at 50 ms answers
    assert len(opened) == 20
    # The 20th request was due at 0.475 s and answered at about 1 s: it waited for the 19 before it.
    assert max(opened) > 400 and opened[-1] > opened[0] + 300


def test_an_open_loop_the_server_keeps_up_with_times_the_answer_only():
    opened = _run(10.0)
    assert len(opened) == 5 and max(opened) < 90


def test_a_connection_reads_a_chunked_answer():
    async def main() -> tuple[int, bytes]:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        connection = Connection(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        try:
            return await connection.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        finally:
            await connection.close()
            server.close()
            await server.wait_closed()

    assert asyncio.run(main()) == (200, b"{}")
