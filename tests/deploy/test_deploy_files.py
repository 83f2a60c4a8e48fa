"""Static checks of deploy/: what can be verified without Docker or a Kubernetes cluster."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from workflows.search import ALL_KEYS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
GUICHET_SERVICES = ("migrate", "schedules", "worker", "console")
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::?-(?P<default>[^}]*))?\}")


def resolve(value: str) -> str:
    """Compose's ``${VAR:-default}`` resolved to its default, as on a machine with no .env."""
    return INTERPOLATION.sub(lambda m: m.group("default") or "", value)


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def k8s_documents() -> Iterator[dict[str, Any]]:
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        yield from (doc for doc in yaml.safe_load_all(path.read_text()) if doc)


def k8s_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in k8s_documents() if doc["kind"] == kind]


def deployment(name: str) -> dict[str, Any]:
    (found,) = [d for d in k8s_kind("Deployment") if d["metadata"]["name"] == name]
    return found


def worker_deployment() -> dict[str, Any]:
    return deployment("guichet-worker")


def workloads() -> list[dict[str, Any]]:
    """Every pod template of deploy/k8s: the Deployments and the Jobs."""
    return [*k8s_kind("Deployment"), *k8s_kind("Job")]


WORKER_ONLY_ENV = {"GUICHET_SMTP_PASSWORD"}
"""Read by every process's settings, used only by the workers (they deliver the notices): the
console and the Jobs never receive it."""

CONSOLE_ENV = {"GUICHET_CONSOLE_SECRET", "GUICHET_PUBLIC_KEY"}
"""What the console reads beside Settings.from_env's variables: its session secret, and the
public key its journal checks signed checkpoints with."""


def extra_env(workload: dict[str, Any]) -> set[str]:
    """What a workload reads beside Settings.from_env's variables."""
    return CONSOLE_ENV if workload["metadata"]["name"] == "guichet-console" else set()


def settings_env(workload: dict[str, Any]) -> set[str]:
    """The Settings.from_env variables a workload needs: the mail password only where mail
    leaves, the workers."""
    if workload["metadata"]["name"] == "guichet-worker":
        return settings_env_names()
    return settings_env_names() - WORKER_ONLY_ENV


