/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udpblast: a small UDP traffic source and sink on plain Linux sockets, for
 * the Linux forwarding baseline (bench/linux/netns_chain.sh).
 *
 *   udpblast send ADDR PORT [-n COUNT] [-t SECONDS] [-b BATCH] [-l PAYLOAD]
 *       Sends COUNT datagrams (default 2000000) of PAYLOAD bytes (default 22:
 *       14 + 20 + 8 + 22 = 64-byte Ethernet frames without FCS) to ADDR:PORT
 *       with sendmmsg() in batches of BATCH (default 64), stopping early after
 *       SECONDS (default 10). Prints one line:
 *         sent <n> failed <n> wall_ns <ns> cpu_ns <ns>
 *       cpu_ns is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID) over the
 *       sending loop. On a kernel without IRQ time accounting it includes the
 *       softirq work run in this thread's context, which is where veth
 *       transmission runs the receive path of the peer (and so the whole
 *       chain of forwarding namespaces), unlike wall time it does not count
 *       time lost to other tasks on the same CPU.
 *       Send errors (ENOBUFS, ECONNREFUSED after an ICMP error, ...) are
 *       counted in "failed" and the loop goes on.
 *
 *   udpblast sink PORT [-t SECONDS] [-i IDLE_MS]
 *       Binds 0.0.0.0:PORT with a large receive buffer, prints "ready" once
 *       bound, counts datagrams, and stops IDLE_MS (default 500) after the
 *       last one once some arrived, or after SECONDS (default 30) in all.
 *       Prints one line:
 *         received <n> wall_ns <ns from first to last datagram>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define SINK_BATCH 256
#define SINK_SNAP 64 /* bytes kept of each received datagram */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: udpblast send ADDR PORT [-n COUNT] [-t SECONDS] [-b BATCH] [-l PAYLOAD]\n"
		"       udpblast sink PORT [-t SECONDS] [-i IDLE_MS]\n");
	return 2;
}

static int blast(const char *addr, long port, long count, long seconds, long batch,
		 long payload)
{
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static char buf[65507];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	uint64_t sent = 0, failed = 0, w0, w1, c0, c1, deadline;
	int fd, one = 255, sndbuf = 4 << 20;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "udpblast: bad address %s\n", addr);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* TTL 255 so that long chains are not cut short by the default 64 */
	setsockopt(fd, IPPROTO_IP, IP_TTL, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("connect");
		return 1;
	}
	memset(buf, 0x5a, (size_t)payload);
	for (long i = 0; i < batch; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = (size_t)payload;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	w0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	deadline = w0 + (uint64_t)seconds * 1000000000u;
	while (sent < (uint64_t)count) {
		unsigned int n = (unsigned int)batch;
		int r;

		if ((uint64_t)count - sent < n)
			n = (unsigned int)((uint64_t)count - sent);
		r = sendmmsg(fd, msgs, n, 0);
		if (r > 0) {
			sent += (uint64_t)r;
		} else if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED ||
			   errno == EHOSTUNREACH || errno == ENETUNREACH || errno == EINTR) {
			failed++;
		} else {
			perror("sendmmsg");
			return 1;
		}
		if (clock_ns(CLOCK_MONOTONIC) >= deadline)
			break;
	}
	c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	w1 = clock_ns(CLOCK_MONOTONIC);
	printf("sent %llu failed %llu wall_ns %llu cpu_ns %llu\n", (unsigned long long)sent,
	       (unsigned long long)failed, (unsigned long long)(w1 - w0),
	       (unsigned long long)(c1 - c0));
	close(fd);
	return 0;
}

static int sink(long port, long seconds, long idle_ms)
{
	static char bufs[SINK_BATCH][SINK_SNAP];
	static struct mmsghdr msgs[SINK_BATCH];
	static struct iovec iov[SINK_BATCH];
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_ANY)};
	uint64_t received = 0, first = 0, last = 0, end;
	int fd, rcvbuf = 64 << 20;
	struct pollfd pfd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* FORCE goes past rmem_max when root; plain SO_RCVBUF otherwise */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("bind");
		return 1;
	}
	for (int i = 0; i < SINK_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = SINK_SNAP;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);

	end = clock_ns(CLOCK_MONOTONIC) + (uint64_t)seconds * 1000000000u;
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		int64_t wait_ms = (int64_t)(end - now) / 1000000;
		int r;

		if (now >= end)
			break;
		if (received && (uint64_t)idle_ms * 1000000u + last <= now)
			break;
		if (received && wait_ms > idle_ms)
			wait_ms = idle_ms;
		r = poll(&pfd, 1, (int)(wait_ms > 0 ? wait_ms : 1));
		if (r < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (r <= 0)
			continue;
		for (;;) {
			r = recvmmsg(fd, msgs, SINK_BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0)
				break;
			last = clock_ns(CLOCK_MONOTONIC);
			if (!received)
				first = last;
			received += (uint64_t)r;
		}
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			perror("recvmmsg");
			return 1;
		}
	}
	printf("received %llu wall_ns %llu\n", (unsigned long long)received,
	       (unsigned long long)(last - first));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	long count = 2000000, seconds = -1, batch = 64, payload = 22, idle_ms = 500;
	long port;
	int send_mode, nfixed, opt;

	if (argc < 2)
		return usage();
	send_mode = !strcmp(argv[1], "send");
	if (!send_mode && strcmp(argv[1], "sink"))
		return usage();
	nfixed = send_mode ? 4 : 3; /* mode word, then ADDR PORT or PORT */
	if (argc < nfixed || parse_long(argv[nfixed - 1], 1, 65535, &port) < 0)
		return usage();
	optind = nfixed;
	while ((opt = getopt(argc, argv, "n:t:b:l:i:")) != -1) {
		int bad = 0;

		switch (opt) {
		case 'n':
			bad = parse_long(optarg, 1, 1000000000L, &count);
			break;
		case 't':
			bad = parse_long(optarg, 1, 3600, &seconds);
			break;
		case 'b':
			bad = parse_long(optarg, 1, MAX_BATCH, &batch);
			break;
		case 'l':
			bad = parse_long(optarg, 0, 65507, &payload);
			break;
		case 'i':
			bad = parse_long(optarg, 1, 60000, &idle_ms);
			break;
		default:
			bad = -1;
		}
		if (bad)
			return usage();
	}
	if (optind != argc)
		return usage();
	if (send_mode)
		return blast(argv[2], port, count, seconds < 0 ? 10 : seconds, batch, payload);
	return sink(port, seconds < 0 ? 30 : seconds, idle_ms);
}
