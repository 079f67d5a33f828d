"""TLS mode's files: the local CA made on first use in the data folder, the server certificate it
signs for the loopback names and every Smartcar host, real handshakes against them, and what a
start does with files that are broken, expired or incomplete (replaces them, with a warning)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from motorpool.platform import tls
from motorpool.platform.hostnames import SMARTCAR_HOSTS
from motorpool.platform.settings import Settings


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def names_of(path: Path) -> set[str]:
    extension = certificate(path).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return {*extension.value.get_values_for_type(x509.DNSName),
            *(str(a) for a in extension.value.get_values_for_type(x509.IPAddress))}  # fmt: skip


async def handshake(files: tls.TlsFiles, name: str, client: ssl.SSLContext) -> None:
    """Serve ``files`` on a loopback port and open a TLS connection to it as ``name``."""
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=tls.server_context(files))
    port = server.sockets[0].getsockname()[1]
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client, server_hostname=name)
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_first_use_makes_the_ca_and_a_certificate_for_every_name(tmp_path: Path) -> None:
    files = tls.ensure_server_files(tmp_path / ".motorpool")
    folder = tmp_path / ".motorpool" / "tls"
    assert files.ca == folder / "ca.pem" and files.certfile == folder / "server.pem"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for private in ("ca-key.pem", "server-key.pem"):
        assert stat.S_IMODE((folder / private).stat().st_mode) == 0o600, private
    ca = certificate(folder / "ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    certificate(files.certfile).verify_directly_issued_by(ca)
    assert names_of(files.certfile) == {"localhost", "127.0.0.1", "::1", *SMARTCAR_HOSTS}
    bundle = files.bundle.read_bytes() if files.bundle else b""
    assert bundle.endswith((folder / "ca.pem").read_bytes()) and bundle.count(b"BEGIN CERTIFICATE") > 1

    again = tls.ensure_server_files(tmp_path / ".motorpool")
    assert again == files
    assert certificate(again.certfile).serial_number == certificate(files.certfile).serial_number


async def test_clients_that_trust_the_ca_complete_the_handshake_and_others_fail(tmp_path: Path) -> None:
    files = tls.ensure_server_files(tmp_path)
    assert files.ca is not None
    trusting = ssl.create_default_context(cafile=str(files.ca))
    for name in ("vehicle.api.smartcar.com", "iam.smartcar.com", "connect.smartcar.com", "localhost"):
        await handshake(files, name, trusting)
    with pytest.raises(ssl.SSLCertVerificationError):
        await handshake(files, "vehicle.api.smartcar.com", ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):  # a name the certificate does not carry
        await handshake(files, "smartcar.com", trusting)


def test_a_corrupt_server_certificate_is_replaced_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = tls.ensure_server_files(tmp_path)
    ca_before = files.ca.read_bytes() if files.ca else b""
    files.certfile.write_text("-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")
    with caplog.at_level(logging.WARNING, logger="motorpool.tls"):
        repaired = tls.ensure_server_files(tmp_path)
    assert "cannot be read" in caplog.text
    certificate(repaired.certfile)  # parses again
    assert repaired.ca and repaired.ca.read_bytes() == ca_before, "the CA was fine: it stays"


def test_an_expired_ca_is_replaced_with_a_warning_and_a_new_certificate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - tls.CA_LIFETIME - dt.timedelta(days=1)
    old = tls.ensure_server_files(tmp_path, now=long_ago)
    assert old.ca is not None
    old_ca = old.ca.read_bytes()
    with caplog.at_level(logging.WARNING, logger="motorpool.tls"):
        new = tls.ensure_server_files(tmp_path)
    assert "expired on" in caplog.text and "trust the new" in caplog.text
    assert new.ca and new.ca.read_bytes() != old_ca
    certificate(new.certfile).verify_directly_issued_by(certificate(new.ca))
    assert "PRIVATE KEY" not in caplog.text


def test_a_ca_without_its_key_is_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tls.ensure_ca(tmp_path)
    (tmp_path / "tls" / "ca-key.pem").unlink()
    with caplog.at_level(logging.WARNING, logger="motorpool.tls"):
        files = tls.ensure_server_files(tmp_path)
    assert "made a new one" in caplog.text
    assert files.ca and (tmp_path / "tls" / "ca-key.pem").exists()


def test_a_server_certificate_near_its_end_or_short_of_a_name_is_renewed_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    soon = dt.datetime.now(dt.UTC) - tls.SERVER_LIFETIME + dt.timedelta(days=5)
    first = tls.ensure_server_files(tmp_path, now=soon)
    serial = certificate(first.certfile).serial_number
    with caplog.at_level(logging.WARNING, logger="motorpool.tls"):
        renewed = tls.ensure_server_files(tmp_path)
        assert certificate(renewed.certfile).serial_number != serial
        widened = tls.ensure_server_files(tmp_path, ["motorpool.example"])
    assert "motorpool.example" in names_of(widened.certfile)
    assert caplog.text == "", "routine renewals are no warning"


def test_the_bundle_never_nests_when_ssl_cert_file_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = tls.ensure_server_files(tmp_path)
    assert files.bundle is not None
    size = files.bundle.stat().st_size
    monkeypatch.setenv("SSL_CERT_FILE", str(files.bundle))  # as `eval "$(motorpool env …)"` does
    tls.ensure_server_files(tmp_path)
    assert files.bundle.stat().st_size == size


def test_the_users_own_certificate_is_served_as_given(tmp_path: Path) -> None:
    made = tls.ensure_server_files(tmp_path / "elsewhere")
    own = tls.own_files(made.certfile, made.keyfile)
    assert (own.certfile, own.keyfile, own.ca) == (made.certfile, made.keyfile, None)
    other = tls.ensure_server_files(tmp_path / "another")
    with pytest.raises(tls.TlsSetupError, match="is not the key"):
        tls.own_files(made.certfile, other.keyfile)
    with pytest.raises(tls.TlsSetupError, match="cannot read"):
        tls.own_files(tmp_path / "missing.pem", made.keyfile)


def test_settings_of_tls_mode() -> None:
    assert Settings(tls=True).origin == "https://127.0.0.1:4000"
    assert Settings(tls=True, port=443).origin == "https://127.0.0.1"
    assert Settings(tls=True, host="::1").origin == "https://[::1]:4000"
    assert Settings().origin == "http://127.0.0.1:4000"
    own = Settings(tls_cert=Path("c.pem"), tls_key=Path("k.pem"))
    assert own.tls and own.origin.startswith("https://")
    with pytest.raises(ValueError, match="go together"):
        Settings(tls_cert=Path("c.pem"))


def test_the_ca_key_stays_out_of_every_file_but_its_own(tmp_path: Path) -> None:
    files = tls.ensure_server_files(tmp_path)
    key = (tmp_path / "tls" / "ca-key.pem").read_bytes()
    loaded = serialization.load_pem_private_key(key, None)
    assert loaded is not None
    for path in (tmp_path / "tls").iterdir():
        if path.name != "ca-key.pem" and path.is_file():
            assert key.strip() not in path.read_bytes(), path
    assert files.keyfile.read_bytes() != key