def settings_env_names() -> set[str]:
    """The variable names ``Settings.from_env`` reads, from workers/settings.py's source."""
    tree = ast.parse((ROOT / "workers" / "settings.py").read_text())
    (settings,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    (from_env,) = (
        n for n in settings.body if isinstance(n, ast.FunctionDef) and n.name == "from_env"
    )
    names = {
        call.args[0].value
        for call in ast.walk(from_env)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "get"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    }
    assert names, "Settings.from_env reads no variable: the parser is out of date"
    return names


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, rest = line.strip().partition(" ")
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


def dockerfile_exec_form(instruction: str) -> list[str]:
    (value,) = [rest for name, rest in dockerfile_instructions() if name == instruction]
    parsed = json.loads(value)
    assert isinstance(parsed, list), f"{instruction} must use the exec (JSON) form"
    return parsed


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def assert_pinned(image: str) -> None:
    name, _, tag = image.rpartition(":")
    assert name and "/" not in tag, f"{image!r} has no tag"
    assert tag != "latest", f"{image!r} uses the latest tag"


def search_attribute_pairs() -> set[tuple[str, str]]:
    """(name, type) pairs the way the Temporal CLI spells them, from workflows/search.py."""
    return {
        (key.name, "".join(part.title() for part in key.indexed_value_type.name.split("_")))
        for key in ALL_KEYS
    }


def test_every_yaml_file_parses() -> None:
    """Every YAML file under deploy/ is well-formed."""
    paths = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert len(paths) >= 8
    for path in paths:
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert documents, f"{path} is empty"


def test_shell_scripts_parse() -> None:
    """Every shell script under deploy/ passes ``sh -n`` and is executable."""
    scripts = sorted(DEPLOY.rglob("*.sh"))
    assert scripts
    for script in scripts:
        subprocess.run(["sh", "-n", str(script)], check=True)
        assert script.stat().st_mode & 0o111, f"{script} is not executable"


def test_dockerfile_entrypoint_is_guichet_and_default_command_is_worker() -> None:
    """The image's ENTRYPOINT is the ``guichet`` console script and its CMD ``worker``."""
    assert dockerfile_exec_form("ENTRYPOINT") == ["guichet"]
    assert dockerfile_exec_form("CMD") == ["worker"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "guichet" in scripts


def test_dockerfile_command_is_the_one_compose_k8s_and_readme_run() -> None:
    """Compose's worker, the k8s Deployment and the README all run ``guichet worker``."""
    cmd = dockerfile_exec_form("CMD")
    assert services()["worker"]["command"] == cmd
    (container,) = worker_deployment()["spec"]["template"]["spec"]["containers"]
    assert container["args"] == cmd
    assert "command" not in container, "the Deployment must keep the image's ENTRYPOINT"
    assert f"guichet {' '.join(cmd)}" in (DEPLOY / "README.md").read_text()


def test_guichet_commands_are_known_subcommands() -> None:
    """Every Guichet service runs a known ``guichet`` subcommand through the image's entry point."""
    for name in GUICHET_SERVICES:
        service = services()[name]
        assert "entrypoint" not in service, name
        assert service["command"][0] in cli_commands(), name


def cli_commands() -> set[str]:
    """The names of the ``guichet`` commands, as the console script registers them."""
    import typer

    from console import cli

    cli.load_commands()  # commands register on first use, inside the CLI's error guard
    apps = [value for value in vars(cli).values() if isinstance(value, typer.Typer)]
    assert apps, "console.cli defines no typer application"
    return set(getattr(typer.main.get_command(apps[0]), "commands", {}))


def test_cli_defines_the_worker_subcommand() -> None:
    """console/cli.py defines the ``worker`` command the image runs."""
    assert dockerfile_exec_form("CMD")[0] in cli_commands()


def test_the_k8s_jobs_run_known_subcommands() -> None:
    """The schedules and migrate Jobs run ``guichet`` subcommands through the image's entry
    point, the same ones compose runs."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for name in ("schedules", "migrate"):
        job = yaml.safe_load((K8S / f"{name}-job.yaml").read_text())
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert "command" not in container, "the Job must keep the image's ENTRYPOINT"
        assert container["args"] == services()[name]["command"] == [name]
        assert name in cli_commands()
        assert f"{name}-job.yaml" in kustomization["resources"]


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    """Two stages, both on python:3.11-slim, and the project installed with ``pip install .``."""
    instructions = dockerfile_instructions()
    args = dict(rest.split("=", 1) for name, rest in instructions if name == "ARG" and "=" in rest)
    bases = [rest.split()[0] for name, rest in instructions if name == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        image = args.get(base.strip("${}"), base)
        assert image == "python:3.11-slim"
        assert_pinned(image)
    runs = " ".join(rest for name, rest in instructions if name == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs)


def test_dockerfile_runs_as_a_numeric_non_root_user_with_a_healthcheck() -> None:
    """The final stage switches to uid 10001 and declares a HEALTHCHECK."""
    stage = final_stage()
    (user,) = [rest for name, rest in stage if name == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    (healthcheck,) = [rest for name, rest in stage if name == "HEALTHCHECK"]
    assert "CMD" in healthcheck
    assert "GUICHET_STATE_DIR=/var/lib/guichet" in " ".join(rest for _, rest in stage)


def test_dockerfile_bakes_in_no_secret() -> None:
    """No ENV or ARG in the Dockerfile carries a password, key, token or database URL."""
    secret = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|DATABASE_URL|PWD", re.IGNORECASE)
    for name, rest in dockerfile_instructions():
        if name in ("ENV", "ARG"):
            assert not secret.search(rest), f"{name} {rest}"


def test_dockerignore_allows_exactly_what_pip_install_needs() -> None:
    """The root .dockerignore allow-lists every installed package and denies the rest."""
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "the .dockerignore must deny everything first"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    modules = [f"{m}.py" for m in project["tool"]["setuptools"]["py-modules"]]
    needed = {"pyproject.toml", project["project"]["readme"], *packages, *modules}
    assert needed <= allowed, f"missing from .dockerignore: {needed - allowed}"
    assert "deploy/healthcheck.sh" in allowed
    for entry in allowed:
        assert (ROOT / entry).exists(), f".dockerignore allows {entry}, which does not exist"


def test_compose_images_are_pinned() -> None:
    """Every compose service names an image with an explicit tag other than ``latest``."""
    for name, service in services().items():
        assert "image" in service, f"service {name} has no image"
        assert_pinned(resolve(service["image"]))


def test_k8s_and_kustomize_images_are_pinned() -> None:
    """Every k8s container image and the kustomize image override carry a non-latest tag."""
    for doc in k8s_documents():
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            assert_pinned(container["image"])
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for image in kustomization["images"]:
        assert_pinned(f"{image['newName']}:{image['newTag']}")


def test_guichet_services_share_one_image_built_from_the_repo_root() -> None:
    """migrate, schedules, worker and console run one image, built with deploy/Dockerfile from
    the root."""
    guichet = [services()[name] for name in GUICHET_SERVICES]
    assert len({service["image"] for service in guichet}) == 1
    for service in guichet:
        build = service["build"]
        assert (DEPLOY / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_compose_temporal_runs_on_postgres12_with_matching_tool_versions() -> None:
    """Temporal server and admin-tools use DB=postgres12 and the same release."""
    all_services = services()
    server = all_services["temporal"]
    assert server["image"].startswith("temporalio/server:")
    assert server["environment"]["DB"] == "postgres12"
    assert all_services["temporal-schema"]["environment"]["DB"] == "postgres12"
    release = server["image"].rpartition(":")[2]
    for name in ("temporal-schema", "temporal-register"):
        assert all_services[name]["image"] == f"temporalio/admin-tools:{release}"
    assert all_services["temporal-ui"]["image"].startswith("temporalio/ui:")


def test_compose_dependencies_use_conditions_that_can_be_met() -> None:
    """Each depends_on names a service and a condition that service can satisfy."""
    all_services = services()
    image_has_healthcheck = any(name == "HEALTHCHECK" for name, _ in final_stage())
    for name, service in all_services.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in all_services, f"{name} depends on unknown {target}"
            condition = spec["condition"]
            dependency = all_services[target]
            if condition == "service_healthy":
                healthcheck = dependency.get("healthcheck", {})
                assert not healthcheck.get("disable")
                assert healthcheck.get("test") or (
                    image_has_healthcheck and target in GUICHET_SERVICES
                ), f"{name} waits for {target} to be healthy, but it has no healthcheck"
            elif condition == "service_completed_successfully":
                assert not str(dependency.get("restart", "no")).startswith(
                    ("always", "unless-stopped")
                ), f"{target} is a long-running service, it never completes"
            else:
                assert condition == "service_started"


def test_compose_mounts_files_that_exist() -> None:
    """Every bind mount in compose points at a file or folder in deploy/."""
    for service in services().values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source


def test_compose_services_get_every_setting() -> None:
    """Every Guichet service gets every variable Settings.from_env reads (and the console
    CONSOLE_ENV); that nothing else is set is test_the_deployment_sets_only_variables_read."""
    for name in GUICHET_SERVICES:
        extra = CONSOLE_ENV if name == "console" else set()
        assert settings_env_names() | extra <= set(services()[name]["environment"]), name


def test_compose_worker_configuration() -> None:
    """Two worker replicas on temporal:7233, PostgreSQL through asyncpg, JSON logs."""
    worker = services()["worker"]
    env = worker["environment"]
    assert worker["deploy"]["replicas"] == 2
    assert "container_name" not in worker, "a fixed container name forbids replicas"
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert resolve(env["GUICHET_DATABASE_URL"]).startswith("postgresql+asyncpg://")
    assert env["GUICHET_LOG_FORMAT"] == "json"
    grace = worker["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) >= 30


def test_compose_console_waits_behind_a_profile() -> None:
    """The console service exists but only starts with its profile, on port 8000 of every
    interface of its container (127.0.0.1, its default, is unreachable from the host)."""
    console = services()["console"]
    assert console["profiles"] == ["console"]
    assert console["command"] == ["console", "--host", "0.0.0.0", "--port", "8000"]
    assert any(str(port).endswith(":8000") for port in console["ports"])
    *_, check = console["healthcheck"]["test"]
    assert "http://127.0.0.1:8000/connexion" in check
    compile(check, "<healthcheck>", "exec")


def published_ports(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A service's published ports as (host address, port on the host), in compose's short
    (``[HOST:]HOST_PORT:CONTAINER_PORT``) or long syntax; no address: every interface."""
    for port in service.get("ports", []):
        if isinstance(port, dict):
            yield str(port.get("host_ip", "0.0.0.0")), str(port.get("published", ""))
            continue
        parts = str(port).rsplit(":", 2)
        address = parts[0].strip("[]") if len(parts) == 3 else "0.0.0.0"
        yield address, parts[-2] if len(parts) > 1 else parts[0]


def test_compose_publishes_temporal_on_the_host_s_loopback_only() -> None:
    """Temporal's frontend (7233) and web UI (8080) have no authentication in compose: on
    every interface, anyone reaching the host read every file and sent commands as any role.
    Only the console, which asks who signs in, is published beyond the loopback."""
    loopback = {"127.0.0.1", "::1", "localhost"}
    published = {name: list(published_ports(service)) for name, service in services().items()}
    assert published["temporal"] == [("127.0.0.1", "7233")]
    assert published["temporal-ui"] == [("127.0.0.1", "8080")]
    for name, ports in published.items():
        if name != "console":
            assert all(address in loopback for address, _ in ports), (name, ports)


def test_deploy_readme_says_temporal_must_not_be_reachable_and_a_payload_key_is_needed() -> None:
    """The frontend must be out of users' reach (mTLS or an authorizer in production), and a
    payload key is required anywhere but a laptop: said where the operator reads."""
    text = " ".join((DEPLOY / "README.md").read_text().split())
    assert "must not be reachable by the console's users" in text
    assert "`GUICHET_PAYLOAD_KEY` is required anywhere but a laptop" in text


def test_compose_event_log_database_is_created_by_the_init_script() -> None:
    """The init script creates Temporal's two databases and the event log's, with its role."""
    init = (DEPLOY / "postgres" / "initdb" / "10-databases.sh").read_text()
    for database in ("temporal", "temporal_visibility"):
        assert f"CREATE DATABASE {database};" in init
    url = resolve(services()["worker"]["environment"]["GUICHET_DATABASE_URL"])
    match = re.fullmatch(r"postgresql\+asyncpg://(\w+):[^@]+@postgresql:5432/(\w+)", url)
    assert match, url
    role, database = match.groups()
    assert f"CREATE ROLE {role} LOGIN" in init
    assert f"CREATE DATABASE {database} OWNER {role};" in init
    mounts = services()["postgresql"]["volumes"]
    assert "./postgres/initdb:/docker-entrypoint-initdb.d:ro" in mounts


def test_compose_registers_exactly_the_workflow_search_attributes() -> None:
    """The search attributes compose registers are workflows/search.py's, with their types."""
    register = services()["temporal-register"]
    pairs = {
        tuple(pair.split("=", 1))
        for pair in register["environment"]["GUICHET_SEARCH_ATTRIBUTES"].split()
    }
    assert pairs == search_attribute_pairs()
    script = (DEPLOY / "temporal" / "register-namespace.sh").read_text()
    assert "temporal operator search-attribute create" in script


def test_readme_registers_every_search_attribute() -> None:
    """The k8s instructions in the README register every search attribute."""
    readme = (DEPLOY / "README.md").read_text()
    for name, kind in search_attribute_pairs():
        assert name in readme
        assert f"--type {kind}" in readme


def test_readme_compose_section_lists_exactly_the_search_attributes_registered() -> None:
    """The compose section named 7 of the 10 attributes `temporal-register` registers: its
    list, « `A`, `B` as Keyword; … », must be workflows/search.py's, names and types."""
    readme = (DEPLOY / "README.md").read_text()
    bullet = readme.split("- `temporal-register`", 1)[1].split("\n- ", 1)[0]
    listed = {
        (name, kind)
        for names, kind in re.findall(r"((?:`Guichet\w+`,?\s*)+)as (\w+)", bullet)
        for name in re.findall(r"`(Guichet\w+)`", names)
    }
    assert listed == search_attribute_pairs()


def test_worker_help_points_to_every_variable() -> None:
    """`guichet worker --help` named TEMPORAL_ADDRESS and GUICHET_DATABASE_URL only."""
    from typer.testing import CliRunner

    from console.cli import app, load_commands

    load_commands()
    shown = CliRunner().invoke(app, ["worker", "--help"], terminal_width=200)
    assert shown.exit_code == 0
    assert "deploy/README.md lists them all" in " ".join(shown.output.split())


def test_readme_says_when_the_directory_is_read_and_an_applicant_s_key() -> None:
    """An operator changed GUICHET_DIRECTORY_FILE without restarting the workers, and keyed
    a commune as applicant:mairie-belley:01034."""
    readme = " ".join((DEPLOY / "README.md").read_text().split())
    assert "after changing `GUICHET_DIRECTORY_FILE` or the file it names, restart the workers" in (
        readme
    )
    assert "the bare account id that submitted it (`mairie-belley" in readme


def test_k8s_workloads_get_every_setting() -> None:
    """Every workload reads the ConfigMap and, with its own env, gets every variable
    Settings.from_env reads (and the console CONSOLE_ENV), but for the mail password, which
    only the workers get."""
    (configmap,) = k8s_kind("ConfigMap")
    for workload in workloads():
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": configmap["metadata"]["name"]}}]
        names = set(configmap["data"]) | {env["name"] for env in container["env"]}
        assert settings_env(workload) | extra_env(workload) <= names, workload["metadata"]["name"]
        if workload["metadata"]["name"] != "guichet-worker":
            assert not names & WORKER_ONLY_ENV, workload["metadata"]["name"]


def test_k8s_database_url_is_only_a_secret_reference() -> None:
    """The database URL comes from a Secret by reference; no Secret is committed."""
    assert not k8s_kind("Secret")
    (configmap,) = k8s_kind("ConfigMap")
    assert "GUICHET_DATABASE_URL" not in configmap["data"]
    for workload in workloads():
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        (url,) = [env for env in container["env"] if env["name"] == "GUICHET_DATABASE_URL"]
        assert set(url) == {"name", "valueFrom"}
        assert url["valueFrom"]["secretKeyRef"]["name"]


def test_k8s_workloads_have_resources_and_a_non_root_read_only_security_context() -> None:
    """Deployment and Job: requests and limits, non-root uid, read-only root, no escalation."""
    (user,) = [rest for name, rest in final_stage() if name == "USER"]
    image_uid = int(user.split(":")[0])
    for workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == image_uid != 0
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound])
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts


