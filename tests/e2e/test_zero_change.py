"""HTTPS and zero-change mode as a user runs them: ``motorpool serve --tls --proxy-port``, curl
and Python clients reaching it under Smartcar's host names with only environment variables,
``motorpool env``, ``ca`` and ``hosts``, the user's own certificate, and ``motorpool up --tls``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from motorpool.platform import tls
from motorpool.platform.hostnames import SMARTCAR_HOSTS

from ..support.connect_pages import go_through_connect
from ..support.processes import Served, free_port, serve, trusting
from ..support.requirements import missing
from ..support.up import clean_environment, start_up

pytestmark = pytest.mark.e2e


class ZeroChange:
    """A ``motorpool serve --tls --proxy-port`` and how a user reaches it."""

    def __init__(self, served: Served, proxy_port: int) -> None:
        self.served = served
        self.proxy = f"http://127.0.0.1:{proxy_port}"
        self.proxy_port = proxy_port

    def client(self, verify: object = None) -> httpx.Client:
        """A client that reaches Smartcar's names through the proxy (trusting the local CA
        unless told otherwise)."""
        transport = httpx.HTTPTransport(proxy=self.proxy, verify=verify or trusting(self.served.ca), trust_env=False)  # type: ignore[arg-type]
        return httpx.Client(mounts={"https://": transport}, timeout=20, trust_env=False)

    def token(self) -> str:
        env = self.served.env()
        with self.client() as client:
            answer = client.post("https://iam.smartcar.com/oauth2/token", data={
                "grant_type": "client_credentials",
                "client_id": env["SMARTCAR_CLIENT_ID"],
                "client_secret": env["SMARTCAR_CLIENT_SECRET"],
            })  # fmt: skip
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "motorpool.cli", *args], cwd=self.served.workdir,
            env=env or clean_environment(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def zero_change(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZeroChange]:
    proxy_port = free_port()
    served = serve(tmp_path_factory.mktemp("zero-change"), args=["--tls", "--proxy-port", str(proxy_port)])
    try:
        yield ZeroChange(served, proxy_port)
    finally:
        served.stop()


def curl() -> str:
    found = shutil.which("curl")
    if found is None:
        missing("this test runs curl (apt-get install curl)")
    return found


def test_serve_says_where_the_ca_and_the_proxy_are(zero_change: ZeroChange) -> None:
    output = zero_change.served.output.read_text()
    assert zero_change.served.origin.startswith("https://127.0.0.1:")
    assert f"motorpool platform on {zero_change.served.origin}" in output
    assert str(zero_change.served.ca.resolve()) in output
    assert f"HTTPS_PROXY={zero_change.proxy}" in output
    assert zero_change.served.env()["MOTORPOOL_URL"] == zero_change.served.origin


def test_curl_through_the_proxy_answers_from_motorpool(zero_change: ZeroChange) -> None:
    """The line of the README: curl --cacert "$(motorpool ca path)" -x http://127.0.0.1:4080 …"""
    ca_path = zero_change.cli("ca", "path")
    assert ca_path.returncode == 0, ca_path.stderr
    assert ca_path.stdout.strip() == str(zero_change.served.ca.resolve())
    answered = subprocess.run(
        [curl(), "-sS", "--cacert", ca_path.stdout.strip(), "-x", zero_change.proxy,
         "-H", f"Authorization: Bearer {zero_change.token()}",
         "https://vehicle.api.smartcar.com/v3/connections"],
        capture_output=True, text=True, timeout=30, check=False, env=clean_environment(),
    )  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    body = json.loads(answered.stdout)
    assert body["links"]["self"].startswith("https://vehicle.api.smartcar.com/v3/connections?")
    assert "connections" in body and "data" in body


def test_every_smartcar_host_answers_through_the_proxy(zero_change: ZeroChange) -> None:
    with zero_change.client() as client:
        for host in SMARTCAR_HOSTS:
            jwks = client.get(f"https://{host}/.well-known/jwks.json")
            assert jwks.status_code == 200 and jwks.json()["keys"], host


