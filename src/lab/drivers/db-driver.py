#!/usr/bin/env python3
"""The database client driver: the real command-line clients psql, redis-cli and mariadb, driven
through their stdin and stdout, run as `python3 db-driver.py '<DriverConfig JSON>'`. Speaks the
JSON-lines protocol of protocol.ts (emit, finish, the safety net and wait_go are pydriver_common.py's):

- ready, with software {family: the CLI's name, version: what its --version prints};
- the CLI is started against config.target and given a first query (`select 1;` / `PING`); once
  its answer is on stdout the session is up: the CLI's own socket is looked up with `ss -tnp`
  (by the CLI's pid; the driver runs in the client's namespace) and reported as `connected`;
- with `pause`, it waits for the line `go` on stdin (exit status 3 if stdin closes first);
- then the second query (config.db.second `long`: one the server takes 5 s over), and the CLI's stdin is closed: the CLI ends as it does at the end of a
  script. The result's outcome is the CLI's own account: `message` its stderr verbatim (or, when
  it printed none, its stdout; the statement mariadb echoes above its ERROR line goes to `notes`), `code` its exit status, `error` the CLI's name, `kind` ok only for
  exit status 0 with nothing on stderr. If the first query gets no answer (no server, refused) the
  CLI is ended the same way and that is the result.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time

from pydriver_common import STARTED, arm_timeout, emit, finish, mark_connected, on_exit, wait_go

_proc = None


def _kill_cli():
    if _proc is not None and _proc.poll() is None:
        _proc.kill()


on_exit(_kill_cli)


LONG = {"psql": "select pg_sleep(5);", "redis-cli": "BLPOP rstlab:empty 5", "mariadb": "select sleep(5);"}
CLIS = {
    # client: (argv builder, first query, its answer on stdout, second query, version regex)
    "psql": (lambda h, p: ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", h, "-p", str(p), "-U", "postgres", "-d", "postgres"],
             "select 1;", re.compile(r"^1$", re.M), "select 1;", re.compile(r"\(PostgreSQL\) (\S+)")),
    "redis-cli": (lambda h, p: ["redis-cli", "-h", h, "-p", str(p)],
                  "PING", re.compile(r"^PONG$", re.M), "PING", re.compile(r"redis-cli (\S+)")),
    "mariadb": (lambda h, p: ["mariadb", "--no-defaults", "-h", h, "-P", str(p), "-u", "root", "--unbuffered", "--skip-reconnect", "--connect-timeout=5"],
                "select 1;", re.compile(r"^1$", re.M), "select 1;", re.compile(r"Distrib (\S+?),")),
}
ECHOED = re.compile(r"^-{14}\n(.*?)\n-{14}\n\n", re.S)
SCHEMES = {"psql": "postgres", "redis-cli": "redis", "mariadb": "mysql"}


class Pipe:
    """Everything a CLI writes on one of its pipes, read by a thread."""

    def __init__(self, f, cond):
        self.data = b""
        self.closed = False
        self._f, self._cond = f, cond
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            chunk = os.read(self._f.fileno(), 65536)
            with self._cond:
                if not chunk:
                    self.closed = True
                else:
                    self.data += chunk
                self._cond.notify_all()
            if not chunk:
                return

    def text(self):
        return self.data.decode("utf-8", "replace")


def local_of(pid, target):
    """The CLI's own end of its TCP connection to target, from the socket table."""
    port = target["port"]
    r = subprocess.run(["ss", "-tnpH", "state", "established", "( dport = :%d )" % port], capture_output=True, text=True, timeout=5)
    for line in r.stdout.splitlines():
        if "pid=%d," % pid in line:
            cols = line.split()
            return cols[2], cols[3]
    return None, None


def outcome_of(client, code, out, err):
    o = {"kind": "ok" if code == 0 and err.strip() == "" else "error", "error": client, "code": str(code), "causes": []}
    text = err if err.strip() else out
    # mariadb in batch mode echoes the failing statement between dashes before its ERROR line:
    # the statement goes to the notes, the error text stays as printed.
    m = ECHOED.match(text)
    if m:
        o["notes"] = ["statement: " + m.group(1)]
        text = text[m.end():]
    o["message"] = text.rstrip("\n")
    o["bytes"] = len(out.encode())
    return o


def main():
    global _proc
    cfg = json.loads(sys.argv[-1])
    client = cfg["client"]
    build, first, answer, second, version_re = CLIS[client]
    arm_timeout(cfg)
    v = subprocess.run([build("h", 1)[0], "--version"], capture_output=True, text=True, timeout=10)
    m = version_re.search(v.stdout)
    emit({"event": "ready", "software": {"family": client, "version": m.group(1) if m else v.stdout.strip()}})
    if cfg["scheme"] != SCHEMES[client]:
        finish({"kind": "error", "error": "rstlab.Unsupported", "message": "%s does not speak %s" % (client, cfg["scheme"]), "causes": []})

    target = cfg["target"]
    cond = threading.Condition()
    _proc = subprocess.Popen(build(target["host"], target["port"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = Pipe(_proc.stdout, cond), Pipe(_proc.stderr, cond)

    def wait_until(pred, seconds):
        end = time.monotonic() + seconds
        with cond:
            while not pred() and time.monotonic() < end:
                cond.wait(0.05)
        return pred()

    def end_session():
        """Close the CLI's stdin (the end of its script) and collect what it says."""
        try:
            _proc.stdin.close()
        except OSError:
            pass
        try:
            code = _proc.wait(timeout=max(1.0, cfg["timeoutMs"] / 1000.0 - (time.monotonic() - STARTED)))
        except subprocess.TimeoutExpired:
            finish({"kind": "timeout-internal", "message": "%s did not end" % client, "causes": []})
        wait_until(lambda: out.closed and err.closed, 2)
        finish(outcome_of(client, code, out.text(), err.text()))

    def send(q):
        try:
            _proc.stdin.write(q.encode() + b"\n")
            _proc.stdin.flush()
        except OSError:
            pass  # the CLI is gone: its exit status and stderr tell why

    send(first)
    answered = wait_until(lambda: answer.search(out.text()) or err.data or _proc.poll() is not None, cfg["timeoutMs"] / 1000.0)
    if not answered or not answer.search(out.text()):
        end_session()
    mark_connected()
    local, remote = local_of(_proc.pid, target)
    if local is None:
        local, remote = "", "%s:%d" % (target["host"], target["port"])
    emit({"event": "connected", "local": local, "remote": remote})
    before = len(out.data)
    if cfg.get("pause"):
        wait_go()
    # The second query's output only.
    with cond:
        out.data = out.data[before:]
    send(LONG[client] if (cfg.get("db") or {}).get("second") == "long" else second)
    end_session()


if __name__ == "__main__":
    main()
