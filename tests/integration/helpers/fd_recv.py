# fd_recv.py MODE SOCKET OUT [SECONDS]: the other end of ward's --console-socket / --pidfd-socket. Listens
# on SOCKET, creates OUT.ready, accepts one connection and takes the fd sent over SCM_RIGHTS.
#   copy   (a pty master) copies what it reads from the fd to OUT, for at most SECONDS (10) or
#          until the pty closes
#   pidfd  (a pidfd) writes "alive=BOOL gone=BOOL" to OUT: whether the process ran when the fd
#          came, and whether it ended within 5 s of a SIGKILL sent through the pidfd
import os, select, signal, socket, sys, time

mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
secs = float(sys.argv[4]) if len(sys.argv) > 4 else 10
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(out + ".ready", "w").close()
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 4096, 4)
if not fds:
    sys.exit("no fd received")
if mode == "pidfd":
    p = select.poll()
    p.register(fds[0], select.POLLIN)
    alive = not p.poll(0)
    signal.pidfd_send_signal(fds[0], signal.SIGKILL)
    gone = bool(p.poll(5000))
    with open(out, "w") as f:
        f.write("alive=%s gone=%s\n" % (alive, gone))
    sys.exit(0)
with open(out, "wb") as f:
    end = time.time() + secs
    while time.time() < end:
        try:
            b = os.read(fds[0], 4096)
        except OSError:
            break
        if not b:
            break
        f.write(b)
        f.flush()
