#!/usr/bin/env python3
# Records the pages of src/lab/testdata/trace-raw/ (see README.md there): a private tracefs
# instance with tcp:tcp_send_reset and tcp:tcp_receive_reset on, a few real resets on loopback
# (IPv4 and IPv6, refused connects and closes with unread data, on both CPUs, some far enough
# apart for a time extend), two trace_marker marks; then the instance's `trace` text (read first:
# it does not consume) and its per-CPU trace_pipe_raw pages, with the format files they need.
# Root; loopback only; the instance is removed at the end.
import errno, os, re, shutil, socket, sys, time

T = "/sys/kernel/tracing"
out = os.path.dirname(os.path.abspath(__file__))
name = f"rstlab-p{os.getpid()}-rec"
inst = f"{T}/instances/{name}"


def w(path, text):
    with open(path, "w") as f:
        f.write(text)


def closed_port(family, host):
    s = socket.socket(family)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def refused(family, host):
    c = socket.socket(family)
    c.connect_ex((host, closed_port(family, host)))
    c.close()


def abort_unread(family, host):
    # The server closes with the client's bytes unread: RST (TCP_ABORT_ON_CLOSE), which the client accepts.
    srv = socket.socket(family)
    srv.bind((host, 0))
    srv.listen(1)
    c = socket.socket(family)
    c.connect(srv.getsockname()[:2])
    a, _ = srv.accept()
    c.sendall(b"x" * 100)
    time.sleep(0.05)
    a.close()
    time.sleep(0.05)
    c.close()
    srv.close()


os.mkdir(inst)
try:
    w(f"{inst}/buffer_size_kb", "64")
    w(f"{inst}/trace_clock", "mono")
    for e in ("tcp_send_reset", "tcp_receive_reset"):
        w(f"{inst}/events/tcp/{e}/enable", "1")
    w(f"{inst}/trace_marker", "rstlab-rec start")
    steps = [(0, refused, socket.AF_INET, "127.0.0.1"), (1, refused, socket.AF_INET6, "::1"),
             (1, abort_unread, socket.AF_INET, "127.0.0.1"), (0, abort_unread, socket.AF_INET6, "::1"),
             (1, refused, socket.AF_INET, "127.0.0.1")]
    for cpu, step, family, host in steps:
        os.sched_setaffinity(0, {cpu})
        step(family, host)
        time.sleep(0.2)  # > 2^27 ns: the next event on this CPU needs a time extend
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    w(f"{inst}/trace_marker", "rstlab-rec end")
    time.sleep(0.1)
    with open(f"{inst}/trace") as f:
        text = [l for l in f.read().split("\n") if l and not l.startswith("#")]
    w(f"{out}/trace.txt", "\n".join(text) + "\n")
    for cpu in sorted(os.listdir(f"{inst}/per_cpu")):
        fd = os.open(f"{inst}/per_cpu/{cpu}/trace_pipe_raw", os.O_RDONLY | os.O_NONBLOCK)
        pages = b""
        for _ in range(64):
            try:
                page = os.read(fd, 4096)
            except OSError as e:
                if e.errno != errno.EAGAIN:
                    raise
                break
            if not page:
                break
            pages += page
        os.close(fd)
        with open(f"{out}/{cpu}.raw", "wb") as f:
            f.write(pages)
    for src, dst in (("header_page", "header_page"), ("header_event", "header_event"), ("tcp/tcp_send_reset/format", "tcp_send_reset.format"),
                     ("tcp/tcp_receive_reset/format", "tcp_receive_reset.format"), ("ftrace/print/format", "print.format")):
        shutil.copyfile(f"{inst}/events/{src}", f"{out}/{dst}")
    # Only the pids of these events (the file names every recent task on the machine).
    pids = {m.group(1) for m in re.finditer(r"-(\d+)\s+\[", "\n".join(text))}
    with open(f"{T}/saved_cmdlines") as f:
        saved = [l for l in f.read().split("\n") if l.split(" ", 1)[0] in pids]
    w(f"{out}/saved_cmdlines", "\n".join(saved) + "\n")
    sizes = [f"{c} {os.path.getsize(os.path.join(out, c + '.raw')) // 4096}" for c in sorted(os.listdir(f"{inst}/per_cpu"))]
    print(f"{len(text)} events; pages: {', '.join(sizes)}", file=sys.stderr)
finally:
    for e in ("tcp_send_reset", "tcp_receive_reset"):
        try:
            w(f"{inst}/events/tcp/{e}/enable", "0")
        except OSError:
            pass
    os.rmdir(inst)
