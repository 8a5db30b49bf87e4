"""The Lambda Runtime API (2018-06-01), enough of it for one function instance and the real runtime client.

Lambda's own emulator (aws-lambda-runtime-interface-emulator) is refused by the Go module proxy reachable
here, so the invoker serves the API itself: the runtime inside the sandbox long-polls `invocation/next`,
then posts a response or an error, exactly as it would against Lambda. See docs/integration.md.
"""
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = '/2018-06-01/runtime'


class Outcome:
    """How one invocation ended, as Lambda would report it."""

    def __init__(self, kind, payload=None, error=None):
        # kind: 'response', 'error' (the handler raised), 'init-error', 'timeout', 'crash'
        self.kind = kind
        self.payload = payload
        self.error = error

    def __repr__(self):
        return 'Outcome(%r, payload=%r, error=%r)' % (self.kind, self.payload, self.error)


class _Invocation:
    def __init__(self, event, deadline_ms, function_arn):
        self.request_id = str(uuid.uuid4())
        self.body = json.dumps(event).encode()
        self.deadline_ms = deadline_ms
        self.function_arn = function_arn
        self.delivered_at = None
        self.outcome = None


class RuntimeApi:
    """Serves the Runtime API on 127.0.0.1 for one execution environment.

    `invoke` queues an event and waits until the runtime answers, the environment dies (`crashed()` returns
    true) or the function's timeout passes.
    """

    def __init__(self, function_arn='arn:aws:lambda:us-east-1:123456789012:function:local'):
        self.function_arn = function_arn
        self._cond = threading.Condition()
        self._pending = []
        self._by_id = {}
        self.init_error = None
        self.first_poll_at = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                length = int(self.headers.get('Content-Length') or 0)
                return self.rfile.read(length) if length else b''

            def do_GET(self):
                if self.path != PREFIX + '/invocation/next':
                    return self._reply(404, {'errorMessage': 'unknown path ' + self.path})
                inv = api._next()
                if inv is None:
                    return self._reply(410, {'errorMessage': 'the environment is shutting down'})
                self.send_response(200)
                self.send_header('Lambda-Runtime-Aws-Request-Id', inv.request_id)
                self.send_header('Lambda-Runtime-Deadline-Ms', str(inv.deadline_ms))
                self.send_header('Lambda-Runtime-Invoked-Function-Arn', inv.function_arn)
                self.send_header('Lambda-Runtime-Trace-Id', 'Root=1-00000000-000000000000000000000000;Sampled=0')
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(inv.body)))
                self.end_headers()
                self.wfile.write(inv.body)

            def do_POST(self):
                body = self._body()
                if self.path == PREFIX + '/init/error':
                    api._finish_init_error(_decode(body))
                    return self._reply(202, {'status': 'OK'})
                parts = self.path[len(PREFIX):].strip('/').split('/')
                if (not self.path.startswith(PREFIX + '/invocation/') or len(parts) != 3
                        or parts[2] not in ('response', 'error')):
                    return self._reply(404, {'errorMessage': 'unknown path ' + self.path})
                kind = parts[2]
                outcome = (Outcome('response', payload=_decode(body)) if kind == 'response'
                           else Outcome('error', error=_decode(body)))
                if not api._finish(parts[1], outcome):
                    return self._reply(400, {'errorMessage': 'unknown or finished request id ' + parts[1]})
                return self._reply(202, {'status': 'OK'})

        self._server = _QuietServer(('127.0.0.1', 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._closed = False

    @property
    def address(self):
        host, port = self._server.server_address[:2]
        return '%s:%d' % (host, port)

    def start(self):
        self._thread.start()
        return self

    def close(self):
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def _next(self):
        with self._cond:
            if self.first_poll_at is None:
                self.first_poll_at = time.monotonic()
                self._cond.notify_all()
            while not self._pending and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            inv = self._pending.pop(0)
            inv.delivered_at = time.monotonic()
            return inv

    def _finish(self, request_id, outcome):
        with self._cond:
            inv = self._by_id.get(request_id)
            if inv is None or inv.outcome is not None:
                return False
            inv.outcome = outcome
            self._cond.notify_all()
            return True

    def _finish_init_error(self, error):
        with self._cond:
            self.init_error = error
            self._cond.notify_all()

    def invoke(self, event, timeout_s, crashed, init_timeout_s=10.0, poll_s=0.05):
        """Delivers `event` and returns (Outcome, seconds from delivery to answer, or None if never delivered).

        The function's timeout counts from delivery; before it, the runtime has `init_timeout_s` to start
        (Lambda gives 10 s). `crashed` tells whether the runtime process is gone; it is checked while waiting.
        """
        start = time.monotonic()
        inv = _Invocation(event, int((time.time() + timeout_s) * 1000), self.function_arn)
        with self._cond:
            self._by_id[inv.request_id] = inv
            self._pending.append(inv)
            self._cond.notify_all()
            while True:
                if inv.outcome is not None:
                    return inv.outcome, time.monotonic() - inv.delivered_at
                if self.init_error is not None:
                    return Outcome('init-error', error=self.init_error), None
                if inv.delivered_at is None and time.monotonic() - start >= init_timeout_s:
                    return Outcome('timeout', error={
                        'errorType': 'Sandbox.Timedout',
                        'errorMessage': 'Init timed out after %.2f seconds' % init_timeout_s}), None
                if inv.delivered_at is not None and time.monotonic() - inv.delivered_at >= timeout_s:
                    return Outcome('timeout', error={
                        'errorType': 'Sandbox.Timedout',
                        'errorMessage': 'Task timed out after %.2f seconds' % timeout_s}), timeout_s
                if crashed():
                    return Outcome('crash', error={
                        'errorType': 'Runtime.ExitError',
                        'errorMessage': 'the runtime exited before answering'}), None
                self._cond.wait(poll_s)


class _QuietServer(ThreadingHTTPServer):
    # A runtime killed at the end of an invocation drops its long poll; that is no error of the API.
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _decode(body):
    try:
        return json.loads(body.decode() or 'null')
    except (UnicodeDecodeError, ValueError):
        return {'errorType': 'Runtime.InvalidResponse', 'errorMessage': repr(body[:200])}
