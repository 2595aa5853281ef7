"""The Kubernetes manifests as a cluster receives them: rendered by kustomize, scored by kube-score, the
KafkaTopics checked against Strimzi's KafkaTopic v1 schema, and the hardening stated as behaviour.

kustomize and kube-score are built from source by `make deploy-tools` (`make test` and `make unit` run it)
into .cache/tools/bin; without a Go toolchain these tests skip and say so.
"""

from __future__ import annotations

import copy
import ipaddress
import math
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from services.alerter.settings import AlerterSettings
from services.ingester.settings import IngesterSettings
from shared.settings import env_name, load_settings
from shared.topics import Topics
from tests.support import ROOT

K8S = ROOT / "deploy" / "k8s"
TOOLS_BIN = ROOT / ".cache" / "tools" / "bin"
SCHEMA = Path(__file__).parent / "schemas" / "strimzi-kafkatopic-v1.yaml"
#: kube-score judges against the oldest Kubernetes that Strimzi 0.51 and later support.
KUBERNETES_VERSION = "v1.30"
APP_NAMESPACE = "stancewatch"
SERVICES = ("ingester", "enricher", "alerter", "desk")
#: The services that fetch from outside the cluster: feeds and pages; webhooks and Slack.
INTERNET_CLIENTS = {"ingester", "alerter"}

Doc = dict[str, Any]


def tool(name: str) -> Path:
    path = TOOLS_BIN / name
    if path.exists():
        return path
    if shutil.which("go") is None:
        pytest.skip(f"{name} is built from source with Go (`make deploy-tools`), and there is no `go` on PATH")
    pytest.fail(f"{path} is missing: run `make deploy-tools` (`make test` and `make unit` do)")


