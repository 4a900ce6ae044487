#!/usr/bin/env python3
"""A port that sends and never reads: connects to an fcfabric socket, floods the fabric
controller with ECHO requests (each answered with LS_RJT, as the port never logs in) for
--seconds, never reading a byte, and prints the switch's resident memory as it goes.

    scripts/reliability/flood.py --socket /tmp/fab.sock --pid $(pgrep -n fcfabric) --seconds 10
"""
import argparse, socket, struct, sys, threading, time, zlib

SOF_I3, EOF_T = 0xBCB55656, 0xBC957575

def frame(ox_id: int, payload: bytes) -> bytes:
    header = struct.pack(">B3sB3sB3sBBHHHI", 0x22, (0xFFFFFD).to_bytes(3, "big"), 0, b"\0\0\0", 0x01,
                         (0x290000).to_bytes(3, "big"), 0, 0, 0, ox_id, 0xFFFF, 0)
    body = header + payload
    rec = struct.pack(">I", SOF_I3) + body + struct.pack("<I", zlib.crc32(body)) + struct.pack(">I", EOF_T)
    return struct.pack(">I", len(rec)) + rec

def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--pid", type=int, required=True, help="fcfabric's pid, for its memory")
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    echo = bytes([0x10, 0, 0, 0]) + bytes(1020)
    batch = b"".join(frame(i, echo) for i in range(256))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(a.socket)
    sent = [0]
    def flood():
        try:
            while True:
                s.sendall(batch)          # blocks once the switch stops taking them
                sent[0] += len(batch)
        except OSError:
            pass
    threading.Thread(target=flood, daemon=True).start()
    start = rss_kib(a.pid)
    peak, t0, last = start, time.monotonic(), 0.0
    while (now := time.monotonic()) - t0 < a.seconds:
        peak = max(peak, rss_kib(a.pid))
        if now - last >= 1:
            print(f"t={now - t0:4.1f}s sent={sent[0] >> 20} MiB fcfabric RSS={rss_kib(a.pid) >> 10} MiB", flush=True)
            last = now
        time.sleep(0.05)
    sent = sent[0]
    print(f"fcfabric RSS: {start >> 10} MiB before, peak {peak >> 10} MiB; {sent >> 20} MiB sent, none read")
    return 0

if __name__ == "__main__":
    sys.exit(main())
