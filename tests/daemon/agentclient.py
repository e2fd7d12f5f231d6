# An agent as a plain client of hotdeskd for tst_hotdeskd_sessions, run as uid 65534:
# attaches to a session, sends the request lines given after the session id, prints
# every line the daemon sends, and sends a heartbeat every 300 ms (none with --silent)
# until it is killed or the daemon hangs up.
# Usage: agentclient.py SOCKET SESSION [REQUEST-LINE...] [--silent]
import json, select, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(json.dumps({"v": 1, "command": "attach", "session": sys.argv[2]}).encode() + b"\n")
silent = "--silent" in sys.argv
extra = [a for a in sys.argv[3:] if a != "--silent"]
for line in extra:
    s.sendall(line.encode() + b"\n")
pending = b""
last = 0
while True:
    ready, _, _ = select.select([s], [], [], 0.1)
    if ready:
        data = s.recv(65536)
        if not data:
            break
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            sys.stdout.write(line.decode() + "\n")
            sys.stdout.flush()
    if not silent and time.monotonic() - last > 0.3:
        last = time.monotonic()
        s.sendall(b'{"v":1,"command":"heartbeat","idle_ms":0}\n')
