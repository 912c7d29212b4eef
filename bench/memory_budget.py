#!/usr/bin/env python3
# Load and RSS sampling for bench/memory_budget.sh (issue 11's memory budget): runs one
# scenario against a daemon on 127.0.0.1:PORT while sampling the resident size of PID
# every 50 ms, and prints one JSON line: replies by status, RSS before / peak / 10 s after.
#
#   memory_budget.py big-posts PID PORT PATH N MB [HEADERS...]
#       N parallel POSTs of MB megabytes each (one thread per upload, 256 KiB writes);
#       HEADERS are extra "Name: value" lines (credentials)
#   memory_budget.py idle-conns PID PORT N
#       N connections that send nothing; RSS with them open
#   memory_budget.py partial-heads PID PORT N KB
#       N connections each sending KB KiB of an unfinished request head
import json
import socket
import sys
import threading
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            try:
                self.peak = max(self.peak, rss_kb(self.pid))
            except OSError:
                return
            time.sleep(0.05)


def upload(port, path, mb, headers, results, i):
    body_len = mb << 20
    head = (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {body_len}\r\n" + "".join(h + "\r\n" for h in headers) +
            "Connection: close\r\n\r\n").encode()
    chunk = b" " * (256 << 10)
    status = "error"
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(head)
        sent = 0
        try:
            while sent < body_len:
                n = min(len(chunk), body_len - sent)
                s.sendall(chunk[:n])
                sent += n
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early: the reply is what matters
        s.settimeout(60)
        data = b""
        try:
            while b"\r\n" not in data:
                got = s.recv(4096)
                if not got:
                    break
                data += got
        except (ConnectionResetError, socket.timeout):
            pass
        if data.startswith(b"HTTP/1."):
            status = data.split(b" ")[1].decode()
        s.close()
    except OSError:
        pass
    results[i] = status


def settle(pid, seconds):
    time.sleep(seconds)
    return rss_kb(pid)


def big_posts(pid, port, path, n, mb, headers):
    before = rss_kb(pid)
    sampler = Sampler(pid)
    sampler.start()
    results = [None] * n
    threads = [threading.Thread(target=upload, args=(port, path, mb, headers, results, i))
               for i in range(n)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - t0
    sampler.stop = True
    sampler.join()
    by_status = {}
    for r in results:
        by_status[r] = by_status.get(r, 0) + 1
    return {"scenario": f"{n} x {mb} MB POST {path}", "replies": by_status,
            "seconds": round(took, 1), "rss_before_mb": round(before / 1024, 1),
            "rss_peak_mb": round(sampler.peak / 1024, 1),
            "rss_after_10s_mb": round(settle(pid, 10) / 1024, 1)}


def hold(pid, port, n, payload):
    before = rss_kb(pid)
    conns = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if payload:
                s.sendall(payload)
            conns.append(s)
        except OSError:
            break
    time.sleep(2)
    during = rss_kb(pid)
    for s in conns:
        s.close()
    after = settle(pid, 10)
    return {"opened": len(conns), "rss_before_mb": round(before / 1024, 1),
            "rss_with_them_mb": round(during / 1024, 1),
            "per_connection_kb": round((during - before) / max(1, len(conns)), 1),
            "rss_after_10s_mb": round(after / 1024, 1)}


def main(argv):
    cmd, pid, port = argv[1], int(argv[2]), int(argv[3])
    if cmd == "big-posts":
        out = big_posts(pid, port, argv[4], int(argv[5]), int(argv[6]), argv[7:])
    elif cmd == "idle-conns":
        out = dict(hold(pid, port, int(argv[4]), b""), scenario=f"{argv[4]} idle connections")
    elif cmd == "partial-heads":
        kb = int(argv[5])
        head = b"GET /health HTTP/1.1\r\nHost: bench\r\nX-Pad: " + b"a" * (kb * 1024 - 48)
        out = dict(hold(pid, port, int(argv[4]), head),
                   scenario=f"{argv[4]} connections with {kb} KiB of unfinished head")
    else:
        sys.exit("usage: memory_budget.py big-posts|idle-conns|partial-heads PID PORT ...")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
