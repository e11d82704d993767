#!/usr/bin/env python3
# One end of a randomized lab run (lab/random.ts): a real socket driven by a list of steps.
# Usage: actor.py server HOST STEPS_JSON   listens on HOST:0, prints {"event":"listening","port":P},
#                                          accepts one connection, runs the steps
#        actor.py client HOST:PORT STEPS_JSON  connects, prints {"event":"connected","local":"IP:PORT"},
#                                          runs the steps
# Steps: {"op":"send","bytes":N} {"op":"recv","bytes":N} (up to N, 200 ms at most)
#        {"op":"sleep","ms":M} {"op":"linger0"} (SO_LINGER {1,0}) {"op":"shutdown","how":"wr"|"rdwr"}
#        {"op":"close"} {"op":"hold"} (until stdin closes or the lab kills the process)
#        {"op":"linger2"} (TCP_LINGER2 = -1: a close() in FIN-WAIT-2 resets)
#        {"op":"user-timeout","ms":M} (TCP_USER_TIMEOUT)
#        {"op":"send-some","bytes":N} (without blocking: what the send buffer takes, up to N)
# Prints {"event":"step","i":I,"op":OP} after each step, {"event":"done"} at the end, and
# {"event":"error","step":I,"message":M} when a step fails (the rest are skipped: a reset socket;
# step -1: the connection itself failed).
import json, socket, struct, sys, time

def say(**kw):
    print(json.dumps(kw), flush=True)

role, where, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if role == "server":
    family = socket.AF_INET6 if ":" in where else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((where, 0))
    ls.listen(4)
    say(event="listening", host=where, port=ls.getsockname()[1])
    s, peer = ls.accept()
    ls.close()
    say(event="accepted", peer="%s:%d" % peer[:2])
else:
    host, port = where.rsplit(":", 1)
    try:
        s = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
    except OSError as e:  # reset before connect() returned: the run goes on, this end has no steps
        say(event="error", step=-1, message=str(e))
        steps = []
    else:
        s.settimeout(None)
        local = s.getsockname()
        say(event="connected", local="%s:%d" % local[:2])

for i, st in enumerate(steps):
    op = st["op"]
    try:
        if op == "send":
            s.sendall(b"x" * st["bytes"])
        elif op == "send-some":
            s.setblocking(False)
            left = st["bytes"]
            try:
                while left > 0:
                    left -= s.send(b"x" * min(left, 65536))
            except BlockingIOError:
                pass
            s.setblocking(True)
        elif op == "recv":
            s.settimeout(0.2)
            want = st["bytes"]
            try:
                while want > 0:
                    got = s.recv(min(want, 65536))
                    if not got:
                        break
                    want -= len(got)
            except socket.timeout:
                pass
            s.settimeout(None)
        elif op == "sleep":
            time.sleep(st["ms"] / 1000)
        elif op == "linger2":
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_LINGER2, -1)
        elif op == "user-timeout":
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, st["ms"])
        elif op == "linger0":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif op == "shutdown":
            s.shutdown(socket.SHUT_WR if st["how"] == "wr" else socket.SHUT_RDWR)
        elif op == "close":
            s.close()
        elif op == "hold":
            sys.stdin.read()
        say(event="step", i=i, op=op)
    except OSError as e:
        say(event="error", step=i, message=str(e))
        break
say(event="done")
sys.stdin.read()  # keep the process (and any socket left open) until the lab ends the run
