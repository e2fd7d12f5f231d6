# A plain client of hotdeskd for tst_hotdeskd_signin, run as an unprivileged uid: every line on its standard
# input goes to the daemon as it is, every line the daemon sends is printed; with --heartbeat-ms=N it sends a
# heartbeat every N ms (as an attached agent must). It ends when the daemon hangs up or standard input ends.
# Usage: relayclient.py SOCKET [--heartbeat-ms=N]
import os, select, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
interval = None
for a in sys.argv[2:]:
    if a.startswith("--heartbeat-ms="):
        interval = int(a.split("=", 1)[1]) / 1000.0
pending = b""
typed = b""
last = time.monotonic()
while True:
    wait = None if interval is None else max(0.0, interval - (time.monotonic() - last))
    ready, _, _ = select.select([s, 0], [], [], wait)
    if s in ready:
        data = s.recv(65536)
        if not data:
            break
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            sys.stdout.write(line.decode() + "\n")
            sys.stdout.flush()
    if 0 in ready:
        data = os.read(0, 65536)
        if not data:
            break
        typed += data
        while b"\n" in typed:
            line, typed = typed.split(b"\n", 1)
            s.sendall(line + b"\n")
    if interval is not None and time.monotonic() - last >= interval:
        last = time.monotonic()
        s.sendall(b'{"v":1,"command":"heartbeat","idle_ms":0}\n')
