/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 fragmentation and reassembly.
 *
 * RFCs: 791 (fragmentation, the reassembly key (src, dst, id, proto), options
 * copied into every fragment), 815 (reassembly bookkeeping by holes: we keep
 * the fragments sorted by offset and, since nothing may overlap, "complete"
 * is simply "the last fragment arrived and the bytes held add up to its
 * end"), 1122 3.3.2 (reassembly timeout; ICMP time exceeded only when
 * fragment zero arrived), 1858 and 3128 (tiny and overlapping fragments used
 * to sneak transport headers past filters), 3168 5.3 (ECN of a reassembled
 * datagram), 5722 (IPv6, but its argument holds for IPv4 too).
 *
 * Policy choices:
 *  - Overlaps drop the datagram. A fragment that overlaps one already held,
 *    other than an exact duplicate (same offset, length and MF), discards the
 *    whole queue and we remember nothing about it. RFC 5722 reasons that no
 *    legitimate sender produces overlaps, while choosing which copy of the
 *    overlapping bytes to keep is what filter evasion (RFC 1858, 3128) and
 *    the teardrop class of attacks (negative lengths computed from a
 *    fragment lying inside the previous one) live on. Not having to trim
 *    also keeps this file free of length arithmetic that can go negative.
 *    Exact duplicates happen with retransmitting links and are harmless: the
 *    copy is ignored. Linux applies the same policy to IPv4.
 *  - Fragments inconsistent with what the queue knows (a second last
 *    fragment with another end, data past the known end, a last fragment
 *    ending before data already held) are overlaps in disguise and drop the
 *    datagram too. Fragments bogus on their own (no payload, a payload that
 *    is not a multiple of 8 with MF set, an end past what a 65535-byte
 *    datagram can hold) are dropped alone.
 *  - Memory is bounded per vimage by frag_maxbytes, charged with what a
 *    fragment really pins (its buffer and metadata, not only its payload,
 *    so that floods of tiny fragments are paid at their true cost), and the
 *    number of queues by frag_maxqueues. When either would be exceeded the
 *    oldest queues are evicted first: an attacker can then only delay
 *    legitimate datagrams by sending faster than they complete, never fill
 *    the table for good. A datagram that cannot fit even alone is dropped.
 *  - The timeout runs from the first fragment and is never extended, so a
 *    trickle of fragments cannot keep a queue alive.
 *  - Counters follow FreeBSD's netstat: st.fragdropped and st.fragtimeout
 *    count fragments; st.reassembled, st.fragmented count datagrams;
 *    st.ofragments counts fragments sent. st.fragments (received) is
 *    counted by ip_input, the caller.
 *  - Queues are found by a linear search from the newest: frag_maxqueues is
 *    small and the datagram being reassembled is nearly always the newest.
 *  - Fragmentation copies into fragments after the first only the options
 *    whose copied flag is set (RFC 791), padded to a multiple of 4.
 *    All fragments are built before the first is sent, so running out of
 *    buffers sends nothing rather than a datagram that can never complete.
 */
#include <stdlib.h>
#include <string.h>

#include "netinet/inet.h"

#define IP_MAXPACKET 65535
#define IPOPT_EOL    0
#define IPOPT_NOP    1
#define IPOPT_COPIED 0x80

#define ECN_MASK    0x03
#define ECN_NOT_ECT 0x00
#define ECN_CE	    0x03

struct reass_queue {
	struct list link; /* in ip_state.reass, oldest first */
	struct vimage *vi;
	struct timer timer;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool have_last;
	uint8_t ecn_seen;   /* bit (1 << ECN codepoint) per codepoint seen */
	uint32_t flags_and; /* packet flags common to every fragment */
	uint32_t total;	    /* payload bytes of the datagram, once have_last */
	uint32_t max_end;   /* highest payload end held */
	uint32_t received;  /* payload bytes held (never overlapping) */
	uint32_t nfrags;
	uint64_t bytes;	   /* memory charged to ip_state.reass_bytes */
	struct pkt *frags; /* sorted by offset, chained through next */
};

/* A held fragment keeps its data at the IP header (so that fragment zero can
 * be quoted in an ICMP error); its place in the datagram lives in cb. */
enum { CB_OFF, CB_END, CB_HLEN, CB_MF };

static uint32_t frag_off(const struct pkt *f)
{
	return (uint32_t)f->cb.u64[CB_OFF];
}
static uint32_t frag_end(const struct pkt *f)
{
	return (uint32_t)f->cb.u64[CB_END];
}
static uint32_t frag_hlen(const struct pkt *f)
{
	return (uint32_t)f->cb.u64[CB_HLEN];
}
static bool frag_mf(const struct pkt *f)
{
	return f->cb.u64[CB_MF] != 0;
}

