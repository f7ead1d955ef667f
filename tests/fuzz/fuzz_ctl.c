/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for the control protocol's decoder: any bytes, parsed
 * as a request and as a reply, then every attribute walked (nests too) and
 * read through the typed accessors, as the daemon and vimage(8) do. A
 * message that parses is re-encoded attribute by attribute and must parse
 * again to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <vimage/ctl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned walk(const uint8_t *area, size_t len, int depth)
{
	struct ctl_attr a;
	size_t pos = 0;
	unsigned sum = 0;
	char s[CTL_STR_MAX];

	while (ctl_attr_next(area, len, &pos, &a)) {
		sum += ctl_attr_u8(&a) + ctl_attr_u32(&a) +
		       (unsigned)ctl_attr_u64(&a) + ctl_attr_addr4(&a);
		ctl_attr_str(&a, s, sizeof(s));
		sum += (unsigned)strlen(s);
		if (depth < CTL_NEST_MAX + 2)
			sum += walk(a.val, a.len, depth + 1);
	}
	return sum;
}

static void reencode(const struct ctl_msg *m, const uint8_t *data, size_t size)
{
	struct ctl_buf b;
	struct ctl_attr a;
	size_t pos = 0;

	ctl_buf_init(&b, CTL_REPLY_MAX);
	ctl_msg_begin(&b, m->hdr.type, m->hdr.flags, m->hdr.id);
	while (ctl_attr_next(m->attrs, m->attrs_len, &pos, &a))
		ctl_put(&b, a.type, a.val, a.len);
	if (ctl_msg_end(&b) == 0 &&
	    (b.len != size || memcmp(b.data, data, size) != 0))
		abort();
	ctl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_msg m;
	struct ctl_hdr h;
	char err[CTL_ERRMSG_MAX];
	volatile unsigned sink = 0;

	(void)ctl_hdr_parse(data, size, CTL_REQ_MAX, &h, err, sizeof(err));
	if (ctl_msg_parse(data, size, CTL_REQ_MAX, true, &m, err,
			  sizeof(err)) == 0) {
		sink += walk(m.attrs, m.attrs_len, 0);
		reencode(&m, data, size);
	}
	if (ctl_msg_parse(data, size, CTL_REPLY_MAX, false, &m, err,
			  sizeof(err)) == 0) {
		sink += walk(m.attrs, m.attrs_len, 0);
		reencode(&m, data, size);
	}
	(void)sink;
	return 0;
}
