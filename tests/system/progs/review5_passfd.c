/* review5_passfd SOCKET TYPE NFDS HOLD_SECS [s:ATTR=STRING | i:ATTR=INT ...]
 *
 * Sends vimaged one request of type TYPE with NFDS descriptors (each a new
 * open of /dev/null) passed as SCM_RIGHTS with it, prints the reply's
 * errno and message ("reply errno=N msg=..."), then keeps the connection
 * open HOLD_SECS seconds (so that a test can count the daemon's
 * descriptors while the client lives) and exits. With TYPE "raw" the
 * request is 16 bytes of garbage. Attributes are hand-encoded from
 * include/vimage/ctl.h (big endian, 16-byte header, 8-byte attribute
 * headers), so the program needs no library. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../../include/vimage/ctl.h"

static uint8_t msg[4096];
static size_t len;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8, p[1] = v;
}
static void attr(uint16_t type, const void *val, uint32_t n)
{
	put16(msg + len, type);
	put16(msg + len + 2, 0);
	put32(msg + len + 4, n);
	memcpy(msg + len + 8, val, n);
	len += 8 + n;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, nfds, hold, fds[64];
	uint8_t rep[65536];
	size_t got = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: %s SOCKET TYPE NFDS HOLD [attrs]\n",
			argv[0]);
		return 2;
	}
	nfds = atoi(argv[3]);
	hold = atoi(argv[4]);
	if (nfds > 64)
		nfds = 64;
	put32(msg, CTL_MAGIC);
	msg[4] = CTL_VERSION;
	msg[5] = 0;
	put16(msg + 6, (uint16_t)atoi(argv[2]));
	put32(msg + 12, 77);
	len = 16;
	for (int i = 5; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		uint16_t t;

		if (!eq || argv[i][1] != ':')
			return 2;
		t = (uint16_t)atoi(argv[i] + 2);
		if (argv[i][0] == 's') {
			attr(t, eq + 1, (uint32_t)strlen(eq + 1));
		} else {
			uint8_t v[4];

			put32(v, (uint32_t)atoi(eq + 1));
			attr(t, v, 4);
		}
	}
	put32(msg + 8, (uint32_t)len);
	if (!strcmp(argv[2], "raw")) {
		memset(msg, 'x', 16);
		len = 16;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect");
		return 3;
	}
	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	{
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(64 * sizeof(int))];
		} cm;
		struct iovec iov = {msg, len};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

		memset(&cm, 0, sizeof(cm));
		if (nfds > 0) {
			mh.msg_control = cm.b;
			mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			cm.h.cmsg_level = SOL_SOCKET;
			cm.h.cmsg_type = SCM_RIGHTS;
			cm.h.cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(&cm.h), fds, nfds * sizeof(int));
		}
		if (sendmsg(fd, &mh, 0) != (ssize_t)len) {
			perror("sendmsg");
			return 3;
		}
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	/* The reply: header, then the rest. */
	while (got < 16 || got < ((uint32_t)rep[8] << 24 | rep[9] << 16 |
				   rep[10] << 8 | rep[11])) {
		ssize_t n = read(fd, rep + got, sizeof(rep) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= sizeof(rep))
			break;
	}
	{
		long err = 0;
		char m[300] = "";

		for (size_t off = 16; off + 8 <= got;) {
			uint16_t t = rep[off] << 8 | rep[off + 1];
			uint32_t n = (uint32_t)rep[off + 4] << 24 |
				     rep[off + 5] << 16 | rep[off + 6] << 8 |
				     rep[off + 7];

			if (off + 8 + n > got)
				break;
			if (t == CTL_A_ERRNO && n == 4)
				err = (int32_t)((uint32_t)rep[off + 8] << 24 |
						rep[off + 9] << 16 |
						rep[off + 10] << 8 |
						rep[off + 11]);
			if (t == CTL_A_MSG)
				snprintf(m, sizeof(m), "%.*s", (int)n,
					 (char *)rep + off + 8);
			off += 8 + n;
		}
		printf("reply errno=%ld msg=%s\n", err, m);
		fflush(stdout);
	}
	sleep((unsigned)hold);
	close(fd);
	return 0;
}
