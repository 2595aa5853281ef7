"""docker-compose, the Kubernetes manifests and the code agree on topics, variables and ports."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli import COMMANDS
from services.topics import strimzi_manifest
from shared.settings import ServiceSettings, env_name
from shared.topics import Topics

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"

#: service -> its settings class (module, class name)
SETTINGS = {
    "ingester": ("services.ingester.settings", "IngesterSettings"),
    "enricher": ("services.enricher.settings", "EnricherSettings"),
    "alerter": ("services.alerter.settings", "AlerterSettings"),
    "desk": ("services.desk.settings", "DeskSettings"),
}


def settings_vars(service: str | None) -> set[str]:
    classes: list[type[Any]] = [ServiceSettings]
    if service in SETTINGS:
        module, name = SETTINGS[service]
        classes.append(getattr(importlib.import_module(module), name))
    return {env_name(cls, field) for cls in classes for field in cls.model_fields}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def k8s_docs() -> list[dict[str, Any]]:
    """Every resource in the manifest files as written (kustomization files and the example Secret included)."""
    return [d for f in sorted(K8S.rglob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"].removeprefix("stancewatch-"): d for d in k8s_docs() if d["kind"] == "Deployment"}


def test_strimzi_topics_are_exactly_the_declared_topic_table() -> None:
    assert (K8S / "topics" / "topics.yaml").read_text() == strimzi_manifest(Topics(), "stancewatch")


def test_every_compose_service_runs_a_real_command_with_variables_its_settings_know() -> None:
    for name, svc in compose()["services"].items():
        if name == "kafka":
            continue
        assert svc["command"][0] in COMMANDS, name
        known = settings_vars(svc["command"][0])
        for var in svc.get("environment", {}):
            assert var in known, f"compose service {name}: {var} is not a setting"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_kubernetes_variable_is_a_setting_of_its_service(service: str) -> None:
    known = settings_vars(service)
    (container,) = deployments()[service]["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == service and service in COMMANDS
    for env in container.get("env", []):
        assert env["name"] in known, f"k8s {service}: {env['name']} is not a setting"
    config = next(d for d in k8s_docs() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "stancewatch-config")
    for var in config["data"]:
        assert var in settings_vars(None), f"ConfigMap: {var} is not a common setting"


def test_health_ports_agree_across_compose_kubernetes_and_settings() -> None:
    c = compose()
    for name in SETTINGS:
        svc = c["services"][name]
        port = int(svc["environment"].get("STANCEWATCH_HTTP_PORT") or c["x-service-env"]["STANCEWATCH_HTTP_PORT"])
        check = svc["healthcheck"]["test"]
        assert check[:3] == ["CMD", "stancewatch", "healthcheck"], name  # the image has no curl
        assert check[check.index("--port") + 1] == str(port), name
        assert any(p.endswith(f":{port}") for p in svc["ports"])
    config = next(d for d in k8s_docs() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "stancewatch-config")
    for name, dep in deployments().items():
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        assert container["ports"][0]["containerPort"] == int(config["data"]["STANCEWATCH_HTTP_PORT"]), name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_secrets_come_from_the_environment_or_secret_references_only() -> None:
    raw = (ROOT / "docker-compose.yml").read_text()
    for var in ("STANCEWATCH_WEBHOOK_SECRET", "STANCEWATCH_WEBHOOK_URL", "STANCEWATCH_SLACK_WEBHOOK_URL"):
        # Optional (a Slack-only newsroom sets no webhook), but only ever taken from the environment.
        assert re.search(rf"{var}: \$\{{{var}:-\}}", raw), f"compose must pass {var} as ${{{var}:-}}"
    (container,) = deployments()["alerter"]["spec"]["template"]["spec"]["containers"]
    for env in container["env"]:
        if "SECRET" in env["name"] or env["name"].endswith("_URL"):
            assert "secretKeyRef" in env.get("valueFrom", {}), env["name"]


def test_compose_topic_prefix_matches_the_code_default() -> None:
    prefix = compose()["x-service-env"]["STANCEWATCH_TOPIC_PREFIX"]
    assert prefix.endswith(f":-{Topics().prefix}}}")


def test_compose_keeps_kafka_data_on_its_volume_and_publishes_ports_on_loopback() -> None:
    c = compose()
    kafka = c["services"]["kafka"]
    (volume,) = kafka["volumes"]
    assert kafka["environment"]["KAFKA_LOG_DIRS"] == volume.split(":", 1)[1]
    published = {name: svc["ports"] for name, svc in c["services"].items() if svc.get("ports")}
    assert set(published) == set(SETTINGS)  # the broker publishes nothing: the services reach it as kafka:9092
    for name, ports in published.items():
        assert all(p.startswith("${STANCEWATCH_BIND:-127.0.0.1}:") for p in ports), name


def test_compose_requires_no_variable_so_a_slack_only_newsroom_sets_just_its_slack_url() -> None:
    raw = (ROOT / "docker-compose.yml").read_text()
    assert not re.findall(r"\$\{\w+:?\?", raw), "a ${VAR:?} or ${VAR?} makes compose refuse to start without VAR"
