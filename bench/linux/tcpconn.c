/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcpconn: TCP connection loops on plain Linux sockets between two network
 * namespaces, for the Linux baseline of tcp_conn_per_s (in ONE
 * single-threaded process) and tcp_bytes_per_idle_conn (two processes)
 * (bench/linux/netns_tcp.sh).
 *
 * The process opens the listener in SERVER_NS (setns on /run/netns/NAME),
 * then moves itself to CLIENT_NS, where every client socket is created
 * (a socket stays in the namespace it was created in; accepted sockets
 * belong to the listener's). Run it pinned to one CPU (taskset) and both
 * ends, with the softirq work that veth triggers, run on that CPU.
 *
 *   tcpconn rate CLIENT_NS SERVER_NS ADDR PORT [-t MS] [-n MAX]
 *       Loop, for at most MS milliseconds (default 2500) and MAX connections
 *       (default 200000), the same steps as bench/bench_tcp.c: socket +
 *       blocking connect (client), accept (server), client sends 1 byte,
 *       server reads it, client closes, server closes. Prints one line:
 *         conns <done> failed <n> wall_ns <ns> cpu_ns <ns>
 *       cpu_ns is the process CPU time over the loop (user + system; with
 *       no IRQ time accounting it includes the softirq work in its context).
 *       A connect that fails (EADDRNOTAVAIL: no port free) is counted in
 *       "failed" and the loop goes on; 100 failures in a row stop it.
 *
 *   tcpconn idle CLIENT_NS SERVER_NS ADDR PORT [-n N]
 *       Opens N (default 10000) established connection pairs (connect +
 *       accept, no data; the server ends are held by a forked child, so
 *       that each process needs N descriptors, not 2N: RLIMIT_NOFILE is
 *       raised to N+64 if needed), and reads the
 *       kernel's memory counters before and after (each after they settle):
 *         objects = sum over /proc/slabinfo caches of active objects x their
 *                   footprint in the slab (pagesperslab*PAGE/objperslab)
 *                   + Percpu + KernelStack + PageTables (from /proc/meminfo)
 *         slab    = Slab + Percpu + KernelStack + PageTables (pages in use)
 *         avail   = drop of MemAvailable (includes this process's own pages)
 *       Prints on stderr the caches that grew most, then on stdout:
 *         pairs <n> objects_b <delta> slab_b <delta> avail_b <delta> procfd_b <b>
 *       procfd_b is what an outside reader of /proc/PID/fd added meanwhile
 *       (see proc_fd_artifact()); it is already taken out of objects_b and
 *       slab_b.
 *       and closes everything (client ends first, then server ends). The
 *       listen backlog is N, capped by net.core.somaxconn: set that to N or
 *       more in SERVER_NS, or connects stall on SYN retransmissions.
 *
 * A watchdog (alarm) ends the process if a blocking call hangs. Exit 0 on
 * success, 1 on error, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CACHES 1024

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
	fprintf(stderr, "usage: tcpconn rate CLIENT_NS SERVER_NS ADDR PORT [-t MS] [-n MAX]\n"
			"       tcpconn idle CLIENT_NS SERVER_NS ADDR PORT [-n N]\n");
	return 2;
}

/* Enters the namespace NAME (/run/netns/NAME, or a path if it has a '/'). */
static int enter_ns(const char *name)
{
	char path[512];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		perror("setns");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Listener in server_ns, then this process moves to client_ns. */
static int setup(const char *client_ns, const char *server_ns, const struct sockaddr_in *sin,
		 int backlog)
{
	int lsn, one = 1;

	if (enter_ns(server_ns) < 0)
		return -1;
	lsn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsn < 0) {
		perror("socket");
		return -1;
	}
	setsockopt(lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lsn, (const struct sockaddr *)sin, sizeof(*sin)) < 0 ||
	    listen(lsn, backlog) < 0) {
		perror("bind/listen");
		return -1;
	}
	if (enter_ns(client_ns) < 0)
		return -1;
	return lsn;
}

