/* review5_procnet CHECK...: how a program sees /proc/net inside a vimage.
 * Each check prints "ok NAME" or "FAIL NAME: why". A file shows the
 * vimage when its first interface line names lo0 (the host has "lo:").
 *   dirfd      openat(open("/proc/net"), "dev")
 *   selfdirfd  openat(open("/proc/self"), "net/dev")
 *   relative   chdir("/proc"); open("net/dev")
 *   dotpath    open("/proc/./net/dev") and "/proc//net/dev"
 *   statdir    open("/proc/net/stat/arp_cache"): ENOENT or the vimage's
 *   writefd    write() on an O_RDONLY descriptor of /proc/net/dev: EBADF
 *   wronly     open("/proc/net/dev", O_WRONLY): EACCES
 *   rdwr       open("/proc/net/dev", O_RDWR): EACCES
 *   fopen_w    fopen("/proc/net/dev", "w"): EACCES
 *   notemul    open("/proc/net/unix"): ENOENT (never the host's data)
 *   directory  open("/proc/net/dev", O_RDONLY|O_DIRECTORY): ENOTDIR */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failed;

static void res(const char *name, int good, const char *why)
{
	printf("%s %s%s%s\n", good ? "ok" : "FAIL", name, good ? "" : ": ",
	       good ? "" : why);
	failed |= !good;
}

/* 1: the vimage's /proc/net/dev, 0: the host's (or not readable). */
static int vimage_dev(int fd, char *why, size_t wl)
{
	char buf[8192];
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd < 0) {
		snprintf(why, wl, "open: %s", strerror(errno));
		return 0;
	}
	close(fd);
	if (n <= 0) {
		snprintf(why, wl, "read %zd", n);
		return 0;
	}
	buf[n] = 0;
	if (strstr(buf, " lo0:") && !strstr(buf, " lo:"))
		return 1;
	snprintf(why, wl, "the host's /proc/net/dev (%s)",
		 strstr(buf, " lo:") ? "has 'lo:'" : "no 'lo0:'");
	return 0;
}

int main(int argc, char **argv)
{
	char why[256];

	for (int i = 1; i < argc; i++) {
		const char *c = argv[i];

		why[0] = 0;
		if (!strcmp(c, "dirfd")) {
			int d = open("/proc/net", O_RDONLY | O_DIRECTORY);

			res("procnet_openat_dirfd",
			    vimage_dev(openat(d, "dev", O_RDONLY), why,
				       sizeof(why)),
			    why);
		} else if (!strcmp(c, "selfdirfd")) {
			int d = open("/proc/self", O_RDONLY | O_DIRECTORY);

			res("procnet_openat_self_dirfd",
			    vimage_dev(openat(d, "net/dev", O_RDONLY), why,
				       sizeof(why)),
			    why);
		} else if (!strcmp(c, "relative")) {
			int ok = chdir("/proc") == 0 &&
				 vimage_dev(open("net/dev", O_RDONLY), why,
					    sizeof(why));
			res("procnet_relative_path", ok, why);
		} else if (!strcmp(c, "dotpath")) {
			char w2[256] = "";
			int a = vimage_dev(open("/proc/./net/dev", O_RDONLY),
					   why, sizeof(why));
			int b = vimage_dev(open("/proc//net/dev", O_RDONLY),
					   w2, sizeof(w2));

			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "%s/proc/./net/dev; %s /proc//net/dev",
				 why[0] ? " " : "", w2);
			res("procnet_unnormalised_path", a && b, why);
		} else if (!strcmp(c, "statdir")) {
			int fd = open("/proc/net/stat/arp_cache", O_RDONLY);
			char buf[4096];
			ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

			if (n > 0)
				buf[n] = 0;
			/* The host's neighbour table statistics: "entries
			 * allocs ..." with the host's numbers. */
			snprintf(why, sizeof(why), "opened (fd %d), read '%.60s'",
				 fd, n > 0 ? buf : "");
			res("procnet_subdirectory_not_host", fd < 0 && errno == ENOENT,
			    why);
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(c, "writefd")) {
			int fd = open("/proc/net/dev", O_RDONLY);
			ssize_t n = fd >= 0 ? write(fd, "x", 1) : -2;
			int e = errno;

			snprintf(why, sizeof(why), "write returned %zd (%s)", n,
				 n < 0 ? strerror(e) : "written");
			res("procnet_rdonly_fd_not_writable", n == -1 && e == EBADF,
			    why);
		} else if (!strcmp(c, "wronly") || !strcmp(c, "rdwr")) {
			int fd = open("/proc/net/dev",
				      c[0] == 'w' ? O_WRONLY : O_RDWR);

			snprintf(why, sizeof(why), "fd %d errno %s", fd,
				 strerror(errno));
			res(c[0] == 'w' ? "procnet_open_wronly_eacces"
					: "procnet_open_rdwr_eacces",
			    fd < 0 && errno == EACCES, why);
		} else if (!strcmp(c, "fopen_w")) {
			FILE *f = fopen("/proc/net/route", "w");

			snprintf(why, sizeof(why), "%p errno %s", (void *)f,
				 strerror(errno));
			res("procnet_fopen_w_eacces", !f && errno == EACCES, why);
		} else if (!strcmp(c, "notemul")) {
			int fd = open("/proc/net/unix", O_RDONLY);

			snprintf(why, sizeof(why), "fd %d errno %s", fd,
				 strerror(errno));
			res("procnet_not_emulated_enoent", fd < 0 && errno == ENOENT,
			    why);
		} else if (!strcmp(c, "directory")) {
			int fd = open("/proc/net/dev", O_RDONLY | O_DIRECTORY);

			snprintf(why, sizeof(why), "fd %d errno %s", fd,
				 strerror(errno));
			res("procnet_o_directory_enotdir",
			    fd < 0 && errno == ENOTDIR, why);
		} else {
			fprintf(stderr, "unknown check %s\n", c);
			return 2;
		}
	}
	return failed;
}
