#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The load generator of `make overload` and `make soak` (issue 11): N keep-alive HTTP/1.1
# connections POSTing one body as fast as replies come, optionally beside hostile clients,
# for a number of seconds. wrk cannot do this: it counts only "non-2xx" and mixes the
# latency of refusals (a 503 takes microseconds) into the admitted requests' percentiles.
#
# Prints one JSON line per --every seconds and a last one for the whole run:
#   {"t": seconds, "status": {"200": n, "503": n, "error": n, ...}, "p50_ms", "p99_ms"
#    (admitted = 200 replies only), "p99_all_ms", "rss_mib": {pid: MiB}, "rss_peak_mib",
#    "fds": {pid: n} (at the report), "fds_min": {pid: n} (the fewest seen in the interval,
#    sampled every 0.2 s: connections coming and going make one sample jump, while a leak
#    raises the minimum too), "hostile": {"sent": n, "status": {...}}}
# A reply not received within --timeout seconds counts as "timeout" (the connection is
# then reopened); a refused or reset connection as "error".
#
# usage: loadgen.py --port P --path /api/extract --body FILE [--header 'k: v']...
#                   --conns N --seconds S [--every S] [--pid PID]... [--hostile N]
#                   [--timeout S] [--started FILE]
import argparse
import asyncio
import json
import os
import random
import time


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100.0 * len(values)))]


class Window:
    def __init__(self):
        self.status = {}
        self.ok_ms = []
        self.all_ms = []
        self.hostile_sent = 0
        self.hostile_status = {}
        self.fds_min = {}

    def sample_fds(self, pids):
        for p in pids:
            n = fd_count(p)
            if n is not None:
                self.fds_min[str(p)] = min(n, self.fds_min.get(str(p), n))

    def add(self, status, ms):
        self.status[status] = self.status.get(status, 0) + 1
        if ms is not None:
            self.all_ms.append(ms)
            if status == "200":
                self.ok_ms.append(ms)

    def add_hostile(self, status):
        self.hostile_sent += 1
        self.hostile_status[status] = self.hostile_status.get(status, 0) + 1


async def read_reply(reader):
    """One reply: (status, keep_alive). Skips 1xx interim replies."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if status < 200:
            continue
        n = int(headers.get("content-length", "0"))
        if n:
            await reader.readexactly(n)
        return status, headers.get("connection", "").lower() != "close"


async def client(args, request, windows, stop_at):
    reader = writer = None
    while time.monotonic() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", args.port), args.timeout)
            t0 = time.monotonic()
            writer.write(request)
            status, keep = await asyncio.wait_for(read_reply(reader), args.timeout)
            windows[-1].add(str(status), (time.monotonic() - t0) * 1000.0)
            if not keep:
                writer.close()
                writer = None
        except asyncio.TimeoutError:
            windows[-1].add("timeout", None)
            if writer:
                writer.close()
            writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            windows[-1].add("error", None)
            if writer:
                writer.close()
            writer = None
            await asyncio.sleep(0.05)
    if writer:
        writer.close()


def hostile_requests(args):
    """What a hostile client sends: announced-but-absent huge bodies without credentials,
    ambiguous framing, broken JSON, a second credential header."""
    p = args.path
    return [
        f"POST {p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 62914560\r\n\r\n".encode(),
        f"POST {p} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello".encode(),
        f"POST {p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 9\r\n\r\n{\"broken\"".encode(),
        f"POST {p} HTTP/1.1\r\nHost: x\r\nx-client-id: a\r\nx-client-id: b\r\n"
        "Content-Length: 2\r\n\r\n{}".encode(),
        f"POST {p} HTTP/1.1\r\nHost : x\r\nContent-Length: 2\r\n\r\n{{}}".encode(),
    ]


async def hostile(args, windows, stop_at):
    reqs = hostile_requests(args)
    while time.monotonic() < stop_at:
        kind = random.randrange(len(reqs) + 1)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", args.port), 5)
            if kind == len(reqs):  # slowloris: a head byte every 100 ms for 2 s, then leave
                for b in f"POST {args.path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode()[:20]:
                    writer.write(bytes([b]))
                    await asyncio.sleep(0.1)
                windows[-1].add_hostile("slow")
            else:
                writer.write(reqs[kind])
                status, _ = await asyncio.wait_for(read_reply(reader), 10)
                windows[-1].add_hostile(str(status))
            writer.close()
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError,
                IndexError):
            windows[-1].add_hostile("closed")
        await asyncio.sleep(0.05)


def report(args, w, t, peak):
    rss = {str(p): rss_mib(p) for p in args.pid}
    rss = {k: (round(v, 1) if v is not None else None) for k, v in rss.items()}
    for v in rss.values():
        if v is not None:
            peak[0] = max(peak[0], v)
    out = {
        "t": round(t, 1),
        "status": w.status,
        "p50_ms": percentile(w.ok_ms, 50),
        "p99_ms": percentile(w.ok_ms, 99),
        "p99_all_ms": percentile(w.all_ms, 99),
        "rss_mib": rss,
        "rss_peak_mib": round(peak[0], 1),
        "fds": {str(p): fd_count(p) for p in args.pid},
        "fds_min": w.fds_min,
    }
    if args.hostile:
        out["hostile"] = {"sent": w.hostile_sent, "status": w.hostile_status}
    for k in ("p50_ms", "p99_ms", "p99_all_ms"):
        if out[k] is not None:
            out[k] = round(out[k], 1)
    print(json.dumps(out), flush=True)


async def sampler(args, windows, total, stop_at, start, peak):
    next_report = start + args.every if args.every else None
    while time.monotonic() < stop_at:
        await asyncio.sleep(0.2)
        for p in args.pid:
            v = rss_mib(p)
            if v is not None:
                peak[0] = max(peak[0], v)
        windows[-1].sample_fds(args.pid)
        if next_report and time.monotonic() >= next_report:
            w = windows[-1]
            windows.append(Window())
            merge(total, w)
            report(args, w, time.monotonic() - start, peak)
            next_report += args.every


async def mark_started(path):
    await asyncio.sleep(0.2)  # the clients have connected and sent
    with open(path, "w"):
        pass


def merge(total, w):
    for k, v in w.status.items():
        total.status[k] = total.status.get(k, 0) + v
    total.ok_ms += w.ok_ms
    total.all_ms += w.all_ms
    total.hostile_sent += w.hostile_sent
    for k, v in w.fds_min.items():
        total.fds_min[k] = min(v, total.fds_min.get(k, v))
    for k, v in w.hostile_status.items():
        total.hostile_status[k] = total.hostile_status.get(k, 0) + v


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--body", required=True)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--conns", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--every", type=float, default=0)
    ap.add_argument("--pid", type=int, action="append", default=[])
    ap.add_argument("--hostile", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--started", help="file created once the clients are going")
    args = ap.parse_args()
    with open(args.body, "rb") as f:
        body = f.read()
    head = f"POST {args.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    for h in args.header:
        head += h + "\r\n"
    request = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    start = time.monotonic()
    stop_at = start + args.seconds
    windows, total, peak = [Window()], Window(), [0.0]
    tasks = [client(args, request, windows, stop_at) for _ in range(args.conns)]
    tasks += [hostile(args, windows, stop_at) for _ in range(args.hostile)]
    tasks.append(sampler(args, windows, total, stop_at, start, peak))
    if args.started:
        tasks.append(mark_started(args.started))
    await asyncio.gather(*tasks)
    merge(total, windows[-1])
    report(args, total, time.monotonic() - start, peak)


if __name__ == "__main__":
    asyncio.run(main())
