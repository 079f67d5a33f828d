"""TLS mode: a local certificate authority in the data folder, and the server certificate it signs.

On first use the data folder (``MOTORPOOL_DATA_DIR``, ``./.motorpool`` by default) gets ``tls/``:

- ``ca.pem`` — the local CA's certificate: what clients are told to trust;
- ``ca-key.pem`` — its private key, readable by the owner only, never served nor logged;
- ``server.pem`` and ``server-key.pem`` — the certificate the platform serves, for ``localhost``,
  ``127.0.0.1``, ``::1`` and every Smartcar host name, signed by the CA;
- ``ca-bundle.pem`` — the system's trusted CAs plus the local CA, for the variables that replace a
  client's whole trust store (``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``), so that other HTTPS
  still verifies.

Each start checks what it finds: a file that does not parse, a key that does not match its
certificate, a certificate that expired (or expires within a month), a server certificate the CA
did not sign or that lacks a name — each is replaced, with a warning, never a crash. A new CA must
be trusted again; the warning says so."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import logging
import os
import secrets
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .hostnames import LOCAL_NAMES, SMARTCAR_HOSTS

log = logging.getLogger("motorpool.tls")

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
BUNDLE_FILE = "ca-bundle.pem"

CA_LIFETIME = dt.timedelta(days=3650)
SERVER_LIFETIME = dt.timedelta(days=365)
#: A certificate closer than this to its end is renewed at start.
RENEW_BEFORE = dt.timedelta(days=30)


class TlsSetupError(Exception):
    """TLS cannot be set up (the user's own certificate or key is missing or unreadable)."""


@dataclass(frozen=True)
class TlsFiles:
    """What the server needs to serve HTTPS, and what clients need to trust it."""

    certfile: Path
    keyfile: Path
    #: The local CA's certificate; None when the user brought a certificate of their own.
    ca: Path | None = None
    #: The system's CAs plus the local CA; None with the user's own certificate.
    bundle: Path | None = None


def tls_folder(data_dir: Path) -> Path:
    return data_dir / "tls"


def server_names(extra: Iterable[str] = ()) -> list[str]:
    """The names a server certificate covers: the loopback names, Smartcar's hosts and
    ``extra`` (the public URL's host), each once."""
    names: list[str] = []
    for name in (*LOCAL_NAMES, *SMARTCAR_HOSTS, *extra):
        name = name.strip().lower().strip("[]")
        if name and name not in names:
            names.append(name)
    return names


def ensure_ca(data_dir: Path, now: dt.datetime | None = None) -> Path:
    """The local CA's certificate file, made on first use (or remade when unusable)."""
    folder = _folder(data_dir)
    with _locked(folder):
        _ca(folder, now or _now())
        _write_bundle(folder)
    return folder / CA_FILE


def ensure_server_files(
    data_dir: Path, extra_names: Iterable[str] = (), now: dt.datetime | None = None
) -> TlsFiles:
    """The CA and a server certificate for :func:`server_names`, made or renewed as needed."""
    moment = now or _now()
    folder = _folder(data_dir)
    names = server_names(extra_names)
    with _locked(folder):
        ca_cert, ca_key = _ca(folder, moment)
        problem, routine = _server_problem(folder, ca_cert, names, moment)
        if problem is not None:
            # Renewing ahead of the end, or for a new name, is routine; anything else is told.
            report = log.info if routine else log.warning
            report("motorpool: the server certificate in %s %s; issued a new one", folder, problem)
            _issue_server(folder, ca_cert, ca_key, names, moment)
        _write_bundle(folder)
    return TlsFiles(folder / CERT_FILE, folder / KEY_FILE, folder / CA_FILE, folder / BUNDLE_FILE)


def own_files(certfile: Path, keyfile: Path) -> TlsFiles:
    """The user's own certificate and key, checked to be readable and to belong together."""
    try:
        certificate = x509.load_pem_x509_certificate(certfile.read_bytes())
        key = serialization.load_pem_private_key(keyfile.read_bytes(), None)
    except OSError as exc:
        raise TlsSetupError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise TlsSetupError(
            f"{certfile} and {keyfile} must be a PEM certificate and an unencrypted PEM key: {exc}"
        ) from None
    if not _same_key(certificate, key):
        raise TlsSetupError(f"the key in {keyfile} is not the key of the certificate in {certfile}")
    return TlsFiles(certfile, keyfile)


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server-side context serving ``files`` (what uvicorn builds from the same files)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.certfile, files.keyfile)
    return context


# --- the CA -------------------------------------------------------------------------------------


