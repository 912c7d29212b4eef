#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An HTTP forwarder in front of a real server that can hold one request: so a test knows a
request is in flight inside insights-api (waiting on sms-extraction) when it stops the
container, and can check the drain lets it finish.

usage: hold_proxy.py TARGET_URL PORT ARM_FILE [SECONDS]
Every POST is forwarded to TARGET_URL + path and the reply passed back. When ARM_FILE exists,
the next POST removes it, creates ARM_FILE.held and waits SECONDS (default 2) first.
Standard library only; serves 127.0.0.1 only.
"""

import http.server
import os
import sys
import time
import urllib.error
import urllib.request

TARGET, PORT, ARM = sys.argv[1], int(sys.argv[2]), sys.argv[3]
HOLD_S = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
SKIP = {"host", "content-length", "connection", "expect"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if os.path.exists(ARM):
            os.unlink(ARM)
            open(ARM + ".held", "w").close()
            time.sleep(HOLD_S)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in SKIP}
        req = urllib.request.Request(TARGET + self.path, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                code, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            code, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        self.send_response(code)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
