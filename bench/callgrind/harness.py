"""Instructions per delivery of one `ivrhook serve` (SQLite), counted by callgrind.

This machine's speed moves by a fifth from minute to minute, so timed benches compare builds
only by alternating many runs. Instructions are counted, not timed: the same build gives
the same count within about half a per cent, whatever else the machine is doing
(BENCHMARKS.md, PostgreSQL step 16). It does not see what instructions do not show (cache
misses, lock waits, the kernel), so it complements `ivrhook bench`, never replaces it.

Usage: python3 bench/callgrind/harness.py target/release/ivrhook [events]

Starts a receiver that answers 000000, runs the binary under callgrind on a fresh SQLite
file, submits the events through the API from 16 keep-alive connections, waits until every
one is delivered, stops the server and prints its instruction count per delivery (startup
and shutdown included, so compare equal event counts only).
"""
import http.client
import http.server
import json
import os
import re
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

CONNECTIONS = 16
PORT = 18099


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"code":"000000","msg":"accepted"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with Sink.lock:
            Sink.count += 1

    def log_message(self, *args):
        pass


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def wait_until_up(deadline):
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            c.request("GET", "/healthz")
            c.getresponse().read()
            return
        except OSError:
            if time.time() > deadline:
                sys.exit("the server did not start")
            time.sleep(0.5)


def submit(first, n):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    for i in range(first, n, CONNECTIONS):
        body = json.dumps({
            "appId": "app1", "callId": f"cg-{i}", "event": "multrpt", "data": "bench",
            "result": [{"event": "playoverrpt", "Code": "0",
                        "start": "20180112172322010", "end": "20180112172325010"}],
            "status": 0,
        })
        c.request("POST", "/v1/apps/app1/events", body, {"content-type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 202:
            sys.exit(f"event {i}: answered {r.status}")


def main():
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    sink = ThreadingServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as work:
        config = os.path.join(work, "app.toml")
        with open(config, "w") as f:
            f.write(f'[[apps]]\nid = "app1"\n'
                    f'callback_url = "http://127.0.0.1:{sink.server_address[1]}/cb"\n'
                    f'max_in_flight = 16\n')
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind",
             f"--callgrind-out-file={os.path.join(work, 'callgrind.out')}",
             binary, "serve", "--config", config, "--listen", f"127.0.0.1:{PORT}",
             "--database", f"sqlite://{os.path.join(work, 'cg.db')}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until_up(time.time() + 120)
        threads = [threading.Thread(target=submit, args=(k, n)) for k in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.time() + 300
        while Sink.count < n and time.time() < deadline:
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        err = server.communicate()[1].decode()
    found = re.search(r"Collected : (\d+)", err)
    if Sink.count < n or not found:
        sys.exit(f"delivered {Sink.count} of {n}; callgrind said: {err[-500:]}")
    total = int(found.group(1))
    print(f"{binary}: {n} delivered, {total} instructions, {total // n} per delivery")


if __name__ == "__main__":
    main()
