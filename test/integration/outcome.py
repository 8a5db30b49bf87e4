"""How one invocation ended, as Lambda reports it."""


class Outcome:
    # kind: 'response', 'error' (the handler raised), 'init-error', 'timeout', 'crash' (the runtime exited)
    KINDS = ('response', 'error', 'init-error', 'timeout', 'crash')

    def __init__(self, kind, payload=None, error=None):
        assert kind in self.KINDS, kind
        self.kind = kind
        self.payload = payload
        self.error = error

    def __repr__(self):
        return 'Outcome(%r, payload=%r, error=%r)' % (self.kind, self.payload, self.error)
