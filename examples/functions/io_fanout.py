"""I/O-bound fan-out: a process pool issues many concurrent HTTP requests.

The event's `url` names the server to call (the local invoker starts one). Without it, as on a real Lambda
run by integ-runner, the function serves the same answers itself on a loopback port.
"""
import json
import multiprocessing
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from report import environment

REQUESTS = 64
WORKERS = 16
DELAY_S = 0.05


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)['square']


class SquareHandler(BaseHTTPRequestHandler):
    """GET /square/N answers {"n": N, "square": N*N} after a short delay, like a slow backend."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        prefix = '/square/'
        if not self.path.startswith(prefix) or not self.path[len(prefix):].isdigit():
            self.send_error(404)
            return
        n = int(self.path[len(prefix):])
        time.sleep(DELAY_S)
        body = json.dumps({'n': n, 'square': n * n}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _ready(barrier):
    barrier.wait()


def fan_out(base_url):
    urls = ['%s/square/%d' % (base_url.rstrip('/'), n) for n in range(REQUESTS)]
    # The clock starts once every worker is up, so that it times the requests and not the start method: a
    # forkserver worker (python3.14's default) imports this module itself, a forked one inherits it.
    barrier = multiprocessing.Barrier(WORKERS + 1)
    with multiprocessing.Pool(WORKERS, initializer=_ready, initargs=(barrier,)) as pool:
        barrier.wait()
        started = time.monotonic()
        total = sum(pool.map(fetch, urls))
        return total, time.monotonic() - started


def run(event):
    url = (event or {}).get('url')
    if url:
        total, elapsed = fan_out(url)
    else:
        server = ThreadingHTTPServer(('127.0.0.1', 0), SquareHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            total, elapsed = fan_out('http://127.0.0.1:%d' % server.server_address[1])
        finally:
            server.shutdown()
            server.server_close()
    # One request after the other would take REQUESTS * DELAY_S; the pool must overlap them.
    return {'workload': 'io_fanout', 'requests': REQUESTS, 'sum_of_squares': total,
            'overlapped': elapsed < REQUESTS * DELAY_S}


def handler(event, context):
    return dict(run(event), **environment())