static int rate(const char *cns, const char *sns, const struct sockaddr_in *sin, long ms,
		long max)
{
	uint64_t done = 0, failed = 0, w0, w1, c0, c1, deadline;
	int lsn, in_a_row = 0;
	char b = 'x';

	lsn = setup(cns, sns, sin, 4096);
	if (lsn < 0)
		return 1;
	alarm((unsigned)(ms / 1000 + 20));
	w0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	deadline = w0 + (uint64_t)ms * 1000000u;
	for (long i = 0; i < max; i++) {
		int c, s;

		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0) {
			perror("socket");
			return 1;
		}
		if (connect(c, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
			if (errno != EADDRNOTAVAIL && errno != EAGAIN && errno != EINTR) {
				perror("connect");
				return 1;
			}
			close(c);
			failed++;
			if (++in_a_row >= 100) {
				fprintf(stderr, "tcpconn: 100 connects in a row failed: %s\n",
					strerror(errno));
				break;
			}
			continue;
		}
		in_a_row = 0;
		s = accept4(lsn, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0) {
			perror("accept");
			return 1;
		}
		if (send(c, &b, 1, 0) != 1 || recv(s, &b, 1, 0) != 1) {
			perror("send/recv");
			return 1;
		}
		close(c);
		close(s);
		done++;
		if (clock_ns(CLOCK_MONOTONIC) >= deadline)
			break;
	}
	c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	w1 = clock_ns(CLOCK_MONOTONIC);
	alarm(0);
	printf("conns %llu failed %llu wall_ns %llu cpu_ns %llu\n", (unsigned long long)done,
	       (unsigned long long)failed, (unsigned long long)(w1 - w0),
	       (unsigned long long)(c1 - c0));
	close(lsn);
	return 0;
}

/* --- kernel memory counters --------------------------------------------- */

struct mem {
	int ncache;
	char name[MAX_CACHES][64];
	double bytes[MAX_CACHES]; /* footprint of the active objects */
	double objs[MAX_CACHES];  /* active objects */
	double objects;		  /* all caches + percpu/stack/pagetables, bytes */
	double slab;		  /* Slab + Percpu + KernelStack + PageTables, bytes */
	double avail;		  /* MemAvailable, bytes */
};

static int read_mem(struct mem *m)
{
	long page = sysconf(_SC_PAGESIZE);
	char line[512];
	FILE *f;

	memset(m, 0, sizeof(*m));
	f = fopen("/proc/slabinfo", "r");
	if (!f) {
		perror("/proc/slabinfo");
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		unsigned long active, num, size, perslab, pages;

		if (!strncmp(line, "slabinfo", 8) || line[0] == '#')
			continue;
		if (sscanf(line, "%63s %lu %lu %lu %lu %lu", name, &active, &num, &size, &perslab,
			   &pages) != 6 ||
		    !perslab)
			continue;
		if (m->ncache < MAX_CACHES) {
			snprintf(m->name[m->ncache], sizeof(m->name[0]), "%s", name);
			m->bytes[m->ncache] = (double)active * (double)pages * page / perslab;
			m->objs[m->ncache] = (double)active;
			m->objects += m->bytes[m->ncache];
			m->ncache++;
		}
	}
	fclose(f);
	f = fopen("/proc/meminfo", "r");
	if (!f) {
		perror("/proc/meminfo");
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char key[64];
		unsigned long kb;

		if (sscanf(line, "%63[^:]: %lu", key, &kb) != 2)
			continue;
		if (!strcmp(key, "Percpu") || !strcmp(key, "KernelStack") ||
		    !strcmp(key, "PageTables")) {
			m->objects += kb * 1024.0;
			m->slab += kb * 1024.0;
		} else if (!strcmp(key, "Slab")) {
			m->slab += kb * 1024.0;
		} else if (!strcmp(key, "MemAvailable")) {
			m->avail = kb * 1024.0;
		}
	}
	fclose(f);
	return 0;
}

/* Reads until two readings 100 ms apart differ by less than 64 KiB (at most
 * 3 s): RCU-deferred frees and per-cpu caches drain. */
static int settle(struct mem *m)
{
	static struct mem prev;
	struct timespec ts = {0, 100000000};

	if (read_mem(&prev) < 0)
		return -1;
	for (int i = 0; i < 30; i++) {
		nanosleep(&ts, NULL);
		if (read_mem(m) < 0)
			return -1;
		if (m->objects - prev.objects < 65536 && prev.objects - m->objects < 65536)
			return 0;
		prev = *m;
	}
	fprintf(stderr, "tcpconn: kernel memory still moving after 3 s (busy machine?)\n");
	return 0;
}

static int cache_index(const struct mem *m, const char *name)
{
	for (int i = 0; i < m->ncache; i++)
		if (!strcmp(m->name[i], name))
			return i;
	return -1;
}

/* Bytes of kernel memory that an outside reader of /proc/PID/fd added
 * between a and b. Something on this machine (not this project) walks
 * /proc/PID/fd of every process every few seconds: for a process holding
 * 10,000 sockets that makes 10,000 proc inodes, each with a dentry and an
 * LSM inode blob, which stay cached until the process exits. They are not
 * the connections' memory, so they are taken out: per new proc_inode_cache
 * object, one proc_inode_cache + one dentry + one lsm_inode_cache object
 * (when those caches exist). *nproc gets the number of proc inodes. */
