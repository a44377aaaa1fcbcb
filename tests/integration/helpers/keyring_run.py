# keyring_run.py NAME CMD...: join a new session keyring NAME that only its possessors may see
# (no permission for the user or others), then exec CMD. The keyring is not namespaced: a
# container process that still possesses it sees it in /proc/keys.
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_keyctl = 250
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_SETPERM = 1, 5
kid = libc.syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, sys.argv[1].encode())
if kid < 0:
    sys.exit("join session keyring: %s" % os.strerror(ctypes.get_errno()))
if libc.syscall(SYS_keyctl, KEYCTL_SETPERM, kid, 0x3f000000) < 0:
    sys.exit("setperm: %s" % os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[2], sys.argv[2:])
