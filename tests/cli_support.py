"""Running `cfinv` in tests: in-process with captured output, or as a process."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import ssl
import sys
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cfinv.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pytest

    from cfinv.testing import CloudFrontEmulator


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, emu: CloudFrontEmulator | None = None
) -> tuple[int, str, str]:
    """Run `cfinv argv...` in-process; return (exit code, stdout, stderr)."""
    args = list(argv)
    if emu is not None:
        args += ["--endpoint-url", emu.endpoint_url]
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@contextmanager
def untrusted_tls_server(directory: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate; yields its URL."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Terminal:
    """
    `cfinv argv` on a pseudo-terminal, its screen kept by a VT100 emulator (pyte).

    Full-screen programs (prompt_toolkit, less) redraw only what changed, so
    tests read the screen as a user sees it, not the raw byte stream.  Cursor
    position requests are answered as a terminal would.
    """

    def __init__(
        self, argv: list[str], env: dict[str, str], *, rows: int = 24, columns: int = 100
    ) -> None:
        import pexpect
        import pyte

        self.screen = pyte.Screen(columns, rows)
        self._stream = pyte.Stream(self.screen)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "cfinv", *argv],
            env=env,
            encoding="utf-8",
            timeout=60,
            dimensions=(rows, columns),
        )
        self.transcript: list[str] = []

    @property
    def display(self) -> str:
        """The screen's text, trailing spaces removed."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def _pump(self, timeout: float) -> bool:
        """Feed what the program printed to the screen; False once it has exited."""
        import pexpect

        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        if "\x1b[6n" in data:  # where is the cursor?
            cursor = self.screen.cursor
            self.child.send(f"\x1b[{cursor.y + 1};{cursor.x + 1}R")
            data = data.replace("\x1b[6n", "")
        self.transcript.append(data)
        self._stream.feed(data)
        return True

    def wait_for(self, text: str, *, timeout: float = 60) -> None:
        """Until ``text`` is on the screen (a generous bound: it is not a timing test)."""
        deadline = time.monotonic() + timeout
        while text not in self.display:
            alive = self._pump(0.1)
            if not alive or time.monotonic() > deadline:
                msg = f"{text!r} never appeared on the screen:\n{self.display}"
                raise AssertionError(msg)

    def type(self, keys: str) -> None:
        """Type ``keys`` (a carriage return is Enter, a tab is Tab)."""
        self.child.send(keys)

    def finish(self) -> int:
        """Wait for the program to end; its exit status (128 + n if killed by signal n)."""
        while self._pump(0.2):
            pass
        self.child.close()
        if self.child.exitstatus is None:
            return 128 + int(self.child.signalstatus or 0)
        return int(self.child.exitstatus)
