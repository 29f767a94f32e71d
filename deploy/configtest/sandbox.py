"""A throwaway host for the service containers: a network namespace of its
own (so every port is the one the manifest names, and nothing of the
machine's own PostgreSQL or RabbitMQ is touched), its own /etc/hosts (the
manifests' host names mapped to its loopback), and a PostgreSQL and a
RabbitMQ started inside it from the machine's installed packages."""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

NAMESPACE = "webshop-config-test"
WORK = Path("/tmp/webshop-config-test")
HOSTS = Path("/etc/netns") / NAMESPACE / "hosts"
# The image's PATH (Debian's default), where `command: ["order"]` is looked up.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The image's USER.
UID = 10001
RABBIT_NODE = "configtest@localhost"
RABBIT_HOME = "/var/lib/rabbitmq"
ADMIN = "sandbox_admin"


def _tool(name: str) -> str:
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if not path:
        raise FileNotFoundError(f"{name} is required")
    return path


IP = _tool("ip")


def inside(*command: str) -> list[str]:
    """`command` run in the namespace, with its /etc/hosts."""
    return [IP, "netns", "exec", NAMESPACE, *command]


def pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: int(p.name))
    return versions[-1] / "bin"


class Sandbox:
    def __enter__(self):
        self.close()
        WORK.mkdir(mode=0o755)
        (WORK / "bin").mkdir(mode=0o755)
        subprocess.run([IP, "netns", "add", NAMESPACE], check=True)
        subprocess.run(inside(IP, "link", "set", "lo", "up"), check=True)
        self.map_hosts(set())
        self._start_postgres()
        self._start_rabbitmq()
        return self

    def __exit__(self, *_):
        self.close()

    def close(self):
        listed = subprocess.run([IP, "netns", "pids", NAMESPACE], capture_output=True, text=True)
        if listed.returncode == 0:
            pids = listed.stdout.split()
            for signum in (signal.SIGTERM, signal.SIGKILL):
                for pid in pids:
                    try:
                        os.kill(int(pid), signum)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
                    time.sleep(0.1)
            subprocess.run([IP, "netns", "del", NAMESPACE], check=False)
        shutil.rmtree(HOSTS.parent, ignore_errors=True)
        shutil.rmtree(WORK, ignore_errors=True)

    def map_hosts(self, names: set[str]):
        HOSTS.parent.mkdir(parents=True, exist_ok=True)
        lines = ["127.0.0.1 localhost", "::1 localhost"] + [f"127.0.0.1 {name}" for name in sorted(names)]
        HOSTS.write_text("\n".join(lines) + "\n")

    # PostgreSQL: the bootstrap superuser is the sandbox's own, so every role
    # a deployment names is created (and dropped) as the deployment says,
    # and connections over TCP must give the right password.
    def _start_postgres(self):
        data = WORK / "pg"
        data.mkdir(mode=0o700)
        shutil.chown(data, "postgres", "postgres")
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(pg_bin() / "initdb"), "-D", str(data), "-U", ADMIN,
             "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"],
            check=True, capture_output=True,
        )
        # Stopped with everything else in the namespace by `close`.
        with open(WORK / "postgres.log", "wb") as log:
            subprocess.Popen(
                inside("runuser", "-u", "postgres", "--", str(pg_bin() / "postgres"), "-D", str(data),
                       "-c", "listen_addresses=127.0.0.1", "-c", "port=5432", "-c", f"unix_socket_directories={data}",
                       "-c", "fsync=off", "-c", "max_connections=200"),
                stdout=log, stderr=subprocess.STDOUT,
            )
        for _ in range(100):
            if subprocess.run(["pg_isready", "-q", "-h", str(data), "-p", "5432"]).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the sandbox's PostgreSQL did not start; see {WORK / 'postgres.log'}")

    def _psql(self, *args: str, user: str = ADMIN, database: str = "postgres") -> str:
        """psql over the sandbox's socket; its output, or an error with
        PostgreSQL's message."""
        done = subprocess.run(
            ["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-h", str(WORK / "pg"), "-U", user, "-d", database, *args],
            capture_output=True, text=True, env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
        )
        if done.returncode != 0:
            raise RuntimeError(f"sandbox PostgreSQL: {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def sql(self, statement: str):
        self._psql("-c", statement)

    def _start_rabbitmq(self):
        base = WORK / "rabbitmq"
        base.mkdir()
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text("listeners.tcp.default = 5672\n")
        shutil.chown(base, "rabbitmq", "rabbitmq")
        for path in base.iterdir():
            shutil.chown(path, "rabbitmq", "rabbitmq")
        with open(WORK / "rabbitmq.log", "wb") as log:
            subprocess.Popen(
                inside("runuser", "-u", "rabbitmq", "--", "env", *self._rabbit_env(), "/usr/lib/rabbitmq/bin/rabbitmq-server"),
                stdout=log, stderr=subprocess.STDOUT,
            )
        self.rabbitmqctl("await_startup", "--timeout", "60")

    def _rabbit_env(self) -> list[str]:
        base = WORK / "rabbitmq"
        return [
            f"HOME={RABBIT_HOME}",
            f"RABBITMQ_NODENAME={RABBIT_NODE}",
            f"RABBITMQ_MNESIA_BASE={base}/mnesia",
            f"RABBITMQ_LOG_BASE={base}/log",
            f"RABBITMQ_ENABLED_PLUGINS_FILE={base}/enabled_plugins",
            f"RABBITMQ_CONFIG_FILE={base}/rabbitmq.conf",
            f"RABBITMQ_PID_FILE={base}/rabbitmq.pid",
        ]

    def rabbitmqctl(self, *args: str):
        command = inside("runuser", "-u", "rabbitmq", "--", "env", *self._rabbit_env(),
                         "/usr/lib/rabbitmq/bin/rabbitmqctl", "-q", "-n", RABBIT_NODE, *args)
        for attempt in range(20):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"rabbitmqctl {' '.join(args[:1])} failed: {done.stderr.strip()[-500:]}")

    def prepare(self, deployment):
        """Roles, databases and broker users exactly as the deployment names
        them; an empty broker."""
        self.map_hosts(deployment.host_names())
        for role, (password, superuser) in deployment.roles.items():
            power = "SUPERUSER" if superuser else "NOSUPERUSER NOCREATEDB"
            self.sql(f"CREATE ROLE \"{role}\" LOGIN {power} PASSWORD '{password}'")
        existing = self._names("SELECT datname FROM pg_database")
        for database, owner in deployment.databases.items():
            verb = f'ALTER DATABASE "{database}" OWNER TO' if database in existing else f'CREATE DATABASE "{database}" OWNER'
            self.sql(f'{verb} "{owner}"')
        for script, env in deployment.init_scripts:
            self._init_script(script, env)
        self.rabbitmqctl("delete_vhost", "/")
        self.rabbitmqctl("add_vhost", "/")
        for user, password in deployment.broker_users.items():
            self.rabbitmqctl("add_user", user, password)
            self.rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")

    def _init_script(self, script: Path, env: dict[str, str]):
        # The official image runs them as its superuser over the socket.
        user = env.get("POSTGRES_USER", "postgres")
        if script.suffix == ".sql":
            self._psql("-f", str(script), user=user, database=env.get("POSTGRES_DB", user))
        elif script.suffix == ".sh":
            subprocess.run(["bash", str(script)], check=True, capture_output=True,
                           env={**os.environ, **env, "PGHOST": str(WORK / "pg"), "PGUSER": user})

    def clear(self, deployment):
        """Drops every database and role the sandbox did not start with, and
        the deployment's broker users."""
        for database in self._names("SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')"):
            self.sql(f'DROP DATABASE "{database}" WITH (FORCE)')
        for role in self._names(f"SELECT rolname FROM pg_roles WHERE rolname <> '{ADMIN}' AND rolname NOT LIKE 'pg\\_%'"):
            self.sql(f'REASSIGN OWNED BY "{role}" TO "{ADMIN}"; DROP ROLE "{role}"')
        for user in deployment.broker_users:
            self.rabbitmqctl("delete_user", user)

    def _names(self, query: str) -> list[str]:
        return self._psql("-c", query).split()

    def container(self, command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        """`command` as the image's user, with the image's binaries at
        /usr/local/bin (a mount of the sandbox's own, in a mount namespace
        of its own) and only `env`."""
        with open(log, "ab") as output:
            return subprocess.Popen(
                self._as_container(command), env=self._container_env(env),
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def exec_in_container(self, command: list[str], env: dict[str, str], timeout: float) -> int:
        try:
            return subprocess.run(self._as_container(command), env=self._container_env(env),
                                  capture_output=True, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return 124

    @staticmethod
    def _container_env(env: dict[str, str]) -> dict[str, str]:
        """What a container runtime sets beside the manifest's variables."""
        return {"PATH": IMAGE_PATH, "HOME": "/", **env}

    def _as_container(self, command: list[str]) -> list[str]:
        script = 'mount --bind "$0" /usr/local/bin && exec setpriv --reuid "$1" --regid "$1" --clear-groups -- "${@:2}"'
        return inside("unshare", "--mount", "--", "/bin/bash", "-c", script, str(WORK / "bin"), str(UID), *command)

    def http_status(self, port: int, path: str) -> int:
        done = subprocess.run(
            inside("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", f"http://127.0.0.1:{port}{path}"),
            capture_output=True, text=True,
        )
        return int(done.stdout or 0)
