"""A throwaway PostgreSQL cluster for the test session.

The cluster lives in a temporary directory, listens on 127.0.0.1 on a free port with
trust authentication, and runs with durability switched off (it is thrown away anyway).
``initdb`` refuses to run as root, so when the tests run as root the server commands run
as the user ``nobody`` through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

SETUP_HINT = "run scripts/setup.sh to install PostgreSQL (Debian package 'postgresql')"
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def find_bindir() -> Path:
    """Return the ``bin`` directory of the highest installed PostgreSQL version.

    Raises:
        RuntimeError: if no PostgreSQL server binaries are installed.
    """
    candidates: list[tuple[tuple[int, ...], Path]] = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        bindir = Path(path)
        version = bindir.parent.name
        if not (bindir / "initdb").is_file() or not (bindir / "pg_ctl").is_file():
            continue
        try:
            key = tuple(int(part) for part in version.split("."))
        except ValueError:
            continue
        candidates.append((key, bindir))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; " + SETUP_HINT
        )
    return max(candidates)[1]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A PostgreSQL cluster in a temporary directory, for one test session."""

    def __init__(self, bindir: Path | None = None) -> None:
        """Prepare (but do not start) a cluster; ``bindir`` defaults to the newest one."""
        self._bindir_override = bindir
        self.bindir: Path | None = None
        self.port: int | None = None
        self.tmpdir: Path | None = None
        self._as_nobody = os.geteuid() == 0

    # -- paths -----------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        return self._tmp / "data"

    @property
    def sockdir(self) -> Path:
        """The directory of the server's Unix socket."""
        return self._tmp / "sock"

    @property
    def logfile(self) -> Path:
        """The server's log file."""
        return self._tmp / "logfile"

    @property
    def _tmp(self) -> Path:
        if self.tmpdir is None:
            raise RuntimeError("the PostgreSQL cluster has not been started")
        return self.tmpdir

    @property
    def url(self) -> str:
        """The URL of the cluster's ``postgres`` database, as superuser ``postgres``."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        """Return the URL of database ``name`` in this cluster."""
        if self.port is None:
            raise RuntimeError("the PostgreSQL cluster has not been started")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    # -- lifecycle -------------------------------------------------------------
    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a server command (as ``nobody`` when we are root), capturing its output."""
        assert self.bindir is not None
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_nobody:
            cmd = ["runuser", "-u", "nobody", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self._tmp)

    def _check(self, proc: subprocess.CompletedProcess[str], what: str) -> None:
        if proc.returncode != 0:
            log = ""
            if self.tmpdir is not None and self.logfile.exists():
                log = "\n--- server log ---\n" + self.logfile.read_text(errors="replace")[-4000:]
            raise RuntimeError(
                f"{what} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}{log}"
            )

    def start(self) -> None:
        """Create the cluster and start its server; return once it accepts connections."""
        if self.port is not None:
            return
        self.bindir = self._bindir_override or find_bindir()
        if self._as_nobody and shutil.which("runuser") is None:
            raise RuntimeError("running as root but 'runuser' is missing; " + SETUP_HINT)

        # /tmp is world-traversable; the directory itself is 0755 and owned by nobody.
        self.tmpdir = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp"))
        try:
            os.chmod(self.tmpdir, 0o755)
            self.sockdir.mkdir(mode=0o755)
            if self._as_nobody:
                for path in (self.tmpdir, self.sockdir):
                    shutil.chown(path, user="nobody", group="nogroup")

            proc = self._run(
                "initdb", "-D", "data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8",
            )  # fmt: skip
            if proc.returncode != 0:
                shutil.rmtree(self.datadir, ignore_errors=True)
                proc = self._run(
                    "initdb", "-D", "data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C",
                )  # fmt: skip
            self._check(proc, "initdb")

            self.port = free_port()
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockdir}"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            proc = self._run("pg_ctl", "-D", "data", "-l", "logfile", "-w", "-o", options, "start")
            self._check(proc, "pg_ctl start")
        except BaseException:
            self.port = None
            self._remove_tmpdir()
            raise

    def stop(self) -> None:
        """Stop the server immediately and remove the cluster's directory."""
        try:
            if self.port is not None and self.tmpdir is not None:
                self._run("pg_ctl", "-D", "data", "-m", "immediate", "-w", "stop")
        finally:
            self.port = None
            self._remove_tmpdir()

    def _remove_tmpdir(self) -> None:
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------------
    @staticmethod
    def _check_name(name: str) -> None:
        if not _NAME_RE.match(name):
            raise ValueError(f"not a plain database name: {name!r}")

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its URL."""
        self._check_name(name)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, ending any connections still open to it."""
        self._check_name(name)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
