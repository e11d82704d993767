# Shared by the lab's raw-socket tools (inject-rst.py, syn-flood.py): a TCP header with its
# checksum over the IPv4 pseudo-header.
import socket, struct

def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def with_checksum_v4(src: str, dst: str, segment: bytes) -> bytes:
    """The segment (header and payload) with its checksum field filled in, for IPv4."""
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(segment))
    return segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + segment[18:]
