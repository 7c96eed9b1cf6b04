# Listens on the TCP and UDP ports given (dual-stack, all addresses) and echoes UDP datagrams.
# Usage: listen.py tcp:8080 udp:9090 ... ; prints "ready" once every socket is bound.
import socket, sys, threading

def tcp(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(64)
    def serve():
        while True:
            c, _ = s.accept()
            c.close()
    threading.Thread(target=serve, daemon=True).start()

def udp(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    def serve():
        while True:
            data, addr = s.recvfrom(2048)
            s.sendto(data, addr)
    threading.Thread(target=serve, daemon=True).start()

for arg in sys.argv[1:]:
    proto, port = arg.split(":")
    (tcp if proto == "tcp" else udp)(int(port))
print("ready", flush=True)
sys.stdin.read()  # until the test closes our stdin
