"""The local telemetry stack (``compose/``) is valid and consistent, without running Docker.

No Docker engine exists on the development machines or in CI, so the stack is checked the way
``/work/shared/INFRA.md`` describes: the compose file against the Compose Specification schema
(``check-jsonschema --builtin-schema vendor.compose-spec``), the Prometheus configuration with
``promtool check config``, and the cross-references the schema cannot see (``depends_on``
targets, mounted host paths, pinned images, loopback-only ports, the Grafana provisioning
against the compose mounts and the telemetry contract in ``processors/_names.py``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import PurePosixPath
from typing import Any

import check_jsonschema  # noqa: F401  # dev extra: the compose schema check below needs it
import pytest
from _stack_support import (
    COMPOSE_DIR,
    DASHBOARDS,
    PROVISIONING,
    ROOT,
    load_datasources,
    load_yaml,
)

from graphflow.processors import _names as names
from tests._services import DEFAULT_METRICS_PORT, require_service

COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
PROMETHEUS_CONFIG = COMPOSE_DIR / "prometheus.yml"

#: An exact release tag: ``1.2.3`` or ``v1.2.3`` (no ``latest``, no floating ``2`` or ``2.14``).
PINNED_TAG = re.compile(r"^v?\d+\.\d+\.\d+$")

#: What the stack must publish (spec/telemetry.md, "Stack"): service -> container ports.
REQUIRED_PORTS = {"jaeger": {16686, 4317, 4318}, "prometheus": {9090}, "grafana": {3000}}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = load_yaml(COMPOSE_FILE)
    assert isinstance(data, dict), f"{COMPOSE_FILE} is not a YAML mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict) and found, "compose file has no services"
    return found


def split_image(image: str) -> tuple[str, str]:
    """``("repo/name", "tag")``; the tag is ``""`` when there is none."""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # "host:5000/repo" without a tag
        return image, ""
    return name, tag


def mounts(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(type, source, target)`` of each volume of a service, short or long syntax."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            target = rest.split(":")[0]
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            found.append((kind, source, target))
        else:
            found.append((volume["type"], volume.get("source", ""), volume["target"]))
    return found


def published(service: dict[str, Any]) -> list[tuple[str | None, int, int]]:
    """``(host_ip, published, target)`` of each published port, short or long syntax."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            found.append((port.get("host_ip"), int(port["published"]), int(port["target"])))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) == 3:
            found.append((parts[0], int(parts[1]), int(parts[2])))
        elif len(parts) == 2:
            found.append((None, int(parts[0]), int(parts[1])))
        else:
            found.append((None, int(parts[0]), int(parts[0])))
    return found


# --- schema and tools ----------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"check-jsonschema:\n{done.stdout}\n{done.stderr}"


def test_compose_prometheus_config_passes_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        require_service(
            "promtool",
            "promtool is not on PATH (Debian: apt-get install prometheus; CI installs it)",
        )
    done = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS_CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"promtool check config:\n{done.stdout}\n{done.stderr}"


# --- cross-references ---------------------------------------------------------------------------


