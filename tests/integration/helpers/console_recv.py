# console_recv.py SOCKET OUT: a receiver for --console-socket. Listens on SOCKET, creates
# OUT.ready, accepts one connection, takes the pty master sent over SCM_RIGHTS and copies what it
# reads from it to OUT (for at most 10 s, or until the pty closes).
import os, socket, sys, time

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(out + ".ready", "w").close()
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 4096, 4)
if not fds:
    sys.exit("no fd received")
with open(out, "wb") as f:
    end = time.time() + 10
    while time.time() < end:
        try:
            b = os.read(fds[0], 4096)
        except OSError:
            break
        if not b:
            break
        f.write(b)
        f.flush()
