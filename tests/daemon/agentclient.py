# An agent as a plain client of hotdeskd for tst_hotdeskd_sessions, run as uid 65534:
# attaches to a session, sends the request lines given after the session id, prints
# every line the daemon sends, and sends a heartbeat every 300 ms (none with --silent)
# until it is killed or the daemon hangs up.
# (or every N ms with --heartbeat-ms=N).
# Usage: agentclient.py SOCKET SESSION [REQUEST-LINE...] [--silent] [--heartbeat-ms=N]
import json, select, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(json.dumps({"v": 1, "command": "attach", "session": sys.argv[2]}).encode() + b"\n")
silent = "--silent" in sys.argv
interval = 0.3
for a in sys.argv[3:]:
    if a.startswith("--heartbeat-ms="):
        interval = int(a.split("=", 1)[1]) / 1000.0
extra = [a for a in sys.argv[3:] if not a.startswith("--")]
for line in extra:
    s.sendall(line.encode() + b"\n")
pending = b""
last = 0
while True:
    wait = None if silent else max(0.0, interval - (time.monotonic() - last))
    ready, _, _ = select.select([s], [], [], wait)
    if ready:
        data = s.recv(65536)
        if not data:
            break
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            sys.stdout.write(line.decode() + "\n")
            sys.stdout.flush()
    if not silent and time.monotonic() - last > interval:
        last = time.monotonic()
        s.sendall(b'{"v":1,"command":"heartbeat","idle_ms":0}\n')
