/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet buffers. A packet (struct pkt) is small metadata pointing into a
 * reference-counted data buffer (struct pbuf), so one frame can go to several
 * places (flooding, capture) without copying, and handing a frame across a
 * link moves a pointer. Buffers of the common size come from a free list
 * owned by the world; larger ones (ve MTU up to 65535) are allocated to size.
 * A layer that changes bytes first calls pkt_make_writable, which copies only
 * when the buffer is shared.
 */
#include <stdlib.h>
#include <string.h>

#include "kern.h"

/* Free lists are bounded so that a burst does not pin memory forever. */
#define POOL_MAX_FREE_PKTS 4096
#define POOL_MAX_FREE_SMALL 4096

void pkt_pool_init(struct pkt_pool *pp)
{
	*pp = (struct pkt_pool){0};
}

void pkt_pool_fini(struct pkt_pool *pp)
{
	while (pp->free_pkts) {
		struct pkt *p = pp->free_pkts;

		pp->free_pkts = p->next;
		free(p);
	}
	while (pp->free_small) {
		struct pbuf *b = pp->free_small;

		pp->free_small = b->next_free;
		free(b);
	}
	pp->nfree_pkts = pp->nfree_small = 0;
}

static struct pkt *pkt_meta_alloc(struct pkt_pool *pp)
{
	struct pkt *p = pp->free_pkts;

	if (p) {
		pp->free_pkts = p->next;
		pp->nfree_pkts--;
	} else {
		p = malloc(sizeof(*p));
		if (!p)
			return NULL;
	}
	memset(p, 0, sizeof(*p));
	pp->live_pkts++;
	return p;
}

static void pkt_meta_free(struct pkt_pool *pp, struct pkt *p)
{
	pp->live_pkts--;
	if (pp->nfree_pkts < POOL_MAX_FREE_PKTS) {
		p->next = pp->free_pkts;
		pp->free_pkts = p;
		pp->nfree_pkts++;
	} else {
		free(p);
	}
}

static struct pbuf *pbuf_alloc(struct pkt_pool *pp, size_t size)
{
	struct pbuf *b;

	if (size <= PKT_HEADROOM + PBUF_SMALL) {
		size = PKT_HEADROOM + PBUF_SMALL;
		b = pp->free_small;
		if (b) {
			pp->free_small = b->next_free;
			pp->nfree_small--;
			goto out;
		}
	}
	if (size > UINT32_MAX - sizeof(*b))
		return NULL;
	b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->size = (uint32_t)size;
out:
	b->refcnt = 1;
	b->next_free = NULL;
	pp->live_pbufs++;
	return b;
}

static void pbuf_put(struct pkt_pool *pp, struct pbuf *b)
{
	if (--b->refcnt)
		return;
	pp->live_pbufs--;
	if (b->size == PKT_HEADROOM + PBUF_SMALL &&
	    pp->nfree_small < POOL_MAX_FREE_SMALL) {
		b->next_free = pp->free_small;
		pp->free_small = b;
		pp->nfree_small++;
	} else {
		free(b);
	}
}

struct pkt *pkt_alloc(struct world *w, size_t headroom, size_t size)
{
	struct pkt_pool *pp = &w->pool;
	struct pkt *p = pkt_meta_alloc(pp);

	if (!p)
		return NULL;
	p->buf = pbuf_alloc(pp, headroom + size);
	if (!p->buf) {
		pkt_meta_free(pp, p);
		return NULL;
	}
	p->data = p->buf->data + headroom;
	return p;
}

void pkt_free(struct world *w, struct pkt *p)
{
	if (!p)
		return;
	pbuf_put(&w->pool, p->buf);
	pkt_meta_free(&w->pool, p);
}

void pkt_free_chain(struct world *w, struct pkt *p)
{
	while (p) {
		struct pkt *next = p->next;

		pkt_free(w, p);
		p = next;
	}
}

struct pkt *pkt_clone(struct world *w, const struct pkt *p)
{
	struct pkt *c = pkt_meta_alloc(&w->pool);

	if (!c)
		return NULL;
	*c = *p;
	c->next = NULL;
	c->buf->refcnt++;
	return c;
}

struct pkt *pkt_copy(struct world *w, const struct pkt *p, size_t headroom)
{
	struct pkt *c = pkt_alloc(w, headroom, p->len);

	if (!c)
		return NULL;
	memcpy(pkt_put(c, p->len), p->data, p->len);
	c->flags = p->flags;
	c->ifp = p->ifp;
	c->cb = p->cb;
	return c;
}

int pkt_make_writable(struct world *w, struct pkt *p)
{
	struct pbuf *b;
	size_t head;

	if (p->buf->refcnt == 1)
		return 0;
	head = pkt_headroom(p);
	b = pbuf_alloc(&w->pool, head + p->len + pkt_tailroom(p));
	if (!b)
		return -ENOMEM;
	memcpy(b->data + head, p->data, p->len);
	pbuf_put(&w->pool, p->buf);
	p->buf = b;
	p->data = b->data + head;
	return 0;
}

void pktq_purge(struct world *w, struct pktq *q)
{
	struct pkt *p;

	while ((p = pktq_pop(q)))
		pkt_free(w, p);
}