/* What holding p costs: the buffer and the metadata, whatever its length. */
static uint64_t pkt_truesize(const struct pkt *p)
{
	return sizeof(*p) + sizeof(*p->buf) + p->buf->size;
}

static void reass_unlink(struct vimage *vi, struct reass_queue *q)
{
	struct ip_state *ip = vimage_ip(vi);

	list_remove(&q->link);
	timer_cancel(vi->world, &q->timer);
	ip->reass_bytes -= q->bytes;
	ip->reass_count--;
	vi->world->reass_live--;
}

static void reass_free_unlinked(struct vimage *vi, struct reass_queue *q)
{
	pkt_free_chain(vi->world, q->frags);
	free(q);
}

/* Discard a queue, counting its fragments as dropped. */
static void reass_drop(struct vimage *vi, struct reass_queue *q)
{
	vimage_ip(vi)->st.fragdropped += q->nfrags;
	reass_unlink(vi, q);
	reass_free_unlinked(vi, q);
}

static void reass_timeout(struct world *w, struct timer *t)
{
	struct reass_queue *q = container_of(t, struct reass_queue, timer);
	struct vimage *vi = q->vi;

	(void)w;
	vimage_ip(vi)->st.fragtimeout += q->nfrags;
	/* Unlinked first: whatever icmp_error sets in motion cannot find or
	 * evict the queue whose fragment it is quoting. */
	reass_unlink(vi, q);
	if (q->frags && frag_off(q->frags) == 0)
		icmp_error(vi, q->frags, ICMP_TIMXCEED, ICMP_TIMXCEED_REASS, 0);
	reass_free_unlinked(vi, q);
}

static struct reass_queue *reass_lookup(struct ip_state *ip,
					const struct ipv4_repr *r)
{
	for (struct list *l = ip->reass.prev; l != &ip->reass; l = l->prev) {
		struct reass_queue *q =
		    container_of(l, struct reass_queue, link);

		if (q->id == r->id && q->src == r->src && q->dst == r->dst &&
		    q->proto == r->proto)
			return q;
	}
	return NULL;
}

static struct reass_queue *reass_oldest_except(struct ip_state *ip,
					       const struct reass_queue *keep)
{
	for (struct list *l = ip->reass.next; l != &ip->reass; l = l->next) {
		struct reass_queue *q =
		    container_of(l, struct reass_queue, link);

		if (q != keep)
			return q;
	}
	return NULL;
}

static struct reass_queue *reass_create(struct vimage *vi,
					const struct ipv4_repr *r)
{
	struct ip_state *ip = vimage_ip(vi);
	struct world *w = vi->world;
	struct reass_queue *q, *old;
	int64_t timeout = ip->frag_timeout_s > 0 ? ip->frag_timeout_s : 0;

	while (ip->reass_count >= (uint64_t)ip->frag_maxqueues &&
	       (old = reass_oldest_except(ip, NULL)))
		reass_drop(vi, old);
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->vi = vi;
	q->src = r->src;
	q->dst = r->dst;
	q->id = r->id;
	q->proto = r->proto;
	q->flags_and = UINT32_MAX;
	timer_init(&q->timer, reass_timeout);
	list_insert_tail(&ip->reass, &q->link);
	ip->reass_count++;
	w->reass_live++;
	timer_arm(w, &q->timer,
		  world_now(w) + (uint64_t)timeout * NSEC_PER_SEC);
	return q;
}

/* Make room for need more bytes, evicting queues other than q, oldest
 * first. 0, or -ENOBUFS when q alone would exceed the bound. */
static int reass_make_room(struct vimage *vi, struct reass_queue *q,
			   uint64_t need)
{
	struct ip_state *ip = vimage_ip(vi);
	struct reass_queue *old;

	/* Evicting others cannot help a datagram too big on its own. */
	if (q->bytes + need > (uint64_t)ip->frag_maxbytes)
		return -ENOBUFS;
	while (ip->reass_bytes + need > (uint64_t)ip->frag_maxbytes) {
		old = reass_oldest_except(ip, q);
		if (!old)
			return -ENOBUFS;
		reass_drop(vi, old);
	}
	return 0;
}

/* RFC 3168 5.3: CE on any fragment marks the datagram; a mix of Not-ECT
 * and ECN-capable fragments is not one sender's datagram and is dropped.
 * Returns the ECN codepoint for the datagram, or -1 to drop. */
