"""Schemathesis hooks for .ci/conformance.

The message POSTs answer a Server-Sent-Events stream (status 200) when the body asks for it
with `"stream": true`. The specs document that form beside `responses`, in
`x-streaming-response`, so that generated clients type the call's result as the job; the
fuzzer, which only knows `responses`, is kept on the job form. .ci/vendor-examples.py checks
the streamed form against its own description.
"""
import schemathesis


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict) and body.get("stream") is True:
        body = {key: value for key, value in body.items() if key != "stream"}
    return body
