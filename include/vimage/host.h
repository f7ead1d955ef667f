/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host attachments (the shell side, libvimage-host.a): drivers that connect
 * a vimage interface to something outside the world. These do I/O; the
 * core library does not.
 */
#ifndef VIMAGE_HOST_H
#define VIMAGE_HOST_H

#include "vimage/net.h"

struct vtap;

/* Open (creating if needed) the Linux TAP device `devname` (needs
 * CAP_NET_ADMIN) and attach it to a new Ethernet interface `ifname` in vi.
 * The TAP's fd is non-blocking; poll it for input and call vtap_input. */
int vtap_attach(struct vimage *vi, const char *devname, const char *ifname,
		struct vtap **out);
/* The same with a TAP device someone else opened (TUNSETIFF done, as
 * IFF_TAP | IFF_NO_PI): vimaged gets it from a privileged vimage(8). The
 * fd belongs to the vtap on success. -EINVAL if it is not such a TAP. */
int vtap_attach_fd(struct vimage *vi, int fd, const char *ifname,
		   struct vtap **out);
int vtap_fd(const struct vtap *t);
struct ifnet *vtap_ifp(const struct vtap *t);
/* Read every pending frame (at most max_frames) into the world. Returns the
 * number read or a negative errno. Frames with bad lengths are counted in
 * the interface's ierrors and dropped. */
int vtap_input(struct vtap *t, int max_frames);
/* Destroy the interface and close the TAP. */
void vtap_detach(struct vtap *t);

#endif
