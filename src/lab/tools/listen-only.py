#!/usr/bin/env python3
# A listener that never calls accept(): completed handshakes wait in the kernel's accept queue.
# Speaks the lab's server protocol: prints {"event":"listening","host":H,"port":P} and exits when
# its stdin closes. Usage: listen-only.py HOST [BACKLOG]  (default 16; the queue holds BACKLOG + 1)
import json, socket, sys

host = sys.argv[1]
family = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, 0))
s.listen(int(sys.argv[2]) if len(sys.argv) > 2 else 16)
print(json.dumps({"event": "listening", "host": host, "port": s.getsockname()[1]}), flush=True)
sys.stdin.read()  # until the lab closes stdin (or kills us)