def test_k8s_worker_state_dir_is_a_writable_volume() -> None:
    """GUICHET_STATE_DIR is mounted from a volume, as the root filesystem is read-only."""
    (configmap,) = k8s_kind("ConfigMap")
    (container,) = worker_deployment()["spec"]["template"]["spec"]["containers"]
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert configmap["data"]["GUICHET_STATE_DIR"] in mounts


def test_k8s_worker_replicas_grace_period_and_disruption_budget() -> None:
    """Two or more replicas, a long SIGTERM grace period and a PDB selecting the workers."""
    deployment = worker_deployment()
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60
    (pdb,) = k8s_kind("PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_kustomization_lists_existing_manifests_and_keeps_keda_optional() -> None:
    """kustomization.yaml lists files that exist; the KEDA ScaledObject is opt-in."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    resources = kustomization["resources"]
    for resource in resources:
        assert (K8S / resource).is_file(), resource
    assert "keda-scaledobject.yaml" not in resources
    assert "# - keda-scaledobject.yaml" in (K8S / "kustomization.yaml").read_text()
    listed = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed - set(resources) == {"keda-scaledobject.yaml"}


def test_k8s_console_serves_on_every_interface_behind_its_service() -> None:
    """The console runs `guichet console` on 0.0.0.0:8000, is probed on its sign-in page, takes
    its session secret by reference, and the Service routes to that port."""
    console = deployment("guichet-console")
    (container,) = console["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["console", "--host", "0.0.0.0", "--port", "8000"]
    assert "command" not in container, "the Deployment must keep the image's ENTRYPOINT"
    (port,) = container["ports"]
    assert port["containerPort"] == 8000
    for probe in ("readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == "/connexion" and check["port"] == port["name"]
    (secret,) = [env for env in container["env"] if env["name"] == "GUICHET_CONSOLE_SECRET"]
    assert secret["valueFrom"]["secretKeyRef"]["name"] == "guichet-console"
    (service,) = k8s_kind("Service")
    labels = console["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    (pdb,) = k8s_kind("PodDisruptionBudget")
    assert not pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()  # workers only


def test_keda_scaler_watches_the_worker_task_queue() -> None:
    """The optional ScaledObject scales the worker Deployment on its own queue and namespace."""
    (scaled,) = k8s_kind("ScaledObject")
    (configmap,) = k8s_kind("ConfigMap")
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker_deployment()["metadata"]["name"]
    assert scaled["spec"]["minReplicaCount"] >= 1
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "temporal"
    metadata = trigger["metadata"]
    assert metadata["taskQueue"] == configmap["data"]["GUICHET_TASK_QUEUE"]
    assert metadata["namespace"] == configmap["data"]["TEMPORAL_NAMESPACE"]
    assert metadata["endpointFromEnv"] == "TEMPORAL_ADDRESS"


# --- Environment variables: code, documentation and deployment agree -------------------------

PRODUCTION_CODE = (
    "worker.py",
    "workers",
    "domain",
    "eventlog",
    "activities",
    "workflows",
    "console",
    "audit",
)
ENV_NAME = re.compile(r"(?:GUICHET|TEMPORAL)_[A-Z0-9_]*[A-Z0-9]")
THIRD_PARTY_ENV = {"FORWARDED_ALLOW_IPS": "uvicorn.config"}
"""Variables a library reads for Guichet, with the module that reads them."""
NOT_DEPLOYED = {
    "GUICHET_AS": "the CLI's --as, for a person at a terminal",
    "GUICHET_DEBUG": "the CLI's tracebacks, for a person at a terminal",
    "GUICHET_PAYLOAD_KEY_FILE": "the deployments give GUICHET_PAYLOAD_KEY from a Secret",
    "GUICHET_SIGNING_KEY_FILE": "the deployments give GUICHET_SIGNING_KEY from a Secret",
    "GUICHET_PUBLIC_KEY_FILE": "the deployments give GUICHET_PUBLIC_KEY, a public value",
    "TEMPORAL_CONFIG_FILE": "TLS is set with the TEMPORAL_TLS_* variables and a mounted Secret, "
    "as deploy/README.md says, only where the frontend speaks TLS",
}
"""Variables the code reads that the manifests deliberately do not set, and why."""
NOT_IN_COMPOSE = {"FORWARDED_ALLOW_IPS": "compose publishes the console with no proxy in front"}
DOCUMENTS = ("README.md", "deploy/README.md", "RELIABILITY.md", "console/web/README.md")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEY$|DATABASE_URL")
TEMPORAL_CLIENTS = ("guichet-worker", "guichet-console", "guichet-schedules")
"""The workloads that read or write Temporal payloads, so need the payload key."""


def env_constants(paths: list[Path]) -> set[str]:
    """Every string constant that is a whole GUICHET_* or TEMPORAL_* name, in these files:
    how the code names a variable it reads (``env.get(...)``, ``envvar=``, ``*_VARIABLE``)."""
    return {
        node.value
        for path in paths
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and ENV_NAME.fullmatch(node.value)
    }


def python_files(*roots: str) -> list[Path]:
    found = []
    for root in roots:
        path = ROOT / root
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def code_env_names() -> set[str]:
    """The variables Guichet's production code reads, and those its libraries read for it."""
    names = env_constants(python_files(*PRODUCTION_CODE))
    assert settings_env_names() <= names, "the scan misses what Settings.from_env reads"
    return names | set(THIRD_PARTY_ENV)


def deploy_script_names() -> set[str]:
    """What deploy/'s shell scripts and compose's interpolations read (``${NAME...}``)."""
    texts = [path.read_text() for path in DEPLOY.rglob("*.sh")]
    texts.append((DEPLOY / "compose.yaml").read_text())
    return {m.group("name") for text in texts for m in INTERPOLATION.finditer(text)}


def k8s_containers() -> dict[str, dict[str, Any]]:
    """The one container of every workload, by workload name."""
    found = {}
    for workload in workloads():
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        found[workload["metadata"]["name"]] = container
    return found


def k8s_env_names() -> set[str]:
    """Every variable deploy/k8s gives any container: ConfigMap keys and env entries."""
    (configmap,) = k8s_kind("ConfigMap")
    names = set(configmap["data"])
    for container in k8s_containers().values():
        names |= {env["name"] for env in container.get("env", [])}
    return names


def compose_env_names() -> set[str]:
    """Every variable compose gives a Guichet service."""
    return {name for service in GUICHET_SERVICES for name in services()[service]["environment"]}


def test_third_party_variables_are_read_by_their_library() -> None:
    """The variables attributed to a library are in that library's source."""
    import importlib
    import inspect

    for name, module in THIRD_PARTY_ENV.items():
        assert name in inspect.getsource(importlib.import_module(module)), (name, module)


def test_every_variable_the_code_reads_is_documented() -> None:
    """Each variable the code reads is named in README.md or deploy/README.md, so an operator
    finds it without reading the source."""
    docs = (ROOT / "README.md").read_text() + (DEPLOY / "README.md").read_text()
    missing = {name for name in code_env_names() if not re.search(rf"\b{name}\b", docs)}
    assert not missing, f"read by the code, in no README: {sorted(missing)}"


def test_every_variable_the_docs_name_is_read_somewhere() -> None:
    """A variable the documentation names (``NAME_*`` as a prefix) is read by the code, a
    deploy script or the tests: a misspelt or retired name would be set for nothing."""
    read = code_env_names() | deploy_script_names() | env_constants(python_files("tests", "bench"))
    for document in DOCUMENTS:
        for match in re.finditer(rf"{ENV_NAME.pattern}(_\*|\[)?", (ROOT / document).read_text()):
            name, prefix = match.group(0).rstrip("*["), match.group(1)
            if prefix:
                assert any(known.startswith(name) for known in read), (document, name)
            else:
                assert name in read, f"{document} names {name}, which nothing reads"


def test_the_deployment_sets_only_variables_the_code_reads() -> None:
    """compose, the k8s manifests and the Dockerfile set no variable that nothing reads."""
    read = code_env_names()
    dockerfile = {
        name
        for instruction, rest in dockerfile_instructions()
        if instruction == "ENV"
        for name in re.findall(r"([A-Z_][A-Z0-9_]*)=", rest)
        if ENV_NAME.fullmatch(name)
    }
    for where, names in (
        ("compose", compose_env_names()),
        ("k8s", k8s_env_names()),
        ("Dockerfile", dockerfile),
    ):
        assert not names - read, f"{where} sets what nothing reads: {sorted(names - read)}"


def test_every_variable_the_code_reads_can_be_set_in_the_deployment() -> None:
    """Each variable the code reads is set by the k8s manifests and by compose, or is listed in
    NOT_DEPLOYED with the reason: a documented setting the deployment cannot carry would
    otherwise need the manifests forked."""
    wanted = code_env_names() - set(NOT_DEPLOYED)
    assert not wanted - k8s_env_names(), f"k8s cannot set {sorted(wanted - k8s_env_names())}"
    absent = wanted - set(NOT_IN_COMPOSE) - compose_env_names()
    assert not absent, f"compose cannot set {sorted(absent)}"


def test_k8s_secret_values_come_from_secrets() -> None:
    """A password, secret, private key or database URL is never in the ConfigMap nor a literal
    value: only a secretKeyRef (GUICHET_PUBLIC_KEY is public)."""
    (configmap,) = k8s_kind("ConfigMap")
    assert not [name for name in configmap["data"] if SECRET_NAME.search(name)]
    for workload, container in k8s_containers().items():
        for env in container.get("env", []):
            if SECRET_NAME.search(env["name"]) and "PUBLIC" not in env["name"]:
                assert set(env) == {"name", "valueFrom"}, (workload, env["name"])
                assert env["valueFrom"]["secretKeyRef"]["name"], (workload, env["name"])


def test_every_temporal_client_holds_the_same_payload_key() -> None:
    """The workers, the console and the schedules Job take GUICHET_PAYLOAD_KEY from one
    Secret (optional): a process without the workers' key cannot read what they seal."""
    containers = k8s_containers()
    references = set()
    for name in TEMPORAL_CLIENTS:
        (key,) = [env for env in containers[name]["env"] if env["name"] == "GUICHET_PAYLOAD_KEY"]
        reference = key["valueFrom"]["secretKeyRef"]
        assert reference.get("optional") is True, name
        references.add((reference["name"], reference["key"]))
    assert len(references) == 1, references
    for service in GUICHET_SERVICES:
        assert "GUICHET_PAYLOAD_KEY" in services()[service]["environment"], service
