"""moto's server, answering one request at a time.

`moto_server` serves requests on parallel threads, and its DynamoDB backend checks a
condition and writes the item without a lock, so two concurrent conditional writes can both
succeed. Real DynamoDB never allows that, and our lockout and send limits depend on it. One
request at a time makes the emulator's conditional writes atomic, as DynamoDB's are; moto is
bound by the interpreter lock anyway, so little throughput is lost.

Usage: python3 scripts/moto_serial.py HOST PORT
"""

import os
import signal
import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
