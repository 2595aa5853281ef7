"""How every Kafka client authenticates and encrypts: one place builds the aiokafka options.

The producer, every consumer, the admin clients and ``read_all`` all take their options from
:func:`client_options`, so no client can be built that talks PLAINTEXT to a secured cluster by
accident. An authentication failure is a configuration error, not an outage: :func:`auth_failure`
tells the two apart, since aiokafka reports both as "Unable to bootstrap".
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka.conn import create_conn
from aiokafka.errors import IllegalSaslStateError, KafkaError, SaslAuthenticationFailed, UnsupportedSaslMechanismError
from pydantic import SecretStr

from shared.errors import ConfigError

if TYPE_CHECKING:
    from shared.settings import ServiceSettings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
CREDENTIALS = "STANCEWATCH_KAFKA_SASL_USERNAME and STANCEWATCH_KAFKA_SASL_PASSWORD"


@dataclass(frozen=True)
class KafkaSecurity:
    """The security settings of a Kafka client; the password stays a SecretStr (masked in any repr)."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    key_password: SecretStr | None = None

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> KafkaSecurity:
        """From the settings, which have checked the combination already."""
        return cls(
            protocol=settings.kafka_security_protocol,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            key_password=settings.kafka_ssl_key_password,
        )

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext:
    """A verifying TLS context: the given CA (else the system's) and the client certificate, if any."""
    try:
        context = ssl.create_default_context(cafile=str(security.cafile) if security.cafile else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"kafka TLS: cannot load STANCEWATCH_KAFKA_SSL_CAFILE {security.cafile}: {exc}") from exc
    if security.certfile is not None:
        try:
            context.load_cert_chain(
                str(security.certfile),
                str(security.keyfile) if security.keyfile else None,
                security.key_password.get_secret_value() if security.key_password else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                "kafka TLS: cannot load the client certificate (STANCEWATCH_KAFKA_SSL_CERTFILE, "
                f"STANCEWATCH_KAFKA_SSL_KEYFILE, STANCEWATCH_KAFKA_SSL_KEY_PASSWORD): {exc}"
            ) from exc
    return context


def client_options(security: KafkaSecurity) -> dict[str, Any]:
    """The aiokafka keyword arguments for ``security``, the same for every kind of client.

    The result holds the password in clear, as aiokafka wants it: pass it on, never log it.
    """
    if security.protocol not in PROTOCOLS:
        raise ConfigError(f"STANCEWATCH_KAFKA_SECURITY_PROTOCOL: {security.protocol!r} is not one of {PROTOCOLS}")
    options: dict[str, Any] = {"security_protocol": security.protocol}
    if security.sasl:
        if security.mechanism not in MECHANISMS:
            raise ConfigError(f"STANCEWATCH_KAFKA_SASL_MECHANISM: {security.mechanism!r} is not one of {MECHANISMS}")
        if not security.username or security.password is None or not security.password.get_secret_value():
            raise ConfigError(f"{CREDENTIALS} must be set with STANCEWATCH_KAFKA_SECURITY_PROTOCOL={security.protocol}")
        options |= {
            "sasl_mechanism": security.mechanism,
            "sasl_plain_username": security.username,
            "sasl_plain_password": security.password.get_secret_value(),
        }
    if security.tls:
        options["ssl_context"] = ssl_context(security)
    return options


async def auth_failure(
    bootstrap: str, security: KafkaSecurity, stage: str, timeout_s: float = 10.0
) -> ConfigError | None:
    """Why no client could start, when the reason is ours: refused credentials or an untrusted certificate.

    aiokafka logs the cause and raises only "Unable to bootstrap", which looks like an outage; one
    direct connection per bootstrap server tells. None when no broker answers (an outage, retried).
    """
    if not (security.sasl or security.tls):
        return None
    options = client_options(security)
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            conn = await asyncio.wait_for(create_conn(host.strip("[]"), int(port), **options), timeout_s)
        except (SaslAuthenticationFailed, IllegalSaslStateError) as exc:
            return ConfigError(
                f"{stage} ({bootstrap}): the broker refused the {security.mechanism} credentials of user "
                f"{security.username!r}: check {CREDENTIALS} ({exc})"
            )
        except UnsupportedSaslMechanismError as exc:
            return ConfigError(f"{stage} ({bootstrap}): check STANCEWATCH_KAFKA_SASL_MECHANISM: {exc}")
        except ssl.SSLCertVerificationError as exc:
            return ConfigError(
                f"{stage} ({bootstrap}): the broker's certificate is not trusted: "
                f"check STANCEWATCH_KAFKA_SSL_CAFILE ({exc.verify_message})"
            )
        except (OSError, TimeoutError, KafkaError):  # anything else is the broker being away: an outage
            continue
        with contextlib.suppress(OSError, KafkaError):
            conn.close()
        return None  # it connects and authenticates now: the failure was passing
    return None
