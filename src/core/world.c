/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The world: the "kernel" that owns every vimage, the clock, the timer wheel,
 * the packet pool, the run queue and the random generator.
 *
 * Frames crossing a link are never delivered by recursion: the sender queues
 * them on the run queue and world_run processes the queue in FIFO order. A
 * chain of ten thousand routers therefore uses constant stack, and delivery
 * order is deterministic.
 */
#include <stdlib.h>
#include <string.h>

#include "kern.h"
#include "net/if_var.h"

static struct pkt *world_runq_pop(struct world *w);

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

int world_create(const struct world_config *cfg, struct world **out)
{
	struct world *w = calloc(1, sizeof(*w));
	size_t off;
	int err;

	if (!w)
		return -ENOMEM;
	w->now = cfg ? cfg->start_ns : 0;
	if (cfg) {
		w->log_fn = cfg->log_fn;
		w->log_ctx = cfg->log_ctx;
	}
	tw_init(&w->wheel, w->now);
	rng_seed(&w->rng, cfg ? cfg->seed : 0);
	pkt_pool_init(&w->pool);
	pktq_init(&w->runq);
	w->mac_seq = rng_next(&w->rng) & 0xffffff;
	w->names_cap = 64;
	w->names = calloc(w->names_cap, sizeof(*w->names));
	if (!w->names) {
		free(w);
		return -ENOMEM;
	}
	off = align_up(sizeof(struct vimage), 16);
	for (size_t i = 0; i < VMOD_COUNT; i++) {
		w->mod_offset[i] = off;
		off = align_up(off + vmodule_table[i]->size, 16);
	}
	w->vimage_size = off;
	err = vimage_create_root(w);
	if (err) {
		free(w->names);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

void world_destroy(struct world *w)
{
	if (!w)
		return;
	vimage_destroy_root(w);
	while (world_runq_pop(w))
		; /* every interface is dead now: this frees them all */
	pkt_pool_fini(&w->pool);
	free(w->names);
	free(w);
}

uint64_t world_now(const struct world *w)
{
	return w->now;
}

uint64_t world_random(struct world *w)
{
	return rng_next(&w->rng);
}

void world_enqueue_rx(struct world *w, struct ifnet *ifp, struct pkt *p)
{
	p->ifp = ifp;
	ifp->rx_pending++;
	pktq_push(&w->runq, p);
}

/* Take the next queued frame; frames for dead interfaces are dropped here. */
static struct pkt *world_runq_pop(struct world *w)
{
	struct pkt *p;

	while ((p = pktq_pop(&w->runq))) {
		struct ifnet *ifp = p->ifp;

		ifp->rx_pending--;
		if (likely(!ifp->dead))
			return p;
		pkt_free(w, p);
		if (!ifp->rx_pending)
			if_reap(ifp);
	}
	return NULL;
}

void world_purge_rx(struct world *w, struct ifnet *ifp)
{
	struct pktq keep;
	struct pkt *p;

	pktq_init(&keep);
	if (!ifp->rx_pending)
		return;
	while ((p = pktq_pop(&w->runq))) {
		if (p->ifp == ifp) {
			ifp->rx_pending--;
			pkt_free(w, p);
		} else {
			pktq_push(&keep, p);
		}
	}
	w->runq = keep;
	if (!w->runq.head)
		w->runq.tailp = &w->runq.head;
}

size_t world_run(struct world *w)
{
	size_t n = 0;
	struct pkt *p;

	if (w->in_run)
		return 0;
	w->in_run = true;
	while ((p = world_runq_pop(w))) {
		if_input(p->ifp, p);
		n++;
	}
	w->in_run = false;
	return n;
}

uint64_t world_next_deadline(const struct world *w)
{
	return tw_next_expiry(&w->wheel);
}

void world_advance(struct world *w, uint64_t now_ns)
{
	uint64_t next;

	if (now_ns < w->now)
		now_ns = w->now;
	world_run(w);
	/* Each distinct deadline is its own instant: timers due at it fire,
	 * then what they sent is processed before the next deadline. */
	while ((next = tw_next_bound(&w->wheel)) <= now_ns) {
		if (next > w->now)
			w->now = next;
		tw_run(w, &w->wheel, w->now);
		world_run(w);
	}
	w->now = now_ns;
	tw_run(w, &w->wheel, now_ns);
	world_run(w);
}

void world_run_until(struct world *w, uint64_t end_ns)
{
	world_advance(w, end_ns);
}

void world_counts(const struct world *w, struct world_counts *c)
{
	*c = (struct world_counts){
		.vimages = w->names_count,
		.ifnets = w->ifnets_live,
		.sockets = w->sockets_live,
		.pkts = w->pool.live_pkts,
		.pbufs = w->pool.live_pbufs,
		.timers = w->wheel.armed,
		.routes = w->routes_live,
		.neighbours = w->neigh_live,
		.reass_queues = w->reass_live,
		.tcp_conns = w->tcpcb_live,
	};
}