def test_a_client_that_does_not_trust_the_ca_fails_its_handshake(zero_change: ZeroChange) -> None:
    with zero_change.client(verify=True) as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get("https://iam.smartcar.com/.well-known/jwks.json")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(zero_change.served.origin + "/.well-known/jwks.json", trust_env=False)
    with pytest.raises(httpx.TransportError):  # and nothing is served over plain HTTP on that port
        httpx.get(zero_change.served.origin.replace("https://", "http://") + "/v3/connections", trust_env=False)


def test_the_proxy_refuses_other_hosts_and_logs_it(zero_change: ZeroChange) -> None:
    answered = subprocess.run(
        [curl(), "-sS", "-o", "/dev/null", "-w", "%{http_connect}", "-x", zero_change.proxy, "https://example.com/"],
        capture_output=True, text=True, timeout=30, check=False, env=clean_environment(),
    )  # fmt: skip
    assert answered.returncode != 0 and answered.stdout == "403", (answered.stdout, answered.stderr)
    plain = httpx.get(f"{zero_change.proxy}/", trust_env=False)
    assert plain.status_code == 400 and "CONNECT" in plain.text
    log = zero_change.served.output.read_text()
    assert "refused CONNECT example.com:443" in log


def test_connect_cookies_are_secure_under_tls(zero_change: ZeroChange) -> None:
    client_id = zero_change.served.env()["SMARTCAR_CLIENT_ID"]
    with zero_change.client() as browser:
        page = browser.get("https://connect.smartcar.com/oauth/authorize", params={
            "response_type": "code", "client_id": client_id, "mode": "test",
        })  # fmt: skip
    assert page.status_code == 200, page.text
    cookies = page.headers.get_list("set-cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies), cookies


def test_the_ca_key_is_never_logged_nor_served(zero_change: ZeroChange) -> None:
    key = (zero_change.served.ca.parent / "ca-key.pem").read_text()
    body = key.splitlines()[1]
    assert body not in zero_change.served.output.read_text()
    help_text = zero_change.cli("ca", "trust-help").stdout + zero_change.cli("env", "--proxy-port", "4080").stdout
    assert body not in help_text and "ca-key.pem" not in help_text
    with zero_change.client() as client:
        for path in ("/.motorpool/tls/ca-key.pem", "/ca-key.pem", "/tls/ca-key.pem"):
            assert client.get(f"https://iam.smartcar.com{path}").status_code == 404


def test_motorpool_env_is_enough_for_a_shell(zero_change: ZeroChange) -> None:
    """eval "$(motorpool env --proxy-port N)" and curl reaches motorpool at Smartcar's names."""
    env = zero_change.served.env()
    motorpool = f"{sys.executable} -m motorpool.cli"
    script = (
        f'eval "$({motorpool} env --proxy-port {zero_change.proxy_port})" && '
        'echo "$SMARTCAR_CLIENT_ID $SMARTCAR_REDIRECT_URI $HTTPS_PROXY" && '
        f'{curl()} -sS https://iam.smartcar.com/oauth2/token -d grant_type=client_credentials '
        '-d client_id="$SMARTCAR_CLIENT_ID" -d client_secret="$SMARTCAR_CLIENT_SECRET"'
    )
    shell = subprocess.run(
        ["sh", "-c", script], cwd=zero_change.served.workdir, env=clean_environment(),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    said, token = shell.stdout.splitlines()
    assert said == f"{env['SMARTCAR_CLIENT_ID']} http://localhost:8000/exchange {zero_change.proxy}"
    assert json.loads(token)["token_type"] == "Bearer"


def test_motorpool_env_prints_the_tutorials_variables(zero_change: ZeroChange) -> None:
    env = zero_change.served.env()
    plain = zero_change.cli("env")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines() == [
        f"export SMARTCAR_CLIENT_ID={env['SMARTCAR_CLIENT_ID']}",
        f"export SMARTCAR_CLIENT_SECRET={env['SMARTCAR_CLIENT_SECRET']}",
        "export SMARTCAR_REDIRECT_URI=http://localhost:8000/exchange",
    ]
    by_name = zero_change.cli("env", "--tls").stdout
    ca = zero_change.served.ca.resolve()
    assert f"export NODE_EXTRA_CA_CERTS={ca}" in by_name
    assert f"export REQUESTS_CA_BUNDLE={ca.parent / 'ca-bundle.pem'}" in by_name
    assert "HTTPS_PROXY" not in by_name
    from_environment = zero_change.cli("env", env=clean_environment() | {"MOTORPOOL_PROXY_PORT": "4099"}).stdout
    assert "export HTTPS_PROXY=http://127.0.0.1:4099" in from_environment


def test_motorpool_env_without_credentials_says_how_to_get_them(tmp_path: Path) -> None:
    answered = subprocess.run(
        [sys.executable, "-m", "motorpool.cli", "env"], cwd=tmp_path, env=clean_environment(),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert answered.returncode == 1 and answered.stdout == ""
    assert "first start writes them" in answered.stderr


def test_ca_trust_help_names_each_ecosystem(zero_change: ZeroChange) -> None:
    shown = zero_change.cli("ca", "trust-help")
    assert shown.returncode == 0, shown.stderr
    ca = str(zero_change.served.ca.resolve())
    for expected in ("SSL_CERT_FILE=", "REQUESTS_CA_BUNDLE=", f"NODE_EXTRA_CA_CERTS={ca}",
                     f"keytool -importcert -noprompt -alias motorpool-local-ca -file {ca}",
                     f"curl --cacert {ca}", "http_proxy=", "-Dhttps.proxyHost="):  # fmt: skip
        assert expected in shown.stdout, expected
    bundle = zero_change.cli("ca", "path", "--bundle").stdout.strip()
    assert Path(bundle).read_bytes().endswith(zero_change.served.ca.read_bytes())


def test_hosts_prints_applies_and_removes_its_lines(tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts"
    original = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
    hosts_file.write_text(original)

    def hosts(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "motorpool.cli", "hosts", *args], cwd=tmp_path,
            env=clean_environment(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    printed = hosts()
    assert printed.returncode == 0
    assert [f"127.0.0.1 {host}" for host in SMARTCAR_HOSTS] == [
        line for line in printed.stdout.splitlines() if not line.startswith("#")
    ]
    assert hosts("--apply", "--file", str(hosts_file)).returncode == 0
    assert hosts("--apply", "--file", str(hosts_file)).returncode == 0  # twice: still once
    applied = hosts_file.read_text()
    assert applied.startswith(original) and applied.count("vehicle.api.smartcar.com") == 1
    assert hosts("--remove", "--file", str(hosts_file)).returncode == 0
    assert hosts_file.read_text() == original
    assert hosts("--apply", "--remove").returncode == 2


def test_bad_tls_options_are_told_in_one_line(tmp_path: Path) -> None:
    def serve_with(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "motorpool.cli", "serve", "--port", str(free_port()), *args],
            cwd=tmp_path, env=clean_environment(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    no_tls = serve_with("--proxy-port", "4080")
    assert no_tls.returncode == 2 and "turn TLS on" in no_tls.stderr and "Traceback" not in no_tls.stderr
    half = serve_with("--tls-cert", str(tmp_path / "c.pem"))
    assert half.returncode == 2 and "go together" in half.stderr
    unreadable = serve_with("--tls-cert", str(tmp_path / "c.pem"), "--tls-key", str(tmp_path / "k.pem"))
    assert unreadable.returncode == 2 and "cannot read" in unreadable.stderr
    with __import__("socket").socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = serve_with("--tls", "--proxy-port", str(busy.getsockname()[1]))
    assert taken.returncode == 1 and "for the proxy" in taken.stderr


def test_serve_takes_the_users_own_certificate(tmp_path: Path) -> None:
    own = tls.ensure_server_files(tmp_path / "my-own-ca")
    served = serve(tmp_path, args=["--tls-cert", str(own.certfile), "--tls-key", str(own.keyfile)])
    try:
        assert served.origin.startswith("https://")
        # The data folder holds the key-encryption key, but no local CA for the user's own certificate.
        assert not (tmp_path / ".motorpool" / tls.CA_FILE).exists(), "no local CA is made for the user's own certificate"
        assert not (tmp_path / ".motorpool" / tls.CA_KEY_FILE).exists()
        assert own.ca is not None
        answer = httpx.get(served.origin + "/.well-known/jwks.json", verify=trusting(own.ca), trust_env=False)
        assert answer.status_code == 200
    finally:
        served.stop()


def test_motorpool_tls_1_turns_tls_on(tmp_path: Path) -> None:
    served = serve(tmp_path, environment={"MOTORPOOL_TLS": "1"})
    try:
        assert served.grant().status_code == 200
        assert served.env()["MOTORPOOL_URL"].startswith("https://127.0.0.1:")
    finally:
        served.stop()


async def test_up_with_tls_and_the_proxy_walks_the_demo_over_https(tmp_path: Path) -> None:
    proxy_port = free_port()
    up = start_up(tmp_path, args=["--tls", "--proxy-port", str(proxy_port)])
    try:
        assert up.platform.startswith("https://") and f"HTTPS_PROXY=http://127.0.0.1:{proxy_port}" in up.output
        async with httpx.AsyncClient(follow_redirects=True, timeout=20, verify=up.verify, trust_env=False) as browser:
            connect_page = await browser.get(f"{up.demo}/login")
            assert str(connect_page.url).startswith(f"{up.platform}/oauth/authorize?")
            page = await go_through_connect(browser, connect_page, email="secure@example.com")
            # The demo's SDK read the vehicles over HTTPS, trusting the local CA.
            assert page.status_code == 200 and str(page.url) == f"{up.demo}/vehicle", page.text
            assert 'data-vehicle-id="' in page.text
        assert up.env["MOTORPOOL_URL"] == up.platform
        with httpx.Client(mounts={"https://": httpx.HTTPTransport(proxy=f"http://127.0.0.1:{proxy_port}",
                                                                   verify=up.verify, trust_env=False)},
                          trust_env=False) as client:  # fmt: skip
            assert client.get("https://vehicle.api.smartcar.com/.well-known/jwks.json").status_code == 200
    finally:
        assert up.stop() == 0, up.output


JAVA_CLIENT = """
import java.net.HttpURLConnection;
import java.net.URL;

public class Reach {
    public static void main(String[] args) throws Exception {
        HttpURLConnection connection = (HttpURLConnection) new URL(args[0]).openConnection();
        System.out.println(connection.getResponseCode());
    }
}
"""


def test_java_trusts_the_ca_and_goes_through_the_proxy_as_trust_help_says(
    zero_change: ZeroChange, tmp_path: Path
) -> None:
    """The keytool line and the -D flags `motorpool ca trust-help` prints, run as printed."""
    if shutil.which("java") is None or shutil.which("keytool") is None:
        missing("this test runs java and keytool (apt-get install openjdk-17-jdk-headless)")
    shown = zero_change.cli("ca", "trust-help", "--proxy-port", str(zero_change.proxy_port)).stdout.splitlines()
    keytool = next(line.strip() for line in shown if line.strip().startswith("keytool "))
    imported = subprocess.run(keytool, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert imported.returncode == 0, imported.stderr
    java_line = next(index for index, line in enumerate(shown) if line.strip().startswith("java "))
    flags = (shown[java_line] + shown[java_line + 1]).replace("\\", " ").replace("…", "").split()[1:]
    (tmp_path / "Reach.java").write_text(JAVA_CLIENT)
    env = clean_environment()
    env.pop("JAVA_TOOL_OPTIONS", None)
    reached = subprocess.run(
        ["java", *flags, "Reach.java", "https://vehicle.api.smartcar.com/.well-known/jwks.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert reached.returncode == 0 and reached.stdout.strip() == "200", reached.stderr