static double proc_fd_artifact(const struct mem *a, const struct mem *b, double *nproc)
{
	static const char *const per_inode[] = {"proc_inode_cache", "dentry", "lsm_inode_cache"};
	int pa = cache_index(a, "proc_inode_cache"), pb = cache_index(b, "proc_inode_cache");
	double k, bytes = 0;

	*nproc = 0;
	if (pa < 0 || pb < 0 || (k = b->objs[pb] - a->objs[pa]) <= 0)
		return 0;
	for (size_t i = 0; i < sizeof(per_inode) / sizeof(per_inode[0]); i++) {
		int j = cache_index(b, per_inode[i]);

		if (j >= 0 && b->objs[j] > 0)
			bytes += k * b->bytes[j] / b->objs[j];
	}
	*nproc = k;
	return bytes;
}

/* The other caches that SLUB merged with NAME (they share one slabinfo
 * line, shown under one of their names), from the /sys/kernel/slab links;
 * "" when none. */
static void merged_with(const char *name, char *out, size_t len)
{
	char path[512], target[256], t2[256];
	struct dirent *e;
	size_t used = 0;
	ssize_t r;
	DIR *d;

	out[0] = 0;
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s", name);
	r = readlink(path, target, sizeof(target) - 1);
	if (r <= 0)
		return;
	target[r] = 0;
	d = opendir("/sys/kernel/slab");
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == ':' || !strcmp(e->d_name, name))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s", e->d_name);
		r = readlink(path, t2, sizeof(t2) - 1);
		if (r <= 0)
			continue;
		t2[r] = 0;
		if (strcmp(t2, target))
			continue;
		if (used + strlen(e->d_name) + 6 >= len) {
			snprintf(out + used, len - used, " ...");
			break;
		}
		used += (size_t)snprintf(out + used, len - used, " %s", e->d_name);
	}
	closedir(d);
}

static void show_growth(const struct mem *a, const struct mem *b, long pairs)
{
	double d[MAX_CACHES], shown = 0;
	int idx[MAX_CACHES], n = 0;
	char merged[160];

	for (int i = 0; i < b->ncache; i++) {
		double before = 0;

		for (int j = 0; j < a->ncache; j++)
			if (!strcmp(a->name[j], b->name[i])) {
				before = a->bytes[j];
				break;
			}
		d[i] = b->bytes[i] - before;
		idx[n++] = i;
	}
	/* the 10 largest rises */
	for (int k = 0; k < 10 && k < n; k++) {
		int best = k, t;

		for (int j = k + 1; j < n; j++)
			if (d[idx[j]] > d[idx[best]])
				best = j;
		t = idx[k];
		idx[k] = idx[best];
		idx[best] = t;
		if (d[idx[k]] < 4096)
			break;
		shown += d[idx[k]];
		merged_with(b->name[idx[k]], merged, sizeof(merged));
		fprintf(stderr, "tcpconn:   %-18s %+8.0f KiB %7.1f B per end%s%s%s\n",
			b->name[idx[k]], d[idx[k]] / 1024, d[idx[k]] / (2.0 * pairs),
			merged[0] ? "  (merged with:" : "", merged, merged[0] ? ")" : "");
	}
	fprintf(stderr, "tcpconn:   (these: %.1f B per end, of %.1f counted in all)\n",
		shown / (2.0 * pairs), (b->objects - a->objects) / (2.0 * pairs));
}

/* Raises the soft RLIMIT_NOFILE to at least need (and the hard one if
 * allowed: without CAP_SYS_RESOURCE it cannot be). */
static int want_fds(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max < need) {
		struct rlimit hard = {need, need};

		if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
			return 0;
		fprintf(stderr, "tcpconn: RLIMIT_NOFILE hard limit %llu < %llu and cannot be raised\n",
			(unsigned long long)rl.rlim_max, (unsigned long long)need);
		return -1;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("setrlimit(RLIMIT_NOFILE)");
		return -1;
	}
	return 0;
}

/* Grows the fd table to hold n descriptors now, so that its growth later
 * is not counted (it is per process, not per connection). */
static void grow_fd_table(int fd, long n)
{
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)n);

	if (hi >= 0)
		close(hi);
}

