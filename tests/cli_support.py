"""Running `cfinv` in tests: in-process with captured output, or as a process."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import ssl
import threading
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
