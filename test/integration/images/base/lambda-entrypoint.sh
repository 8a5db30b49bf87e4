#!/bin/sh
# The stand-in's entrypoint, written to behave as the one in AWS's Lambda base images: the image's CMD (the
# handler) is its one argument; outside Lambda (no AWS_LAMBDA_RUNTIME_API) the Runtime Interface Emulator
# serves the Runtime API and takes invocations on port 8080, inside Lambda the runtime talks to Lambda's.
if [ $# -ne 1 ]; then
  echo "lambda-entrypoint.sh: expected the handler as the only argument (the image's CMD), got $#" >&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  exec /usr/local/bin/aws-lambda-rie /var/runtime/bootstrap
fi
exec /var/runtime/bootstrap
