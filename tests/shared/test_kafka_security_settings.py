"""Kafka security settings without a broker: the options every client gets, and what is refused at start."""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from services.config import effective_settings
from shared.bus import KafkaBus, KafkaSecurity
from shared.bus.security import auth_failure, client_options
from shared.errors import ConfigError
from shared.settings import ServiceSettings, load_settings
from tests.support import free_port

PASSWORD = "pa55-word-never-shown"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment with no STANCEWATCH_ variable of the test process's own."""
    for name in list(os.environ):
        if name.upper().startswith("STANCEWATCH_"):
            monkeypatch.delenv(name)
    return monkeypatch


def sasl(env: pytest.MonkeyPatch, protocol: str = "SASL_PLAINTEXT", mechanism: str = "SCRAM-SHA-512") -> None:
    env.setenv("STANCEWATCH_KAFKA_SECURITY_PROTOCOL", protocol)
    env.setenv("STANCEWATCH_KAFKA_SASL_MECHANISM", mechanism)
    env.setenv("STANCEWATCH_KAFKA_SASL_USERNAME", "stancewatch")
    env.setenv("STANCEWATCH_KAFKA_SASL_PASSWORD", PASSWORD)


@pytest.fixture(scope="module")
def pem(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and its key (PEM), made by the openssl command."""
    folder = tmp_path_factory.mktemp("pem")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *"openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout".split(),
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_plaintext_is_the_default_and_gives_the_clients_no_credentials(env: pytest.MonkeyPatch) -> None:
    settings = load_settings(ServiceSettings)
    assert client_options(KafkaSecurity.from_settings(settings)) == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_settings_give_every_client_the_mechanism_and_credentials(env: pytest.MonkeyPatch, mechanism: str) -> None:
    sasl(env, mechanism=mechanism)
    options = client_options(KafkaSecurity.from_settings(load_settings(ServiceSettings)))
    assert options == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "stancewatch",
        "sasl_plain_password": PASSWORD,
    }


@pytest.mark.parametrize("missing", ["STANCEWATCH_KAFKA_SASL_USERNAME", "STANCEWATCH_KAFKA_SASL_PASSWORD"])
def test_sasl_without_a_username_or_password_fails_at_start_naming_the_variable(
    env: pytest.MonkeyPatch, missing: str
) -> None:
    sasl(env)
    env.delenv(missing)
    with pytest.raises(ConfigError, match=f"{missing} must be set with STANCEWATCH_KAFKA_SECURITY_PROTOCOL"):
        load_settings(ServiceSettings)


def test_credentials_with_a_protocol_that_ignores_them_fail_at_start(env: pytest.MonkeyPatch) -> None:
    sasl(env, protocol="PLAINTEXT")
    with pytest.raises(ConfigError, match="STANCEWATCH_KAFKA_SASL_USERNAME/PASSWORD are set but") as err:
        load_settings(ServiceSettings)
    assert PASSWORD not in str(err.value)


def test_an_unknown_mechanism_fails_at_start_naming_the_variable(env: pytest.MonkeyPatch) -> None:
    sasl(env, mechanism="GSSAPI")
    with pytest.raises(ConfigError, match="STANCEWATCH_KAFKA_SASL_MECHANISM"):
        load_settings(ServiceSettings)


def test_a_missing_tls_file_fails_at_start_naming_the_variable(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("STANCEWATCH_KAFKA_SECURITY_PROTOCOL", "SSL")
    env.setenv("STANCEWATCH_KAFKA_SSL_CAFILE", str(tmp_path / "nowhere.pem"))
    with pytest.raises(ConfigError, match=r"STANCEWATCH_KAFKA_SSL_CAFILE: .*no such file: .*nowhere.pem"):
        load_settings(ServiceSettings)


def test_tls_files_with_a_protocol_without_tls_fail_at_start(env: pytest.MonkeyPatch, pem: tuple[Path, Path]) -> None:
    env.setenv("STANCEWATCH_KAFKA_SSL_CAFILE", str(pem[0]))
    with pytest.raises(ConfigError, match=r"STANCEWATCH_KAFKA_SSL_CAFILE set but .*PLAINTEXT does not use TLS"):
        load_settings(ServiceSettings)


def test_a_key_without_its_certificate_fails_at_start(env: pytest.MonkeyPatch, pem: tuple[Path, Path]) -> None:
    env.setenv("STANCEWATCH_KAFKA_SECURITY_PROTOCOL", "SSL")
    env.setenv("STANCEWATCH_KAFKA_SSL_KEYFILE", str(pem[1]))
    with pytest.raises(
        ConfigError, match="STANCEWATCH_KAFKA_SSL_KEYFILE is set without STANCEWATCH_KAFKA_SSL_CERTFILE"
    ):
        load_settings(ServiceSettings)


def test_tls_gives_the_clients_a_verifying_context_with_the_ca_and_the_client_certificate(
    env: pytest.MonkeyPatch, pem: tuple[Path, Path]
) -> None:
    cert, key = pem
    sasl(env, protocol="SASL_SSL")
    env.setenv("STANCEWATCH_KAFKA_SSL_CAFILE", str(cert))
    env.setenv("STANCEWATCH_KAFKA_SSL_CERTFILE", str(cert))
    env.setenv("STANCEWATCH_KAFKA_SSL_KEYFILE", str(key))
    options = client_options(KafkaSecurity.from_settings(load_settings(ServiceSettings)))
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "127.0.0.1"),),)]
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_plain_password"] == PASSWORD


def test_a_file_that_is_not_a_certificate_is_a_configuration_error_naming_the_variable(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="STANCEWATCH_KAFKA_SSL_CAFILE"):
        KafkaBus("127.0.0.1:1", security=KafkaSecurity(protocol="SSL", cafile=bogus))
    with pytest.raises(ConfigError, match="STANCEWATCH_KAFKA_SSL_CERTFILE"):
        client_options(KafkaSecurity(protocol="SSL", certfile=bogus))


def test_the_password_is_never_in_a_repr_the_config_command_or_a_log(
    env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sasl(env)
    settings = load_settings(ServiceSettings)
    security = KafkaSecurity.from_settings(settings)
    assert isinstance(security.password, SecretStr)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("stancewatch.test").info("settings %s %r", settings, security)
    shown = [repr(settings), str(settings), repr(security), str(effective_settings(settings)), caplog.text]
    assert all(PASSWORD not in text for text in shown)
    assert effective_settings(settings)["STANCEWATCH_KAFKA_SASL_PASSWORD"] == "***"


async def test_with_no_broker_listening_an_authentication_check_finds_an_outage_not_a_configuration_error() -> None:
    security = KafkaSecurity(protocol="SASL_PLAINTEXT", username="u", password=SecretStr("p"))
    assert await auth_failure(f"127.0.0.1:{free_port()}", security, "producer start") is None