def _ca(folder: Path, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA's certificate and key, made when missing and remade when unusable."""
    certfile, keyfile = folder / CA_FILE, folder / CA_KEY_FILE
    if not certfile.exists() and not keyfile.exists():
        return _new_ca(folder, now)
    problem: str | None
    try:
        certificate = x509.load_pem_x509_certificate(certfile.read_bytes())
        key = serialization.load_pem_private_key(keyfile.read_bytes(), None)
    except (OSError, ValueError, TypeError):
        problem = "cannot be read"
    else:
        problem = _ca_problem(certificate, key, now)
        if problem is None and isinstance(key, ec.EllipticCurvePrivateKey):
            return certificate, key
    log.warning(
        "motorpool: the local CA in %s %s; made a new one. Clients must trust the new %s "
        "(motorpool ca trust-help).",
        folder, problem or "has a key of an unexpected kind", certfile,
    )  # fmt: skip
    return _new_ca(folder, now)


def _ca_problem(certificate: x509.Certificate, key: object, now: dt.datetime) -> str | None:
    if not _same_key(certificate, key):
        return "holds a key that is not its certificate's"
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return "is not a certificate authority"
    if not constraints.ca:
        return "is not a certificate authority"
    if certificate.not_valid_after_utc <= now:
        return f"expired on {certificate.not_valid_after_utc:%Y-%m-%d}"
    if certificate.not_valid_after_utc - now < RENEW_BEFORE:
        return f"expires on {certificate.not_valid_after_utc:%Y-%m-%d}"
    if certificate.not_valid_before_utc > now:
        return "is not valid yet"
    return None


def _new_ca(folder: Path, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    # A random suffix tells this machine's CA from another's in a trust store.
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "motorpool"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"motorpool local CA {secrets.token_hex(4)}"),
    ])  # fmt: skip
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    # The key first: a CA certificate without its key would be remade at the next start.
    _write(folder / CA_KEY_FILE, _key_pem(key), private=True)
    _write(folder / CA_FILE, certificate.public_bytes(serialization.Encoding.PEM))
    # Whatever the old CA signed is worthless now.
    (folder / CERT_FILE).unlink(missing_ok=True)
    return certificate, key


# --- the server certificate ---------------------------------------------------------------------


def _server_problem(
    folder: Path, ca: x509.Certificate, names: list[str], now: dt.datetime
) -> tuple[str | None, bool]:
    """What is wrong with the server certificate (None when nothing), and whether replacing it
    is routine (it is missing, near its end, or lacks a name) rather than a repair."""
    certfile, keyfile = folder / CERT_FILE, folder / KEY_FILE
    if not certfile.exists():
        return "is missing", True
    try:
        certificate = x509.load_pem_x509_certificate(certfile.read_bytes())
        key = serialization.load_pem_private_key(keyfile.read_bytes(), None)
    except (OSError, ValueError, TypeError):
        return "cannot be read", False
    if not _same_key(certificate, key):
        return "holds a key that is not its certificate's", False
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return "was not signed by the local CA", False
    ends = certificate.not_valid_after_utc
    if ends <= now:
        return f"expired on {ends:%Y-%m-%d}", False
    if certificate.not_valid_before_utc > now:
        return "is not valid yet", False
    if ends - now < RENEW_BEFORE:
        return f"expires on {ends:%Y-%m-%d}", True
    covered = set(_names_of(certificate))
    missing = [name for name in names if name not in covered]
    if missing:
        return f"does not name {', '.join(missing)}", True
    return None, True


def _issue_server(
    folder: Path, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, names: list[str],
    now: dt.datetime,
) -> None:  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    ca_identifier = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "motorpool"),
        x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
    ])  # fmt: skip
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + SERVER_LIFETIME, ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_identifier),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(folder / KEY_FILE, _key_pem(key), private=True)
    _write(folder / CERT_FILE, certificate.public_bytes(serialization.Encoding.PEM))


def _key_usage(**allowed: bool) -> x509.KeyUsage:
    """A key usage extension allowing only the usages named."""
    usages = (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    )  # fmt: skip
    return x509.KeyUsage(**{usage: allowed.get(usage, False) for usage in usages})


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _names_of(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    dns = extension.value.get_values_for_type(x509.DNSName)
    addresses = [str(address) for address in extension.value.get_values_for_type(x509.IPAddress)]
    return [name.lower() for name in dns] + addresses


# --- the bundle ---------------------------------------------------------------------------------


def system_ca_file() -> Path | None:
    """The system's file of trusted CAs (OpenSSL's built-in default), else certifi's. Not the
    file ``SSL_CERT_FILE`` names: that may be this very bundle, exported by ``motorpool env``."""
    paths = ssl.get_default_verify_paths()
    if paths.openssl_cafile and Path(paths.openssl_cafile).is_file():
        return Path(paths.openssl_cafile)
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return None
    return Path(certifi.where())


def _write_bundle(folder: Path) -> None:
    system = system_ca_file()
    trusted = system.read_bytes() if system is not None else b""
    if trusted and not trusted.endswith(b"\n"):
        trusted += b"\n"
    wanted = trusted + b"# motorpool's local CA\n" + (folder / CA_FILE).read_bytes()
    bundle = folder / BUNDLE_FILE
    if not bundle.exists() or bundle.read_bytes() != wanted:
        _write(bundle, wanted)


# --- files --------------------------------------------------------------------------------------


def _folder(data_dir: Path) -> Path:
    folder = tls_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        folder.chmod(0o700)
    return folder


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One process at a time makes or checks the files (two starts at once share one CA)."""
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(path: Path, content: bytes, private: bool = False) -> None:
    """Write ``path`` whole or not at all (a new file, renamed over the old), owner-only when
    ``private``."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    mode = 0o600 if private else 0o644
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _same_key(certificate: x509.Certificate, key: object) -> bool:
    public = getattr(key, "public_key", None)
    if public is None:
        return False
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = serialization.Encoding.PEM
    theirs = certificate.public_key().public_bytes(pem, spki)
    return bool(public().public_bytes(pem, spki) == theirs)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
