#!/usr/bin/env python3
"""A real database server for the lab: PostgreSQL, Redis or MariaDB, run as
`python3 db-server.py '<config JSON>'` inside the lab's server namespace. Contract:

- config: {kind: postgres|redis|mariadb, host, dir, cgroup, user, clientHost, idleTimeoutMs?}.
  `dir` is this run's own directory (the lab copied the data directory's template into dir/data,
  owned by `user`); `cgroup` the name of the cgroup v2 the lab made for this run (`/rstlab-db-…`).
- The lab moves the wrapper into `cgroup` and the wrapper waits for that first, so that the daemon and every process it forks
  (a PostgreSQL backend per connection, which setsid()s out of any process group) are in it: the
  lab kills "the server" by writing 1 to its cgroup.kill, and every process dies at once.
- It picks a free port on `host`, starts the daemon as `user` (setpriv) with its log in dir/,
  follows that log until the daemon says it accepts connections, then prints
  {"event":"listening","host","port","software":{family,version}}; then {"event":"accepted"}
  for each connection the log reports (PostgreSQL's log_connections, Redis's verbose log).
- The daemon's idle timer (PostgreSQL idle_session_timeout, Redis timeout, MariaDB wait_timeout)
  is set from idleTimeoutMs; without it, none (the lab holds sessions as long as it likes).
- When stdin closes (the lab is done) it SIGKILLs the daemon and exits. Startup is bounded
  (20 s): a daemon that exits or never gets ready is an {"event":"error"} and exit status 1.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
READY = {
    "postgres": re.compile(r"database system is ready to accept connections"),
    "redis": re.compile(r"Ready to accept connections"),
    "mariadb": re.compile(r"ready for connections"),
}
VERSION = {
    "postgres": (re.compile(r"starting PostgreSQL (\S+)"), "postgresql"),
    "redis": (re.compile(r"Redis version=(\S+?),"), "redis"),
    "mariadb": (re.compile(r"Starting MariaDB (\S+)"), "mariadb"),
}
ACCEPTED = {
    "postgres": re.compile(r"connection received: host=(\S+) port=(\d+)"),
    "redis": re.compile(r"Accepted (\S+):(\d+)$"),
}
LOG_FILE = {"postgres": "postgresql.log", "redis": "redis.log", "mariadb": "mariadb.err"}

_lock = threading.Lock()


def emit(obj):
    with _lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def free_port(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def daemon_argv(cfg, port, log):
    kind, host, d = cfg["kind"], cfg["host"], cfg["dir"]
    data = os.path.join(d, "data")
    idle_ms = cfg.get("idleTimeoutMs")
    if kind == "postgres":
        argv = [os.path.join(PG_BIN, "postgres"), "-D", data, "-k", d, "-h", host, "-p", str(port),
                "-c", "log_connections=on", "-c", "log_disconnections=on",
                # Debian's own prefix, so the lines read as they do in /var/log/postgresql.
                "-c", "log_line_prefix=%m [%p] %q%u@%d ",
                "-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=20"]
        if idle_ms:
            argv += ["-c", "idle_session_timeout=%d" % idle_ms]
        return argv
    if kind == "redis":
        argv = ["redis-server", "--port", str(port), "--bind", host, "--save", "", "--appendonly", "no",
                "--dir", d, "--logfile", log, "--loglevel", "verbose", "--protected-mode", "no",
                "--daemonize", "no"]
        argv += ["--timeout", str(max(1, round(idle_ms / 1000)) if idle_ms else 0)]
        return argv
    if kind == "mariadb":
        argv = ["mariadbd", "--no-defaults", "--datadir=" + data, "--socket=" + os.path.join(d, "mariadb.sock"),
                "--pid-file=" + os.path.join(d, "mariadb.pid"), "--port=%d" % port, "--bind-address=" + host,
                "--skip-networking=0", "--skip-grant-tables", "--skip-name-resolve", "--log-error=" + log,
                "--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M", "--skip-log-bin", "--log-warnings=2"]
        if idle_ms:
            argv += ["--wait-timeout=%d" % max(1, round(idle_ms / 1000))]
        return argv
    raise ValueError("unknown kind %s" % kind)


def main():
    cfg = json.loads(sys.argv[-1])
    kind = cfg["kind"]
    # The lab moves this process into the run's cgroup (its /sys is not this namespace's): wait
    # until it has, before anything is forked.
    deadline = time.monotonic() + 5
    while not in_cgroup(cfg["cgroup"]):
        if time.monotonic() > deadline:
            emit({"event": "error", "message": "not moved into the cgroup %s" % cfg["cgroup"]})
            sys.exit(1)
        time.sleep(0.01)
    port = free_port(cfg["host"])
    log = os.path.join(cfg["dir"], LOG_FILE[kind])
    user = cfg["user"]
    daemon_cmd = daemon_argv(cfg, port, log)
    daemon_cmd[0] = shutil.which(daemon_cmd[0], path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or daemon_cmd[0]
    argv = ["setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups", "--pdeathsig", "KILL"] + daemon_cmd
    # PostgreSQL logs to stderr (as under Debian's pg_ctlcluster): into its log file. The others
    # write their own log file; their stdout/stderr go there too.
    out = open(log, "ab")
    os.chown(log, *user_ids(user))
    daemon = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=cfg["dir"])

    def on_stdin_closed():
        sys.stdin.read()
        daemon.kill()
        os._exit(0)

    threading.Thread(target=on_stdin_closed, daemon=True).start()

    version = None
    ready = False
    pos = 0
    deadline = time.monotonic() + 20
    buf = b""
    while True:
        with open(log, "rb") as f:
            f.seek(pos)
            chunk = f.read()
        pos += len(chunk)
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            m = VERSION[kind][0].search(line)
            if m and version is None:
                version = m.group(1)
            if not ready and READY[kind].search(line):
                ready = True
                emit({"event": "listening", "host": cfg["host"], "port": port,
                      "software": {"family": VERSION[kind][1], "version": version or "unknown"}})
            elif ready and kind in ACCEPTED:
                a = ACCEPTED[kind].search(line)
                if a:
                    host = a.group(1)
                    emit({"event": "accepted", "peer": ("[%s]:%s" if ":" in host else "%s:%s") % (host, a.group(2))})
        if daemon.poll() is not None:
            emit({"event": "error", "message": "%s exited with status %s" % (kind, daemon.returncode)})
            sys.exit(1)
        if not ready and time.monotonic() > deadline:
            emit({"event": "error", "message": "%s not ready within 20 s" % kind})
            daemon.kill()
            sys.exit(1)
        time.sleep(0.02)


def in_cgroup(name):
    with open("/proc/self/cgroup") as f:
        return any(line.strip() == "0::" + name for line in f)


def user_ids(name):
    import pwd
    p = pwd.getpwnam(name)
    return p.pw_uid, p.pw_gid


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