def test_depends_on_names_existing_services(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", [])
        targets = list(depends) if isinstance(depends, dict | list) else [depends]
        for target in targets:
            assert target in services, f"service {name!r} depends on unknown service {target!r}"
            assert target != name, f"service {name!r} depends on itself"


def test_mounted_host_paths_exist_and_named_volumes_are_declared(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for kind, source, target in mounts(service):
            assert PurePosixPath(target).is_absolute(), f"{name}: mount target {target!r}"
            if kind == "bind":
                path = (COMPOSE_DIR / source).resolve()
                assert path.exists(), f"{name}: mounted host path {source!r} ({path}) is missing"
                assert path.is_relative_to(ROOT), f"{name}: {source!r} is outside the repository"
            elif kind == "volume" and source:
                assert source in declared, f"{name}: volume {source!r} is not declared"


def test_every_image_has_an_exact_version_tag(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"service {name!r} has no image (builds are not part of this stack)"
        _, tag = split_image(image.split("@")[0])  # a digest may follow the tag
        assert PINNED_TAG.match(tag), f"service {name!r}: image {image!r} is not pinned to x.y.z"


def test_the_stack_is_jaeger_2_prometheus_and_grafana(
    services: dict[str, dict[str, Any]],
) -> None:
    images = {name: split_image(s["image"]) for name, s in services.items()}
    assert images["jaeger"][0] == "jaegertracing/jaeger"
    assert images["jaeger"][1].startswith("2."), "spec/telemetry.md: Jaeger 2.x"
    assert images["prometheus"][0] == "prom/prometheus"
    assert images["grafana"][0] == "grafana/grafana"


def test_the_readme_names_the_pinned_images(services: dict[str, dict[str, Any]]) -> None:
    readme = (COMPOSE_DIR / "README.md").read_text(encoding="utf-8")
    for name, service in services.items():
        assert f"`{service['image']}`" in readme, f"compose/README.md: {name} {service['image']}"


def test_every_published_port_is_bound_to_loopback(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for host_ip, port, _ in published(service):
            assert host_ip == "127.0.0.1", f"{name}: port {port} is published on {host_ip or '*'}"
        assert "network_mode" not in service, f"{name}: host networking bypasses the bindings"


def test_the_required_ports_are_published(services: dict[str, dict[str, Any]]) -> None:
    for name, ports in REQUIRED_PORTS.items():
        got = {(pub, target) for _, pub, target in published(services[name])}
        assert got >= {(p, p) for p in ports}, f"{name} publishes {sorted(got)}, needs {ports}"


def test_prometheus_scrapes_the_app_on_the_host_with_exemplars(
    services: dict[str, dict[str, Any]],
) -> None:
    prometheus = services["prometheus"]
    command = prometheus["command"]
    assert "--enable-feature=exemplar-storage" in command
    assert "host.docker.internal:host-gateway" in prometheus["extra_hosts"]
    config_flag = next(c for c in command if c.startswith("--config.file="))
    in_container = config_flag.split("=", 1)[1]
    sources = {t: s for _, s, t in mounts(prometheus)}
    assert in_container in sources, f"{in_container} is not mounted"
    assert (COMPOSE_DIR / sources[in_container]).resolve() == PROMETHEUS_CONFIG

    config = load_yaml(PROMETHEUS_CONFIG)
    targets = [
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ]
    # The port the README tells the application to serve (graphflow.instrument(metrics_port=)).
    assert targets == [f"host.docker.internal:{DEFAULT_METRICS_PORT}"]
    readme = (COMPOSE_DIR / "README.md").read_text(encoding="utf-8")
    assert f"metrics_port={DEFAULT_METRICS_PORT}" in readme


def test_grafana_mounts_the_provisioning_and_the_dashboards(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana = services["grafana"]
    by_source = {(COMPOSE_DIR / s).resolve(): t for kind, s, t in mounts(grafana) if kind == "bind"}
    assert by_source.get(PROVISIONING.resolve()) == "/etc/grafana/provisioning"
    dashboards_in_container = by_source.get(DASHBOARDS.resolve())
    assert dashboards_in_container, "grafana does not mount ../dashboards"

    providers = [
        provider
        for path in sorted((PROVISIONING / "dashboards").glob("*.yml"))
        for provider in load_yaml(path)["providers"]
    ]
    assert [p["options"]["path"] for p in providers] == [dashboards_in_container]
    assert all(p["type"] == "file" for p in providers)

    home = grafana["environment"].get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home is not None:
        home_path = PurePosixPath(home)
        assert str(home_path.parent) == dashboards_in_container
        assert (DASHBOARDS / home_path.name).is_file(), home


def test_datasources_point_at_the_stack_and_link_exemplars_to_jaeger(
    services: dict[str, dict[str, Any]],
) -> None:
    sources = load_datasources()
    by_type = {s["type"]: s for s in sources}
    assert set(by_type) == {"prometheus", "jaeger"}, sources
    assert len({s["uid"] for s in sources}) == len(sources), "duplicate data source uids"

    for kind, port in (("prometheus", 9090), ("jaeger", 16686)):
        url = by_type[kind]["url"]
        match = re.fullmatch(r"http://([\w-]+):(\d+)/?", url)
        assert match, url
        host, url_port = match.group(1), int(match.group(2))
        assert host in services, f"{kind} data source points at {host!r}, not a service"
        assert url_port == port

    prometheus = by_type["prometheus"]["jsonData"]
    [destination] = prometheus["exemplarTraceIdDestinations"]
    assert destination["name"] == names.EXEMPLAR_TRACE_ID
    assert destination["datasourceUid"] == by_type["jaeger"]["uid"]

    # $__rate_interval is sized from timeInterval: it must be the stack's scrape interval.
    scrape = load_yaml(PROMETHEUS_CONFIG)["global"]["scrape_interval"]
    assert prometheus["timeInterval"] == scrape

    links = by_type["jaeger"]["jsonData"]["tracesToMetrics"]
    assert links["datasourceUid"] == by_type["prometheus"]["uid"]
    assert {t["key"]: t["value"] for t in links["tags"]} == {
        names.ATTR_GRAPH_NAME: names.LABEL_GRAPH,
        names.ATTR_NODE_NAME: names.LABEL_NODE,
    }
