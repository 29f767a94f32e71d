"""`make config-test`: each service container of deploy/k8s (both overlays)
and deploy/docker-compose.yml, started from binaries built as the image
builds them, with exactly the command, environment and port its manifest
gives it, in a sandbox whose host names, PostgreSQL roles and databases,
and broker users are the ones the manifests name. A container passes when
it accepts its configuration and answers its own probes' paths (Kubernetes)
or its health check (Compose) and stops cleanly on SIGTERM; the order
service with ORDER_STORE=mongodb passes when it stops with the clear
"cannot reach MongoDB" error, as no MongoDB server runs here.

    python3 deploy/configtest <directory holding the built binaries>
"""
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deployments import ROOT, Container, all_deployments, runtime_stage  # noqa: E402
from sandbox import WORK, Sandbox  # noqa: E402

START_DEADLINE = 90
STOP_DEADLINE = 30
UNREACHABLE_MONGODB = "cannot reach MongoDB"


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, line: str):
        self.passed += 1
        print(f"ok    {line}", flush=True)

    def fail(self, line: str, log: Path | None = None):
        self.failed += 1
        print(f"FAIL  {line}", flush=True)
        if log:
            for text in log.read_text(errors="replace").splitlines()[-15:]:
                print(f"      | {text[:300]}")


def install_binaries(built: Path):
    """The runtime stage's COPYs into /usr/local/bin: the built binaries
    (`--from=build`) and files of the repository, under their image names."""
    for line in runtime_stage():
        words = line.split()
        if not words or words[0] != "COPY" or not words[-1].startswith("/usr/local/bin"):
            continue
        flags = [w for w in words[1:-1] if w.startswith("--")]
        sources = [w for w in words[1:-1] if not w.startswith("--")]
        for source in sources:
            origin = built / Path(source).name if any(f.startswith("--from=") for f in flags) else ROOT / source
            target = WORK / "bin" / (Path(source).name if words[-1].endswith("/") else Path(words[-1]).name)
            shutil.copyfile(origin, target)
            target.chmod(0o755)


def check(sandbox: Sandbox, container: Container, also: list[str], tally: Tally):
    label = f"{container.deployment}: {container.name}" + (f" (as {', '.join(also)})" if also else "")
    log = WORK / f"{container.deployment}-{container.name}.log".replace(" ", "-")
    process = sandbox.container(container.command, container.env, log)
    expect_unreachable = container.env.get("ORDER_STORE") == "mongodb"
    deadline = time.monotonic() + START_DEADLINE
    healthy = False
    while time.monotonic() < deadline and process.poll() is None and not healthy:
        healthy = answers(sandbox, container)
        if not healthy:
            time.sleep(0.25)
    code = process.poll()
    if expect_unreachable:
        if code is None:
            stop(process)
            tally.fail(f"{label}: ORDER_STORE=mongodb with no MongoDB server, yet it ran for {START_DEADLINE} s", log)
        elif code != 0 and UNREACHABLE_MONGODB in log.read_text(errors="replace"):
            tally.ok(f"{label}: accepted its configuration, then stopped: {UNREACHABLE_MONGODB} (none runs here)")
        else:
            tally.fail(f"{label}: expected to stop with '{UNREACHABLE_MONGODB}', exited {code}", log)
        return
    if not healthy:
        stop(process)
        why = f"exited with {code}" if code is not None else f"not healthy within {START_DEADLINE} s"
        tally.fail(f"{label}: {why}", log)
        return
    code = stop(process)
    what = ", ".join(container.probe_paths) or " ".join(container.healthcheck or [])
    if code == 0:
        tally.ok(f"{label}: {what} healthy on :{container.port}, stopped cleanly on SIGTERM")
    else:
        tally.fail(f"{label}: {what} healthy on :{container.port}, but exited {code} on SIGTERM", log)


def answers(sandbox: Sandbox, container: Container) -> bool:
    if container.healthcheck:
        return sandbox.exec_in_container(container.healthcheck, container.env, timeout=5) == 0
    return all(sandbox.http_status(container.port, path) == 200 for path in container.probe_paths)


def stop(process) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def distinct(containers: list[Container]) -> list[tuple[Container, list[str]]]:
    """Replicas with one specification (Compose's order-1 and order-2) are
    started once."""
    seen: dict[str, tuple[Container, list[str]]] = {}
    for container in containers:
        key = repr((container.command, sorted(container.env.items()), container.port, container.healthcheck))
        if key in seen:
            seen[key][1].append(container.name)
        else:
            seen[key] = (container, [])
    return list(seen.values())


def main() -> int:
    built = Path(sys.argv[1])
    tally = Tally()
    deployments = all_deployments()
    for deployment in deployments:
        if not deployment.containers:
            tally.fail(f"{deployment.name}: no container of the project's image found")
    # The binaries here are built by `cargo build-services`: so must the image's.
    if "cargo build-services" in (ROOT / "Dockerfile").read_text():
        tally.ok("Dockerfile: builds the binaries with `cargo build-services`, as this test does")
    else:
        tally.fail("Dockerfile: does not build with `cargo build-services`; this test cannot vouch for its binaries")
    with Sandbox() as sandbox:
        install_binaries(built)
        for deployment in deployments:
            sandbox.prepare(deployment)
            for container, also in distinct(deployment.containers):
                check(sandbox, container, also, tally)
            sandbox.clear(deployment)
    print(f"config test: {tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
