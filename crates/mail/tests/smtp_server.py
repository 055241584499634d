"""A real SMTP server for the SMTP adapter's tests (aiosmtpd), on loopback.

Usage: smtp_server.py --port N --dir DIR [--mode ok|flaky|reject] [--fail N]
                      [--cert PEM --key PEM [--implicit-tls]] [--auth USER:PASSWORD]

Each accepted message is written to DIR as <n>.eml, with its envelope in <n>.json. In mode
`flaky` the first N messages are answered 451 (try again later); in mode `reject` every
message is answered 550. With --cert, STARTTLS is required (or, with --implicit-tls, TLS
starts with the connection). With --auth, AUTH is required. Prints READY once listening.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, directory, mode, fail):
        self.directory = directory
        self.mode = mode
        self.fail = fail
        self.seen = 0
        self.stored = 0

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.mode == "reject":
            return "550 5.7.1 Message rejected"
        if self.mode == "flaky" and self.seen <= self.fail:
            return "451 4.3.0 Try again later"
        self.stored += 1
        base = os.path.join(self.directory, str(self.stored))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "login": session.auth_data if isinstance(session.auth_data, str) else None,
                    "tls": server.transport.get_extra_info("ssl_object") is not None,
                },
                f,
            )
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--fail", type=int, default=1)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth")
    args = parser.parse_args()

    options = {}
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.implicit_tls:
            options["ssl_context"] = context
        else:
            options["tls_context"] = context
            options["require_starttls"] = True
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, auth_data=user if ok else None)

        options["authenticator"] = authenticator
        options["auth_required"] = True
        options["auth_require_tls"] = bool(args.cert)

    handler = Handler(args.dir, args.mode, args.fail)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port,
                            server_hostname="localhost", ready_timeout=10, **options)
    controller.start()
    print("READY", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    sys.exit(main())
