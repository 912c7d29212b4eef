#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The settled descriptor count of daemons (`make soak`, issue 11): waits until each daemon's
# count has stayed the same for --stable seconds (at most --max), then prints one JSON line
#   {pid: {"total": n, "tcp": n, "close_wait": n, "other": n}}
# "tcp": its TCP connections (not listeners): clients' and its own to other daemons, which
# keep-alive pools hold open; "close_wait": those the peer has closed and the daemon has not
# (a leaked socket ends there); "other": everything else (files, pipes, eventfds, epoll,
# unix sockets, listeners), which per-thread state and caches fill up on first use and then
# keep constant. So, settled after a warm-up and again after a long load, "other" must be
# equal and "close_wait" 0: a descriptor leaked by a request shows in one of them, whereas a
# single sample during a load counts whatever connections happen to be open.
#
# usage: fds.py PID... [--stable S] [--max S]
import argparse
import json
import os
import time

CLOSE_WAIT, LISTEN = "08", "0A"


def socket_inodes(pid):
    out = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(target[8:-1])
    except OSError:
        pass
    return out


def tcp_states(pid):
    """{inode: state} of the TCP sockets in the pid's network namespace."""
    out = {}
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)
                for line in f:
                    cols = line.split()
                    out[cols[9]] = cols[3]
        except OSError:
            pass
    return out


def count(pid):
    try:
        total = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    states = tcp_states(pid)
    mine = [states[i] for i in socket_inodes(pid) if i in states and states[i] != LISTEN]
    return {"total": total, "tcp": len(mine), "close_wait": mine.count(CLOSE_WAIT),
            "other": total - len(mine)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pids", nargs="+", type=int)
    ap.add_argument("--stable", type=float, default=3)
    ap.add_argument("--max", type=float, default=30)
    args = ap.parse_args()
    deadline = time.monotonic() + args.max
    last, since = None, time.monotonic()
    while True:
        now = {str(pid): count(pid) for pid in args.pids}
        if now != last:
            last, since = now, time.monotonic()
        if time.monotonic() - since >= args.stable or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    print(json.dumps(last))


if __name__ == "__main__":
    main()
