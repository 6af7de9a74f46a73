"""Schemathesis hooks for .ci/conformance.

The message POSTs answer a Server-Sent-Events stream (status 200, declared under `2XX`) when
the body asks for it with `"stream": true`. The fuzzer is kept on the job form, whose body it
can check; .ci/vendor-examples.py and the Prism proxy in .ci/conformance check the streamed
form.
"""
import schemathesis


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict) and body.get("stream") is True:
        body = {key: value for key, value in body.items() if key != "stream"}
    return body
