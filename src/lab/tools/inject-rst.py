#!/usr/bin/env python3
# Send one forged TCP segment — by default a RST with a chosen sequence number (RFC 5961's "blind
# reset" attacker) — from inside a lab namespace only, over IPv4 or IPv6.
# Usage: inject-rst.py SRC_IP SRC_PORT DST_IP DST_PORT SEQ [ACK FLAGS PAYLOAD_BYTES]
#   FLAGS: letters of F S R P A U (e.g. PA: data with ACK); PAYLOAD_BYTES zero bytes follow the header.
# The kernel adds the IP header (IPPROTO_TCP raw socket); we build the TCP header and its checksum
# (IPv4), or let the kernel fill it in (IPv6: IPV6_CHECKSUM at offset 16).
# Prints one JSON line: {"sent": true, "seq": SEQ, "flags": FLAGS}.
import json, os, socket, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawtcp import with_checksum_v4  # noqa: E402

FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20}

def main() -> None:
    src, sport, dst, dport, seq = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) & 0xFFFFFFFF
    ack, letters, payload = 0, "R", 0
    if len(sys.argv) > 6:
        ack, letters, payload = int(sys.argv[6]) & 0xFFFFFFFF, sys.argv[7], int(sys.argv[8])
    flags = 0
    for c in letters:
        flags |= FLAG_BITS[c]
    window = 0 if flags & 0x04 else 502
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, 0) + b"\0" * payload
    if ":" in src:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 16)
        s.bind((src, 0))
        s.sendto(segment, (dst, 0))
    else:
        segment = with_checksum_v4(src, dst, segment)
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        s.bind((src, 0))
        s.sendto(segment, (dst, 0))
    print(json.dumps({"sent": True, "seq": seq, "flags": letters}), flush=True)

main()
