#!/usr/bin/env python3
# Raw HTTP/1.1 for the hostile-client tests: sends exactly the bytes a test gives (curl
# would fix them), reads what comes back and says whether the server closed. One line of
# JSON per command on stdout, so a shell test can pick fields with jq.
#
#   rawhttp.py send PORT REQUEST [--wait S]      REQUEST with C escapes (\r \n \x00 \xff);
#        prints {"responses":[{"status","headers","body"}...], "closed": bool}
#        reading every response on the connection until it closes or --wait passes
#   rawhttp.py head PORT REQUEST                  REQUEST starts with a HEAD: prints its
#        {"status","headers"} and "next", the 12 bytes after its head (the next reply's start)
#   rawhttp.py slowloris PORT SECONDS             a header byte every 100 ms; prints
#        {"status": N or null, "closed": bool, "seconds": S}
#   rawhttp.py hold PORT N SECONDS                opens N connections (no request), holds
#        them, prints {"opened": N}; then closes them all
#   rawhttp.py capped PORT N                      opens N idle connections, then one more
#        that sends GET /health: prints {"answered_at_cap": bool, "answered_after_close": bool}
#   rawhttp.py partial PORT N LEN                 N uploads announcing LEN bytes that send
#        half of it and stall, then one more POST head: prints its status
import codecs
import json
import socket
import sys
import time


def unescape(text):
    return codecs.escape_decode(text.encode())[0]


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def parse_responses(data):
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head = data[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = 0 if status < 200 else int(headers.get("content-length", "0"))
        body = data[end + 4:end + 4 + length]
        out.append({"status": status, "headers": headers, "body": body.decode("utf-8", "replace")})
        data = data[end + 4 + length:]
    return out, data


def read_all(s, wait):
    data, closed, deadline = b"", False, time.time() + wait
    while time.time() < deadline:
        s.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    return data, closed


def cmd_send(port, request, wait=2.0):
    s = connect(port)
    s.sendall(unescape(request))
    data, closed = read_all(s, wait)
    s.close()
    responses, rest = parse_responses(data)
    return {"responses": responses, "closed": closed, "trailing": rest.decode("latin-1")}


def cmd_head(port, request):
    """The first reply is to a HEAD: its head only; what follows must be the next reply."""
    s = connect(port)
    s.sendall(unescape(request))
    data, _ = read_all(s, 2.0)
    s.close()
    end = data.find(b"\r\n\r\n")
    first, _ = parse_responses(data[:end + 4] if end >= 0 else b"")
    first = first[0] if first else {"status": None, "headers": {}}
    return {"status": first["status"], "headers": first["headers"],
            "next": data[end + 4:end + 16].decode("latin-1") if end >= 0 else ""}


def cmd_slowloris(port, seconds):
    s = connect(port)
    start = time.time()
    head = b"POST /api/extract HTTP/1.1\r\nHost: x\r\nX-Slow: "
    s.sendall(head)
    status, closed = None, False
    while time.time() - start < seconds:
        try:
            s.sendall(b"a")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        s.settimeout(0.1)
        try:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            status = int(chunk.split(b" ")[1])
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
            break
    if not closed and status is not None:
        _, closed = read_all(s, 2.0)
    s.close()
    return {"status": status, "closed": closed, "seconds": round(time.time() - start, 2)}


def cmd_hold(port, n, seconds):
    conns = []
    for _ in range(n):
        try:
            conns.append(connect(port))
        except OSError:
            break
    time.sleep(seconds)
    for c in conns:
        c.close()
    return {"opened": len(conns)}


def cmd_capped(port, n):
    conns = [connect(port) for _ in range(n)]
    for c in conns:  # each one served once: accepted and counted
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        read_all_until_body(c)
    extra = connect(port)
    extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data, _ = read_all(extra, 0.5)
    at_cap = bool(data)
    conns[0].close()
    if not at_cap:
        data, _ = read_all(extra, 10.0)
    extra.close()
    for c in conns[1:]:
        c.close()
    return {"answered_at_cap": at_cap, "answered_after_close": data.startswith(b"HTTP/1.1 200")}


def read_all_until_body(s):
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def cmd_partial(port, n, length):
    stalled = []
    for _ in range(n):
        s = connect(port)
        s.sendall(b"POST /api/extract HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % length + b" " * (length // 2))
        stalled.append(s)
    time.sleep(0.3)
    s = connect(port)
    s.sendall(b"POST /api/extract HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % length)
    data, _ = read_all(s, 3.0)
    responses, _ = parse_responses(data)
    for c in stalled + [s]:
        c.close()
    return responses[0] if responses else {"status": None}


def main(argv):
    cmd, port = argv[1], int(argv[2])
    if cmd == "send":
        rest = [a for a in argv[4:] if a != "--wait"]
        wait = float(rest[0]) if rest else 2.0
        result = cmd_send(port, argv[3], wait)
    elif cmd == "head":
        result = cmd_head(port, argv[3])
    elif cmd == "slowloris":
        result = cmd_slowloris(port, float(argv[3]))
    elif cmd == "hold":
        result = cmd_hold(port, int(argv[3]), float(argv[4]))
    elif cmd == "capped":
        result = cmd_capped(port, int(argv[3]))
    elif cmd == "partial":
        result = cmd_partial(port, int(argv[3]), int(argv[4]))
    else:
        sys.exit("usage: rawhttp.py send|head|slowloris|hold|capped|partial PORT ...")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
