/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TAP attachment: a vimage Ethernet interface whose wire is a Linux TAP
 * device, so the Linux kernel (in a namespace a test made) can be the peer.
 * Frames the vimage sends are written to the TAP; frames read from the TAP
 * are handed to the core with vif_ext_input. IFF_NO_PI: raw Ethernet frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vimage/host.h"

struct vtap {
	int fd;
	struct ifnet *ifp;
	uint64_t write_errors;
};

static void vtap_transmit(void *ctx, struct ifnet *ifp, const uint8_t *frame,
			  size_t len)
{
	struct vtap *t = ctx;

	/* A full TAP queue drops the frame, as a busy NIC would. */
	if (write(t->fd, frame, len) != (ssize_t)len)
		t->write_errors++;
}

static void vtap_ifp_gone(void *ctx, struct ifnet *ifp)
{
	struct vtap *t = ctx;

	t->ifp = NULL;
}

static const struct vif_ext_ops vtap_ops = {
	.transmit = vtap_transmit,
	.destroy = vtap_ifp_gone,
};

int vtap_attach(struct vimage *vi, const char *devname, const char *ifname,
		struct vtap **out)
{
	struct ifreq ifr;
	struct vtap *t;
	int err;

	if (!devname || strlen(devname) >= IFNAMSIZ)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		err = -errno;
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strcpy(ifr.ifr_name, devname);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		goto fail;
	}
	err = vif_ext_create(vi, ifname, &vtap_ops, t, &t->ifp);
	if (err)
		goto fail;
	*out = t;
	return 0;
fail:
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return err;
}

int vtap_attach_fd(struct vimage *vi, int fd, const char *ifname,
		   struct vtap **out)
{
	struct ifreq ifr;
	struct vtap *t;
	int err;

	/* It must be a TAP (Ethernet frames, no packet information). */
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return errno == EBADFD ? -EBADFD : -EINVAL;
	if ((ifr.ifr_flags & (IFF_TAP | IFF_TUN)) != IFF_TAP ||
	    !(ifr.ifr_flags & IFF_NO_PI))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	err = vif_ext_create(vi, ifname, &vtap_ops, t, &t->ifp);
	if (err) {
		free(t);
		return err;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	t->fd = fd;
	*out = t;
	return 0;
}

int vtap_fd(const struct vtap *t)
{
	return t->fd;
}

struct ifnet *vtap_ifp(const struct vtap *t)
{
	return t->ifp;
}

int vtap_input(struct vtap *t, int max_frames)
{
	uint8_t frame[65536 + 64];
	int n = 0;

	while (n < max_frames) {
		ssize_t r = read(t->fd, frame, sizeof(frame));

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		if (t->ifp)
			vif_ext_input(t->ifp, frame, (size_t)r);
		n++;
	}
	return n;
}

void vtap_detach(struct vtap *t)
{
	if (!t)
		return;
	if (t->ifp)
		vif_destroy(t->ifp);
	close(t->fd);
	free(t);
}