def kube_score(manifests: str) -> subprocess.CompletedProcess[str]:
    """kube-score's default checks plus the seccomp one; any warning fails (exit 1)."""
    command = [str(tool("kube-score")), "score", "--output-format", "ci", "--kubernetes-version", KUBERNETES_VERSION]
    command += ["--enable-optional-test", "container-seccomp-profile", "--exit-one-on-warning", "-"]
    return subprocess.run(command, input=manifests, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def rendered() -> str:
    result = subprocess.run([str(tool("kustomize")), "build", str(K8S)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def resources(rendered: str) -> list[Doc]:
    return [d for d in yaml.safe_load_all(rendered) if d]


def of_kind(resources: list[Doc], kind: str) -> list[Doc]:
    return [d for d in resources if d["kind"] == kind]


def deployment(resources: list[Doc], service: str) -> Doc:
    (found,) = [d for d in of_kind(resources, "Deployment") if d["metadata"]["name"] == f"stancewatch-{service}"]
    return found


def only_container(dep: Doc) -> Doc:
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    return container


def bootstrap(resources: list[Doc]) -> tuple[str, str, int]:
    """(cluster, namespace, port) of the Strimzi bootstrap Service the services are told to use."""
    (config,) = [d for d in of_kind(resources, "ConfigMap") if d["metadata"]["name"] == "stancewatch-config"]
    servers = config["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    match = re.fullmatch(
        r"(?P<cluster>[a-z0-9-]+)-kafka-bootstrap\.(?P<ns>[a-z0-9-]+)\.svc[a-z.]*:(?P<port>\d+)", servers
    )
    assert match, f"{servers} is not a Strimzi bootstrap address (<cluster>-kafka-bootstrap.<namespace>.svc:<port>)"
    return match["cluster"], match["ns"], int(match["port"])


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels, matchExpressions with In/NotIn/Exists/DoesNotExist) against labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def pod_labels(dep: Doc) -> dict[str, str]:
    return dep["spec"]["template"]["metadata"]["labels"]


def policies_for(resources: list[Doc], dep: Doc, direction: str) -> list[Doc]:
    return [
        p
        for p in of_kind(resources, "NetworkPolicy")
        if p["metadata"]["namespace"] == dep["metadata"]["namespace"]
        and direction in p["spec"].get("policyTypes", [])
        and selects(p["spec"]["podSelector"], pod_labels(dep))
    ]


def egress_rules(resources: list[Doc], dep: Doc) -> list[Doc]:
    return [rule for p in policies_for(resources, dep, "Egress") for rule in p["spec"].get("egress", [])]


def allows_address(rules: list[Doc], address: str, port: int) -> bool:
    """Whether an egress rule lets the pod open TCP ``port`` on ``address`` (an address outside the cluster)."""
    ip = ipaddress.ip_address(address)

    def within(cidr: str) -> bool:
        network = ipaddress.ip_network(cidr)
        return network.version == ip.version and ip in network

    for rule in rules:
        ports = rule.get("ports")  # none: every port
        if ports and not any(p.get("protocol", "TCP") == "TCP" and p.get("port") == port for p in ports):
            continue
        if not rule.get("to"):  # no peers: every destination
            return True
        for block in (peer["ipBlock"] for peer in rule["to"] if "ipBlock" in peer):
            if within(block["cidr"]) and not any(within(e) for e in block.get("except", [])):
                return True
    return False


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity (``2``, ``1.5``, ``500m``) in cores."""
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


# --- the validators themselves ------------------------------------------------------------------------------


def test_kube_score_finds_nothing_to_warn_about_in_the_rendered_manifests(rendered: str) -> None:
    result = kube_score(rendered)
    problems = [line for line in result.stdout.splitlines() if not line.startswith(("[OK]", "[SKIPPED]"))]
    assert result.returncode == 0 and not problems, "\n".join(problems) or result.stderr
    scored = {line.split()[1].split("/")[0] for line in result.stdout.splitlines() if "apps/v1/Deployment" in line}
    assert scored == {f"stancewatch-{s}" for s in SERVICES}


def test_kube_score_as_run_here_fails_a_deployment_stripped_of_its_hardening(resources: list[Doc]) -> None:
    bare = copy.deepcopy(deployment(resources, "alerter"))
    pod = bare["spec"]["template"]["spec"]
    del pod["securityContext"], pod["affinity"]
    for container in pod["containers"]:
        del container["securityContext"], container["resources"]
        container["image"] = "stancewatch:latest"
    result = kube_score(yaml.safe_dump(bare))
    assert result.returncode == 1
    findings = ("Image with latest tag", "CPU limit is not set", "No matching PodDisruptionBudget", "NetworkPolicy")
    for finding in findings:
        assert finding in result.stdout, finding


def test_the_only_kube_score_checks_switched_off_are_those_of_the_single_writer_deployments(
    resources: list[Doc],
) -> None:
    ignored = {
        d["metadata"]["name"]: d["metadata"]["annotations"]["kube-score/ignore"]
        for d in resources
        if "kube-score/ignore" in d["metadata"].get("annotations", {})
    }
    assert ignored == {
        "stancewatch-ingester": "deployment-replicas",
        "stancewatch-desk": "deployment-replicas,deployment-strategy",
    }
    assert deployment(resources, "ingester")["spec"]["replicas"] == 1
    desk = deployment(resources, "desk")["spec"]
    assert (desk["replicas"], desk["strategy"]["type"]) == (1, "Recreate")  # one SQLite writer at a time


@pytest.fixture(scope="module")
def topic_schema() -> jsonschema.Draft202012Validator:
    schema = yaml.safe_load(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_kafka_topic_is_valid_against_strimzis_kafka_topic_v1_schema(
    resources: list[Doc], topic_schema: jsonschema.Draft202012Validator
) -> None:
    topics = of_kind(resources, "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics} == {spec.name for spec in Topics().all()}
    for topic in topics:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in topic_schema.iter_errors(topic)]
        assert not errors, f"{topic['metadata']['name']}: {errors}"


MISTAKES: dict[str, Callable[[Doc], object]] = {
    "the removed v1beta2 API": lambda t: t.update(apiVersion="kafka.strimzi.io/v1beta2"),
    "no spec": lambda t: t.pop("spec"),
    "a misspelt field": lambda t: t["spec"].update(partiton=t["spec"].pop("partitions")),
    "zero partitions": lambda t: t["spec"].update(partitions=0),
    "a partition count as a string": lambda t: t["spec"].update(partitions="6"),
    "more replicas than Kafka allows": lambda t: t["spec"].update(replicas=32768),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_the_kafka_topic_schema_refuses_a_topic_strimzi_would_refuse(
    resources: list[Doc], topic_schema: jsonschema.Draft202012Validator, mistake: str
) -> None:
    topic = copy.deepcopy(of_kind(resources, "KafkaTopic")[0])
    MISTAKES[mistake](topic)
    assert not topic_schema.is_valid(topic)


# --- where things land ------------------------------------------------------------------------------------


def test_kafka_topics_live_with_their_kafka_cluster_and_everything_else_in_the_app_namespace(
    resources: list[Doc],
) -> None:
    cluster, namespace, _ = bootstrap(resources)
    topics = of_kind(resources, "KafkaTopic")
    assert topics
    for topic in topics:
        assert topic["metadata"]["namespace"] == namespace, topic["metadata"]["name"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster, topic["metadata"]["name"]
    for doc in resources:
        if doc["kind"] not in ("KafkaTopic", "Namespace"):
            assert doc["metadata"]["namespace"] == APP_NAMESPACE, f"{doc['kind']} {doc['metadata']['name']}"


def test_every_image_is_set_by_the_kustomization_to_the_project_version(resources: list[Doc]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    kustomization = yaml.safe_load((K8S / "app" / "kustomization.yaml").read_text())
    assert kustomization["images"] == [{"name": "stancewatch", "newTag": version}]
    for source in (K8S / "app").glob("*.yaml"):
        for image in re.findall(r"^\s*image:\s*(\S+)", source.read_text(), re.M):
            assert image == "stancewatch", f"{source.name}: {image} (the tag belongs in kustomization.yaml)"
    images = {c["image"] for d in of_kind(resources, "Deployment") for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {f"stancewatch:{version}"}


# --- pod security -----------------------------------------------------------------------------------------


def test_the_app_namespace_enforces_the_restricted_pod_security_standard(resources: list[Doc]) -> None:
    (namespace,) = of_kind(resources, "Namespace")
    assert namespace["metadata"]["name"] == APP_NAMESPACE
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("service", SERVICES)
def test_every_pod_meets_the_restricted_pod_security_standard(resources: list[Doc], service: str) -> None:
    pod = deployment(resources, service)["spec"]["template"]["spec"]
    pod_context = pod["securityContext"]
    assert pod_context["runAsNonRoot"] is True
    assert pod_context.get("runAsUser", 1) != 0
    assert pod_context["seccompProfile"]["type"] == "RuntimeDefault"
    assert not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    assert pod["automountServiceAccountToken"] is False
    for volume in pod.get("volumes", []):
        # The restricted standard's volume types (the desk keeps its SQLite file on a claim).
        allowed = {"configMap", "emptyDir", "secret", "projected", "downwardAPI", "persistentVolumeClaim"}
        assert set(volume) - {"name"} <= allowed, volume
    for container in pod.get("initContainers", []) + pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert not context["capabilities"].get("add"), container["name"]
        assert not context.get("privileged"), container["name"]
        assert context.get("runAsNonRoot", True) is True and context.get("runAsUser", 1) != 0, container["name"]
        assert context.get("seccompProfile", pod_context["seccompProfile"])["type"] == "RuntimeDefault"


@pytest.mark.parametrize("service", SERVICES)
def test_every_container_has_a_read_only_root_and_a_bounded_writable_tmp(resources: list[Doc], service: str) -> None:
    pod = deployment(resources, service)["spec"]["template"]["spec"]
    container = only_container(deployment(resources, service))
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == tmp["name"]]
    size = volume["emptyDir"]["sizeLimit"]
    limit = container["resources"]["limits"]["ephemeral-storage"]
    assert size.endswith("Mi") and limit.endswith("Mi") and int(size[:-2]) < int(limit[:-2])


# --- disruption budgets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_deployment_has_one_disruption_budget_that_still_lets_a_node_drain(
    resources: list[Doc], service: str
) -> None:
    dep = deployment(resources, service)
    namespace = dep["metadata"]["namespace"]
    budgets = [
        b
        for b in of_kind(resources, "PodDisruptionBudget")
        if b["metadata"]["namespace"] == namespace and selects(b["spec"]["selector"], pod_labels(dep))
    ]
    assert len(budgets) == 1, [b["metadata"]["name"] for b in budgets]
    spec, replicas = budgets[0]["spec"], dep["spec"]["replicas"]
    allowed = spec["maxUnavailable"] if "maxUnavailable" in spec else replicas - spec["minAvailable"]
    assert isinstance(allowed, int) and allowed >= 1, "a budget that allows no eviction blocks every node drain"
    if replicas > 1:
        assert allowed < replicas, "a drain must leave one replica running"


# --- network policies -------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_pods_accept_connections_only_on_their_http_port_from_their_namespace_and_monitoring(
    resources: list[Doc], service: str
) -> None:
    dep = deployment(resources, service)
    policies = policies_for(resources, dep, "Ingress")
    assert policies, "the pod is not isolated for ingress"
    ports = {p["name"]: p["containerPort"] for p in only_container(dep)["ports"]}
    peers = []
    for rule in (rule for p in policies for rule in p["spec"].get("ingress", [])):
        assert rule.get("ports"), "a rule without ports opens every port"
        assert rule.get("from"), "a rule without peers admits everyone"
        if service == "desk" and [p["port"] for p in rule["ports"]] == ["desk"]:
            # The desk's page is for people, through whatever ingress the cluster has: any namespace,
            # that port only (writes need a key or a session).
            assert rule["from"] == [{"namespaceSelector": {}}] and rule["ports"] == [
                {"protocol": "TCP", "port": "desk"}
            ]
            continue
        for port in rule["ports"]:
            assert port.get("protocol", "TCP") == "TCP" and port["port"] in ("http", ports["http"]), port
        peers += rule["from"]
    same_namespace = {"podSelector": {}}
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    assert all(peer in (same_namespace, monitoring) for peer in peers), peers
    assert same_namespace in peers and monitoring in peers


@pytest.mark.parametrize("service", SERVICES)
def test_pods_reach_dns_and_the_kafka_brokers_and_only_the_ingester_and_alerter_reach_the_internet(
    resources: list[Doc], service: str
) -> None:
    dep = deployment(resources, service)
    assert policies_for(resources, dep, "Egress"), "the pod is not isolated for egress"
    cluster, kafka_namespace, kafka_port = bootstrap(resources)
    dns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
    dns["podSelector"] = {"matchLabels": {"k8s-app": "kube-dns"}}
    kafka = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": kafka_namespace}}}
    kafka["podSelector"] = {"matchLabels": {"strimzi.io/cluster": cluster, "strimzi.io/broker-role": "true"}}
    reached: set[str] = set()
    for rule in egress_rules(resources, dep):
        ports = {(p.get("protocol", "TCP"), p["port"]) for p in rule["ports"]}
        if rule["to"] == [dns]:
            assert ports == {("UDP", 53), ("TCP", 53)}
            reached.add("dns")
        elif rule["to"] == [kafka]:
            assert ports == {("TCP", kafka_port)}
            reached.add("kafka")
        elif rule["to"] == [{"namespaceSelector": {}}]:
            assert ports == {("TCP", 5432)}, rule  # a PostgreSQL in the cluster, nothing else
            reached.add("postgresql")
        else:
            assert all("ipBlock" in peer for peer in rule["to"]) and ports == {("TCP", 80), ("TCP", 443)}, rule
            reached.add("internet")
    expected = {"dns", "kafka"} | ({"internet"} if service in INTERNET_CLIENTS else set())
    assert reached == expected | ({"postgresql"} if service == "desk" else set())
    rules = egress_rules(resources, dep)
    for port in (80, 443):
        for public in ("203.0.113.7", "2001:db8::7"):  # documentation addresses: outside every excepted range
            assert allows_address(rules, public, port) is (service in INTERNET_CLIENTS), (public, port)
        for private in ("10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "fd00::1"):
            assert not allows_address(rules, private, port), (private, port)
    assert not allows_address(rules, "203.0.113.7", 22)


# --- sizing and settings ----------------------------------------------------------------------------------


def test_the_ingester_sizes_its_parse_workers_from_its_own_cpu_limit(
    resources: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    container = only_container(deployment(resources, "ingester"))
    var = env_name(IngesterSettings, "parse_workers")
    (entry,) = [e for e in container["env"] if e["name"] == var]
    ref = entry["valueFrom"]["resourceFieldRef"]
    assert ref["resource"] == "limits.cpu" and ref.get("containerName", container["name"]) == container["name"]
    limit = container["resources"]["limits"]["cpu"]  # without one, the kubelet would hand over the node's cores
    # What the kubelet puts in the variable: the limit in units of the divisor, rounded up.
    workers = math.ceil(cpu_cores(limit) / cpu_cores(ref.get("divisor", "1")))
    monkeypatch.setenv(var, str(workers))
    assert load_settings(IngesterSettings).parse_workers == workers >= 1


def test_a_slack_only_newsroom_needs_no_webhook_keys_in_its_secret(
    resources: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = only_container(deployment(resources, "alerter"))["env"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "secretKeyRef" in e.get("valueFrom", {})}
    assert set(refs) == {env_name(AlerterSettings, f) for f in ("webhook_url", "webhook_secret", "slack_webhook_url")}
    assert all(ref.get("optional") is True for ref in refs.values()), refs
    # A Secret with slack-webhook-url alone: the two webhook variables are then not set at all.
    for name in refs:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(env_name(AlerterSettings, "slack_webhook_url"), "https://hooks.slack.com/services/T/B/X")
    settings = load_settings(AlerterSettings)
    assert settings.webhook_url is None and settings.slack_webhook_url is not None