/* The server ends live in a child process and the client ends in the
 * parent, so that each holds n descriptors, not 2n (the hard RLIMIT_NOFILE
 * may be 20000 and not raisable). Both are forked before the first reading,
 * so the child's own kernel memory is not counted. */
static int idle(const char *cns, const char *sns, const struct sockaddr_in *sin, long n)
{
	static struct mem m0, m1;
	int lsn, *fds, go[2], ready[2], done[2], st;
	long got = 0;
	pid_t pid;
	char b = 'g';

	if (want_fds((rlim_t)(n + 64)) < 0)
		return 1;
	fds = calloc((size_t)n, sizeof(*fds));
	if (!fds) {
		perror("calloc");
		return 1;
	}
	if (enter_ns(sns) < 0)
		return 1;
	lsn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsn < 0 || bind(lsn, (const struct sockaddr *)sin, sizeof(*sin)) < 0 ||
	    listen(lsn, (int)n) < 0) { /* capped by net.core.somaxconn */
		perror("listener");
		return 1;
	}
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) {
		perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) { /* server ends */
		close(go[1]);
		close(ready[0]);
		close(done[1]);
		grow_fd_table(lsn, n + 16);
		alarm(90);
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		for (got = 0; got < n; got++) {
			fds[got] = accept4(lsn, NULL, NULL, SOCK_CLOEXEC);
			if (fds[got] < 0) {
				perror("accept");
				_exit(1);
			}
		}
		if (write(ready[1], &got, sizeof(got)) != sizeof(got))
			_exit(1);
		/* wait until the parent has closed the client ends (or died) */
		while (read(done[0], &b, 1) < 0 && errno == EINTR)
			;
		for (long i = 0; i < n; i++)
			close(fds[i]);
		close(lsn);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	close(done[0]);
	close(lsn);
	alarm(90);
	if (enter_ns(cns) < 0)
		goto fail;
	grow_fd_table(go[1], n + 16);
	if (settle(&m0) < 0)
		goto fail;
	if (write(go[1], &b, 1) != 1) {
		perror("write");
		goto fail;
	}
	for (long i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0) {
			perror("socket");
			goto fail;
		}
		if (connect(fds[i], (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
			fprintf(stderr, "tcpconn: connect %ld: %s\n", i, strerror(errno));
			goto fail;
		}
	}
	if (read(ready[0], &got, sizeof(got)) != sizeof(got) || got != n) {
		fprintf(stderr, "tcpconn: the server side did not accept all %ld connections\n", n);
		goto fail;
	}
	if (settle(&m1) < 0)
		goto fail;
	fprintf(stderr, "tcpconn: %ld pairs established; slab caches that grew most:\n", n);
	show_growth(&m0, &m1, n);
	{
		double nproc, art = proc_fd_artifact(&m0, &m1, &nproc);

		if (nproc > 0)
			fprintf(stderr,
				"tcpconn: %.0f more proc inodes: /proc/PID/fd was read from outside "
				"meanwhile; %.1f B per end (those inodes, their dentries and LSM "
				"blobs) not counted\n",
				nproc, art / (2.0 * n));
		printf("pairs %ld objects_b %.0f slab_b %.0f avail_b %.0f procfd_b %.0f\n", n,
		       m1.objects - m0.objects - art, m1.slab - m0.slab - art, m0.avail - m1.avail,
		       art);
	}
	fflush(stdout);
	for (long i = 0; i < n; i++)
		close(fds[i]);
	close(done[1]); /* the child closes the server ends */
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "tcpconn: the server side failed\n");
		return 1;
	}
	alarm(0);
	free(fds);
	return 0;
fail:
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	long port, ms = 2500, max = -1, opt;
	int is_rate;

	if (argc < 6)
		return usage();
	is_rate = !strcmp(argv[1], "rate");
	if (!is_rate && strcmp(argv[1], "idle"))
		return usage();
	if (inet_pton(AF_INET, argv[4], &sin.sin_addr) != 1 ||
	    parse_long(argv[5], 1, 65535, &port) < 0)
		return usage();
	sin.sin_port = htons((uint16_t)port);
	optind = 6;
	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		int bad;

		switch (opt) {
		case 't':
			bad = parse_long(optarg, 1, 600000, &ms);
			break;
		case 'n':
			bad = parse_long(optarg, 1, 1000000, &max);
			break;
		default:
			bad = -1;
		}
		if (bad)
			return usage();
	}
	if (optind != argc)
		return usage();
	if (is_rate)
		return rate(argv[2], argv[3], &sin, ms, max < 0 ? 200000 : max);
	return idle(argv[2], argv[3], &sin, max < 0 ? 10000 : max);
}
