# Probes ports the way a scanner would and prints one line per probe: "proto src port result",
# result being open, closed (refused: TCP reset or ICMP port unreachable), filtered (no answer,
# or another ICMP unreachable) or error:...
# Usage: probe.py DST4 TIMEOUT DST6 proto|src|port ...
import socket, sys, threading, errno

dst, timeout, dst6 = sys.argv[1], float(sys.argv[2]), sys.argv[3]
results = {}

def probe(spec):
    parts = spec.split("|")
    proto, src, port = parts[0], parts[1], int(parts[2])
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, kind)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        if proto == "tcp":
            s.connect((dst if fam == socket.AF_INET else dst6, port))
            r = "open"
        else:
            s.connect((dst if fam == socket.AF_INET else dst6, port))
            s.send(b"ping")
            r = "open" if s.recv(64) == b"ping" else "error:bad echo"
    except ConnectionRefusedError:
        r = "closed"
    except socket.timeout:
        r = "filtered"
    except OSError as e:
        # an ICMP unreachable other than port unreachable: what a scanner calls filtered
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES):
            r = "filtered"
        else:
            r = "error:" + errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
    results[spec] = r

specs = sys.argv[4:]
threads = [threading.Thread(target=probe, args=(sp,)) for sp in specs]
for t in threads:
    t.start()
for t in threads:
    t.join()
for sp in specs:
    print(sp, results[sp])
