#!/usr/bin/env python3
# A TCP receiver that reads nothing for a while, so that its window closes
# and the sender has to probe it: slow_reader.py PORT PAUSE_SECONDS.
# Accepts one connection, then prints "<bytes> <sha256>" of what it read.
import hashlib
import socket
import sys
import time

port, pause = int(sys.argv[1]), float(sys.argv[2])
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
# A small buffer closes the window after a few segments.
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
lsn.bind(("0.0.0.0", port))
lsn.listen(1)
conn, _ = lsn.accept()
time.sleep(pause)
digest, n = hashlib.sha256(), 0
while True:
    data = conn.recv(65536)
    if not data:
        break
    digest.update(data)
    n += len(data)
print(n, digest.hexdigest())
