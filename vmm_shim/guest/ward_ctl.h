/* The micro-VM's control channel protocol, between `ward exec` (host, through the VMM's
 * virtio-console relay) and ward-init (guest, the port ward.ctl). Header-only: the static
 * guest binary and ward share it. A frame is a type byte, a 4-byte little-endian payload length
 * (at most WCTL_MAX_PAYLOAD), and the payload.
 *
 *   host -> guest   E  exec: NUL-terminated strings cwd, uid, gid, argc, argv[0..argc), then
 *                      the environment (each NAME=VALUE) to the end
 *                   I  stdin bytes             C  stdin closed
 *                   K  a signal for the process (one byte)
 *   guest -> host   O  stdout bytes            R  stderr bytes
 *                   F  an error message (the exec could not start; X follows)
 *                   X  the exit status, as decimal text (128 + signal when killed)
 * One exec runs at a time (the VMM relays one client at a time). The port's open/close
 * messages are the connection boundary: when a client goes, the guest reads end-of-file (after
 * the client's last bytes) and POLLHUP; ward-init then kills the exec'd process group, forgets
 * any half frame, and closes and reopens the port; the VMM connects no other client until it
 * has seen that close (when the client had sent anything), so no frame or output of one client
 * reaches the next. */
#ifndef WARD_CTL_H
#define WARD_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The virtio-console ports (their names in /sys/class/virtio-ports/NAME/name), in port order */
#define WCTL_PORT_CTL "ward.ctl"
#define WCTL_PORT_STDIN "ward.stdin"
#define WCTL_PORT_STDOUT "ward.stdout"
#define WCTL_PORT_STDERR "ward.stderr"

#define WCTL_HDR 5
#define WCTL_MAX_PAYLOAD 65536
#define WCTL_MAX_STRINGS 512

static inline void wctl_header(uint8_t *hdr, char type, uint32_t len)
{
	hdr[0] = (uint8_t)type;
	hdr[1] = (uint8_t)len;
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)(len >> 16);
	hdr[4] = (uint8_t)(len >> 24);
}

/* A complete frame at buf[0..have): its total size (header + payload) with *type and *len set;
 * 0 when more bytes are needed; -1 when the length is out of range. */
static inline long wctl_frame(const uint8_t *buf, size_t have, char *type, uint32_t *len)
{
	if (have < WCTL_HDR)
		return 0;
	*type = (char)buf[0];
	*len = (uint32_t)buf[1] | (uint32_t)buf[2] << 8 | (uint32_t)buf[3] << 16 |
	       (uint32_t)buf[4] << 24;
	if (*len > WCTL_MAX_PAYLOAD)
		return -1;
	if (have < WCTL_HDR + (size_t)*len)
		return 0;
	return (long)(WCTL_HDR + *len);
}

/* Split an E payload (modified: strings point into it). 0, or -1 when malformed. */
static inline int wctl_parse_exec(char *p, size_t len, const char **cwd, unsigned *uid,
				  unsigned *gid, char **argv, char **envp)
{
	char *str[WCTL_MAX_STRINGS + 4];
	size_t n = 0, off = 0;
	unsigned long argc;
	char *end;

	if (len == 0 || p[len - 1] != '\0')
		return -1;
	while (off < len) {
		if (n >= WCTL_MAX_STRINGS + 4)
			return -1;
		str[n++] = p + off;
		off += strlen(p + off) + 1;
	}
	if (n < 5)
		return -1;
	*cwd = str[0];
	*uid = (unsigned)strtoul(str[1], &end, 10);
	if (*end || !*str[1])
		return -1;
	*gid = (unsigned)strtoul(str[2], &end, 10);
	if (*end || !*str[2])
		return -1;
	argc = strtoul(str[3], &end, 10);
	if (*end || argc == 0 || argc > n - 4 || !*str[4] || (*cwd)[0] != '/')
		return -1;
	for (size_t i = 0; i < argc; i++)
		argv[i] = str[4 + i];
	argv[argc] = NULL;
	for (size_t i = 4 + argc; i < n; i++)
		*envp++ = str[i];
	*envp = NULL;
	return 0;
}

#endif
