#!/usr/bin/env python3
# Send COUNT bare SYNs to 127.0.0.1:PORT (nothing listens there) at RATE per second from a raw
# socket, for benchmarks (bench/watch-bench.ts): each one makes the kernel send exactly one RST
# (NO_SOCKET), and nothing answers that RST. Loopback only; root (a raw socket). Prints
# {"sent": N, "seconds": S, "cpu": CPU seconds of this process while it sent} at the end.
import json, os, socket, struct, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawtcp import with_checksum_v4  # noqa: E402

port, rate, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
src = dst = "127.0.0.1"
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
segments = []
for i in range(4096):  # distinct source ports, prebuilt (a RST per SYN, none per reuse)
    h = struct.pack("!HHIIBBHHH", 20000 + i, port, 1000 + i, 0, 5 << 4, 0x02, 64240, 0, 0)
    segments.append(with_checksum_v4(src, dst, h))
t0 = time.monotonic()
c0 = time.process_time()  # CLOCK_PROCESS_CPUTIME_ID: nanoseconds, not clock ticks
batch = max(1, rate // 1000)
sent = 0
while sent < count:
    for _ in range(min(batch, count - sent)):
        s.sendto(segments[sent % 4096], (dst, 0))
        sent += 1
    ahead = sent / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
# user + system of the sending alone (start-up left out): with a watcher, it includes the kernel's
# share of the work done in this process (loopback delivers in softirq here: the RST, the tracepoint)
cpu = time.process_time() - c0
print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - t0, 3), "cpu": round(cpu, 4)}), flush=True)
