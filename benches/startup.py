#!/usr/bin/env python3
"""Time from starting the server to its first answered request, a few times over.

    startup.py BIN [STARTS] [-- SERVER ARGS...]

The same-run floor is `BIN --version`: exec, load and exit with nothing served.

Each start: pick a free port, start BIN with `--port PORT` and the server args, and from that
moment try every 100 us to connect and GET /_local/health; the time is taken when the first
200 arrives. Prints each start and the median in microseconds. (A shell loop that spawns curl
measures curl's own start-up, several milliseconds, as much as the server's.)
"""
import os
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_answer(port, deadline):
    request = b"GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(request)
                head = s.recv(64)
                if head.startswith(b"HTTP/1.1 200"):
                    return True
        except OSError:
            pass
        time.sleep(0.0001)
    return False


def main():
    args = sys.argv[1:]
    server_args = []
    if "--" in args:
        cut = args.index("--")
        args, server_args = args[:cut], args[cut + 1:]
    binary = args[0]
    starts = int(args[1]) if len(args) > 1 else 5
    times = []
    for _ in range(starts):
        port = free_port()
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [binary, "--port", str(port), *server_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ok = first_answer(port, t0 + 10)
        elapsed = int((time.monotonic() - t0) * 1e6)
        proc.terminate()
        proc.wait()
        if not ok:
            print(f"start-up: no answer within 10 s ({binary})")
            return 1
        times.append(elapsed)
    floors = []
    for _ in range(starts):
        t0 = time.monotonic()
        subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        floors.append(int((time.monotonic() - t0) * 1e6))
    median, floor = statistics.median(times), statistics.median(floors)
    print(
        f"start-up (us): {' '.join(map(str, times))}; median {int(median)} us; "
        f"exec floor ({binary} --version) {int(floor)} us; ratio {median / floor:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