static int reass_ecn(uint8_t seen, uint8_t first)
{
	if (seen & (1u << ECN_NOT_ECT))
		return seen == (1u << ECN_NOT_ECT) ? ECN_NOT_ECT : -1;
	if (seen & (1u << ECN_CE))
		return ECN_CE;
	return first;
}

/* Every byte is there: build the datagram, free the queue. It takes the
 * receiving interface of the fragment that completed it: an interface that
 * brought an earlier fragment may have been destroyed or moved since. */
static struct pkt *reass_complete(struct vimage *vi, struct reass_queue *q,
				  struct ifnet *ifp)
{
	struct ip_state *ip = vimage_ip(vi);
	struct pkt *first = q->frags, *out = NULL;
	uint32_t hlen = frag_hlen(first);
	uint8_t *h;
	int ecn;

	if (hlen + q->total > IP_MAXPACKET)
		goto drop;
	ecn = reass_ecn(q->ecn_seen, first->data[1] & ECN_MASK);
	if (ecn < 0)
		goto drop;
	out = pkt_alloc(vi->world, PKT_HEADROOM, hlen + q->total);
	if (!out)
		goto drop;
	h = pkt_put(out, hlen + q->total);
	memcpy(h, first->data, hlen);
	for (struct pkt *f = first; f; f = f->next)
		memcpy(h + hlen + frag_off(f), f->data + frag_hlen(f),
		       frag_end(f) - frag_off(f));
	h[1] = (uint8_t)((h[1] & ~ECN_MASK) | ecn);
	wr16(h + 2, (uint16_t)(hlen + q->total));
	wr16(h + 6, rd16(h + 6) & IPV4_FLAG_DF);
	wr16(h + 10, 0);
	wr16(h + 10, cksum_finish(cksum_partial(h, hlen, 0)));
	out->flags = (first->flags & ~(uint32_t)(PKT_CSUM_OK | PKT_CSUM_NONE)) |
		     (q->flags_and & (PKT_CSUM_OK | PKT_CSUM_NONE));
	out->ifp = ifp;
	ip->st.reassembled++;
	reass_unlink(vi, q);
	reass_free_unlinked(vi, q);
	return out;
drop:
	reass_drop(vi, q);
	return NULL;
}

struct pkt *ip_reass(struct vimage *vi, struct pkt *p,
		     const struct ipv4_repr *r)
{
	struct ip_state *ip = vimage_ip(vi);
	struct reass_queue *q = NULL;
	struct pkt **pp, *prev = NULL, *next;
	uint32_t off = r->frag_off, len, end;

	if (!r->mf && r->frag_off == 0)
		return p; /* not a fragment */
	if (r->hlen < IPV4_HLEN || r->total_len < r->hlen ||
	    p->len < r->total_len)
		goto drop;
	pkt_trim(p, r->total_len);
	len = (uint32_t)r->total_len - r->hlen;
	end = off + len;
	if (len == 0 || (r->mf && (len & 7)) || end > IP_MAXPACKET - IPV4_HLEN)
		goto drop;
	if (ip->frag_maxbytes <= 0 || ip->frag_maxqueues <= 0)
		goto drop; /* reassembly disabled */

	q = reass_lookup(ip, r);
	if (!q && !(q = reass_create(vi, r)))
		goto drop;

	if (!r->mf) {
		if ((q->have_last && end != q->total) || end < q->max_end)
			goto drop_queue;
	} else if (q->have_last && end > q->total) {
		goto drop_queue;
	}

	for (pp = &q->frags; *pp && frag_off(*pp) < off; pp = &(*pp)->next)
		prev = *pp;
	next = *pp;
	if (next && frag_off(next) == off && frag_end(next) == end &&
	    frag_mf(next) == r->mf)
		goto drop; /* exact duplicate: harmless, ignored */
	if ((prev && frag_end(prev) > off) || (next && frag_off(next) < end))
		goto drop_queue;
	if (reass_make_room(vi, q, pkt_truesize(p)) < 0)
		goto drop_queue;

	p->cb.u64[CB_OFF] = off;
	p->cb.u64[CB_END] = end;
	p->cb.u64[CB_HLEN] = r->hlen;
	p->cb.u64[CB_MF] = r->mf;
	p->next = next;
	*pp = p;
	q->nfrags++;
	q->received += len;
	q->bytes += pkt_truesize(p);
	ip->reass_bytes += pkt_truesize(p);
	q->ecn_seen |= (uint8_t)(1u << (r->tos & ECN_MASK));
	q->flags_and &= p->flags;
	if (end > q->max_end)
		q->max_end = end;
	if (!r->mf) {
		q->have_last = true;
		q->total = end;
	}
	if (q->have_last && q->received == q->total)
		return reass_complete(vi, q, p->ifp);
	return NULL;

drop_queue:
	reass_drop(vi, q);
drop:
	ip->st.fragdropped++;
	pkt_free(vi->world, p);
	return NULL;
}

