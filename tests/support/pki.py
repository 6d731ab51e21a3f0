"""A company CA and certificates made with trustme, for HTTPS servers on 127.0.0.1.

A real CA, real certificates for 127.0.0.1, no network: lockgen is pointed at the CA
with ``--cert`` exactly as a user points it at a company bundle.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Pki:
    """A company CA (as a PEM bundle), a client certificate, and a stranger's CA."""

    ca: trustme.CA
    bundle: str
    client_pem: str
    other_bundle: str

    def server_context(self, *, require_client_cert: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context


def make_pki(folder: Path) -> Pki:
    """Write the CA bundle, a client certificate and a stranger's CA into ``folder``."""
    ca = trustme.CA(organization_name="Example Corp")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    client = ca.issue_cert("builder@example.invalid")
    client.private_key_and_cert_chain_pem.write_to_path(str(folder / "client.pem"))
    trustme.CA().cert_pem.write_to_path(str(folder / "other.pem"))
    return Pki(
        ca=ca,
        bundle=str(folder / "ca.pem"),
        client_pem=str(folder / "client.pem"),
        other_bundle=str(folder / "other.pem"),
    )
