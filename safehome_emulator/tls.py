"""The hub's TLS identity: a self-signed EC P-256 certificate, its key and its fingerprint.

Created at first start and kept: in `state_dir` (`hub-cert.pem`, `hub-key.pem`, mode
0600) when one is configured, otherwise for the life of the Emulator object. Clients pin
the fingerprint (SHA-256 of the certificate's DER bytes, lowercase hex) learnt at pairing.
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime
from functools import cached_property
import hashlib
import ipaddress
import os
from pathlib import Path
import shutil
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FILE = "hub-cert.pem"
KEY_FILE = "hub-key.pem"
# RFC 5280 4.1.2.5: "no well-defined expiration date" (clients pin, they do not expire it).
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


def fingerprint_of(der: bytes) -> str:
    """Return the fingerprint of a DER certificate: SHA-256, 64 lowercase hex digits."""
    return hashlib.sha256(der).hexdigest()


def _san(hub_id: str, host: str) -> list[x509.GeneralName]:
    """`DNS:<hub id>.local`, plus the listen address if it is a specific IP."""
    names: list[x509.GeneralName] = [x509.DNSName(f"{hub_id}.local")]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return names
    if not address.is_unspecified:
        names.append(x509.IPAddress(address))
    return names


@dataclass(frozen=True)
class HubIdentity:
    """A certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes

    @cached_property
    def der(self) -> bytes:
        """The certificate's DER bytes (what a client sees on the wire)."""
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(
            serialization.Encoding.DER
        )

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate's DER bytes, lowercase hex."""
        return fingerprint_of(self.der)

    @classmethod
    def create(cls, hub_id: str, host: str) -> HubIdentity:
        """Make a new self-signed certificate: CN = hub id, SAN = `<hub id>.local` (+ IP)."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hub_id)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(NOT_AFTER)
            .add_extension(x509.SubjectAlternativeName(_san(hub_id, host)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(cert.public_bytes(serialization.Encoding.PEM), key_pem)

    @classmethod
    def load_or_create(cls, state_dir: str | Path, hub_id: str, host: str) -> HubIdentity:
        """Read the identity kept in `state_dir`, or create and keep a new one there.

        Raises ValueError if only one of the two files exists or they do not belong together.
        """
        folder = Path(state_dir)
        cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
        if cert_path.exists() or key_path.exists():
            if not (cert_path.exists() and key_path.exists()):
                raise ValueError(f"{folder}: only one of {CERT_FILE} and {KEY_FILE} exists")
            identity = cls(cert_path.read_bytes(), key_path.read_bytes())
            identity.check()
            return identity
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        identity = cls.create(hub_id, host)
        _write_private(key_path, identity.key_pem)
        _write_private(cert_path, identity.cert_pem)
        return identity

    def check(self) -> None:
        """Raise ValueError unless the key is an EC key that matches the certificate."""
        try:
            cert = x509.load_pem_x509_certificate(self.cert_pem)
            key = serialization.load_pem_private_key(self.key_pem, password=None)
        except ValueError as err:
            raise ValueError(f"unreadable hub certificate or key: {err}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != (
            cert.public_key()
        ):
            raise ValueError("the hub's key does not belong to its certificate")

    def ssl_context(self) -> ssl.SSLContext:
        """Return a server context (TLS 1.3 only) that presents this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        # `load_cert_chain` reads files only: a private folder that lives for the call.
        folder = tempfile.mkdtemp(prefix="safehome-tls-")
        try:
            cert_path, key_path = Path(folder) / CERT_FILE, Path(folder) / KEY_FILE
            _write_private(cert_path, self.cert_pem)
            _write_private(key_path, self.key_pem)
            context.load_cert_chain(cert_path, key_path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return context


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (mode 0600), atomically."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.replace(partial, path)