void ip_reass_flush(struct vimage *vi)
{
	struct ip_state *ip = vimage_ip(vi);
	struct list *l, *tmp;

	list_for_each_safe(l, tmp, &ip->reass)
	{
		struct reass_queue *q =
		    container_of(l, struct reass_queue, link);

		reass_unlink(vi, q);
		reass_free_unlinked(vi, q);
	}
}

/* The header of fragments after the first (RFC 791): the fixed part and the
 * options with the copied flag, padded with End of Option List to a
 * multiple of 4. Never longer than the original. Returns its length. */
static size_t frag_later_header(const uint8_t *h, size_t hlen, uint8_t *out)
{
	size_t i = IPV4_HLEN, n = IPV4_HLEN;

	memcpy(out, h, IPV4_HLEN);
	while (i < hlen && h[i] != IPOPT_EOL) {
		size_t olen;

		if (h[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		/* A malformed option ends the copying; input checked it. */
		if (i + 1 >= hlen || h[i + 1] < 2 || i + h[i + 1] > hlen)
			break;
		olen = h[i + 1];
		if (h[i] & IPOPT_COPIED) {
			memcpy(out + n, h + i, olen);
			n += olen;
		}
		i += olen;
	}
	while (n & 3)
		out[n++] = IPOPT_EOL;
	out[0] = (uint8_t)(0x40 | n >> 2);
	return n;
}

int ip_fragment(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
		uint32_t nh, uint32_t mtu)
{
	struct ip_state *ip = vimage_ip(vi);
	struct world *w = vi->world;
	struct ipv4_repr r;
	struct pktq frags;
	struct pkt *f;
	uint8_t later[IPV4_MAX_HLEN];
	size_t later_hlen;
	uint32_t plen, off;
	int err;

	pktq_init(&frags);
	if (ipv4_parse(p->data, p->len, &r, false) != WIRE_OK) {
		err = -EINVAL;
		goto cantfrag;
	}
	plen = (uint32_t)r.total_len - r.hlen;
	/* A forwarded fragment is cut further: its pieces keep its offset
	 * and only the last of them inherits its MF. */
	if (r.df || mtu < (uint32_t)r.hlen + 8 ||
	    r.frag_off + plen > IP_MAXPACKET) {
		err = -EMSGSIZE;
		goto cantfrag;
	}
	/* The pieces cannot carry an offloaded checksum: fill it now. */
	if (p->flags & PKT_CSUM_NONE) {
		if (pkt_make_writable(w, p)) {
			err = -ENOBUFS;
			goto cantfrag;
		}
		ip_csum_fill(p->data, p->len);
		p->flags &= ~(uint32_t)PKT_CSUM_NONE;
	}
	later_hlen = frag_later_header(p->data, r.hlen, later);

	for (off = 0; off < plen;) {
		const uint8_t *hdr = off == 0 ? p->data : later;
		size_t hl = off == 0 ? r.hlen : later_hlen;
		uint32_t n = plen - off, room = (mtu - (uint32_t)hl) & ~7u;
		bool mf = r.mf;
		uint8_t *b;

		if (n > room) {
			n = room;
			mf = true;
		}
		f = pkt_alloc(w, PKT_HEADROOM, hl + n);
		if (!f) {
			err = -ENOBUFS;
			goto nobufs;
		}
		b = pkt_put(f, hl + n);
		memcpy(b, hdr, hl);
		memcpy(b + hl, p->data + r.hlen + off, n);
		wr16(b + 2, (uint16_t)(hl + n));
		wr16(b + 6, (uint16_t)((r.frag_off + off) >> 3 |
				       (mf ? IPV4_FLAG_MF : 0)));
		wr16(b + 10, 0);
		wr16(b + 10, cksum_finish(cksum_partial(b, hl, 0)));
		f->flags = p->flags;
		f->cb = p->cb;
		pktq_push(&frags, f);
		off += n;
	}
	pkt_free(w, p);
	ip->st.fragmented++;
	while ((f = pktq_pop(&frags))) {
		ip->st.ofragments++;
		ip_xmit_one(ifp, f, nh);
	}
	return 0;

nobufs:
	ip->st.odropped++;
	pktq_purge(w, &frags);
	pkt_free(w, p);
	return err;
cantfrag:
	ip->st.cantfrag++;
	pkt_free(w, p);
	return err;
}
