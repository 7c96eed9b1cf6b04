# Listens on the TCP and UDP ports given and echoes UDP datagrams. "tcp:8080" is dual-stack on
# every address; "tcp:10.200.0.1:8443", "udp:0.0.0.0:5353", "tcp:::8445" (IPv6 only) and
# "udp:fd00:200::1:7001" listen on that address alone.
# Usage: listen.py tcp:8080 udp:10.200.0.1:9090 ... ; prints "ready" once every socket is bound.
import socket, sys, threading

def bound(kind, addr, port):
    fam = socket.AF_INET if addr and ":" not in addr else socket.AF_INET6
    s = socket.socket(fam, kind)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if addr is None else 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if addr is None else addr, port))
    return s

def tcp(addr, port):
    s = bound(socket.SOCK_STREAM, addr, port)
    s.listen(64)
    def serve():
        while True:
            c, _ = s.accept()
            c.close()
    threading.Thread(target=serve, daemon=True).start()

def udp(addr, port):
    s = bound(socket.SOCK_DGRAM, addr, port)
    def serve():
        while True:
            data, addr = s.recvfrom(2048)
            s.sendto(data, addr)
    threading.Thread(target=serve, daemon=True).start()

for arg in sys.argv[1:]:
    proto, rest = arg.split(":", 1)
    addr, _, port = rest.rpartition(":")
    (tcp if proto == "tcp" else udp)(addr or None, int(port))
print("ready", flush=True)
sys.stdin.read()  # until the test closes our stdin
