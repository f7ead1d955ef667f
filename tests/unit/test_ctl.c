/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests of the control protocol's encoder and validating decoder
 * (src/ctl/ctl.c): round trips of requests and replies with nests, then
 * every way a message can be malformed, each rejected with the right errno
 * and a message naming what was wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vimage/ctl.h>

#include "../harness/test.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A valid CREATE request for "a" in b. */
static void create_req(struct ctl_buf *b)
{
	ctl_buf_init(b, CTL_REQ_MAX);
	ctl_msg_begin(b, CTL_T_CREATE, 0, 42);
	ctl_put_str(b, CTL_A_NAME, "a");
	REQUIRE(ctl_msg_end(b) == 0);
}

static int parse_req(const struct ctl_buf *b, char *err)
{
	struct ctl_msg m;

	return ctl_msg_parse(b->data, b->len, CTL_REQ_MAX, true, &m, err,
			     CTL_ERRMSG_MAX);
}

TEST(ctl_request_round_trip)
{
	struct ctl_buf b;
	struct ctl_msg m;
	struct ctl_attr a;
	char err[CTL_ERRMSG_MAX], s[64];

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_ROUTE_ADD, CTL_F_FORCE, 0xdeadbeef);
	ctl_put_str(&b, CTL_A_NAME, "a.b-c_1");
	ctl_put_addr4(&b, CTL_A_DST4, 0x0a000000);
	ctl_put_u8(&b, CTL_A_PLEN, 24);
	ctl_put_addr4(&b, CTL_A_GW4, 0x0a0000fe);
	ctl_put_str(&b, CTL_A_IFNAME, "eth0");
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(b.len, CTL_HDR_LEN + 5 * CTL_ATTR_HDR_LEN + 7 + 4 + 1 + 4 + 4);
	REQUIRE(ctl_msg_parse(b.data, b.len, CTL_REQ_MAX, true, &m, err,
			      sizeof(err)) == 0);
	CHECK_EQ(m.hdr.magic, CTL_MAGIC);
	CHECK_EQ(m.hdr.version, CTL_VERSION);
	CHECK_EQ(m.hdr.type, CTL_T_ROUTE_ADD);
	CHECK_EQ(m.hdr.flags, CTL_F_FORCE);
	CHECK_EQ(m.hdr.id, 0xdeadbeef);
	CHECK_EQ(m.hdr.length, b.len);
	REQUIRE(ctl_attr_find(m.attrs, m.attrs_len, CTL_A_NAME, &a));
	ctl_attr_str(&a, s, sizeof(s));
	CHECK_STR(s, "a.b-c_1");
	REQUIRE(ctl_attr_find(m.attrs, m.attrs_len, CTL_A_DST4, &a));
	CHECK_EQ(ctl_attr_addr4(&a), 0x0a000000);
	REQUIRE(ctl_attr_find(m.attrs, m.attrs_len, CTL_A_PLEN, &a));
	CHECK_EQ(ctl_attr_u8(&a), 24);
	REQUIRE(ctl_attr_find(m.attrs, m.attrs_len, CTL_A_GW4, &a));
	CHECK_EQ(ctl_attr_addr4(&a), 0x0a0000fe);
	CHECK(!ctl_attr_find(m.attrs, m.attrs_len, CTL_A_NEWNAME, &a));
	/* Integers are big-endian on the wire. */
	CHECK_EQ(b.data[0], 'V');
	CHECK_EQ(b.data[3], 'C');
	CHECK_EQ(b.data[12], 0xde);
	ctl_buf_free(&b);
}

TEST(ctl_reply_with_nests_round_trip)
{
	struct ctl_buf b;
	struct ctl_msg m;
	struct ctl_attr a, v, i;
	char err[CTL_ERRMSG_MAX], s[64];
	size_t pos = 0;
	int nv = 0;

	ctl_buf_init(&b, CTL_REPLY_MAX);
	ctl_msg_begin(&b, CTL_T_REPLY | CTL_T_LIST, 0, 7);
	for (int k = 0; k < 2; k++) {
		ctl_nest_begin(&b, CTL_A_VIMAGE);
		ctl_put_str(&b, CTL_A_NAME, k ? "b" : "a");
		ctl_put_u32(&b, CTL_A_N_IFS, (uint32_t)k + 1);
		ctl_nest_begin(&b, CTL_A_IF);
		ctl_put_str(&b, CTL_A_IFNAME, "lo0");
		ctl_nest_begin(&b, CTL_A_ADDR);
		ctl_put_addr4(&b, CTL_A_ADDR4, 0x7f000001);
		ctl_put_u8(&b, CTL_A_PLEN, 8);
		ctl_nest_end(&b);
		ctl_put_u64(&b, CTL_A_RX_PACKETS, 1ull << 40);
		ctl_nest_end(&b);
		ctl_nest_end(&b);
	}
	ctl_put_i32(&b, CTL_A_ERRNO, 0);
	REQUIRE(ctl_msg_end(&b) == 0);
	REQUIRE(ctl_msg_parse(b.data, b.len, CTL_REPLY_MAX, false, &m, err,
			      sizeof(err)) == 0);
	while (ctl_attr_next(m.attrs, m.attrs_len, &pos, &v)) {
		if (v.type != CTL_A_VIMAGE)
			continue;
		REQUIRE(ctl_attr_find(v.val, v.len, CTL_A_NAME, &a));
		ctl_attr_str(&a, s, sizeof(s));
		CHECK_STR(s, nv ? "b" : "a");
		REQUIRE(ctl_attr_find(v.val, v.len, CTL_A_N_IFS, &a));
		CHECK_EQ(ctl_attr_u32(&a), nv + 1);
		REQUIRE(ctl_attr_find(v.val, v.len, CTL_A_IF, &i));
		REQUIRE(ctl_attr_find(i.val, i.len, CTL_A_RX_PACKETS, &a));
		CHECK_EQ(ctl_attr_u64(&a), 1ull << 40);
		REQUIRE(ctl_attr_find(i.val, i.len, CTL_A_ADDR, &a));
		REQUIRE(ctl_attr_find(a.val, a.len, CTL_A_ADDR4, &a));
		CHECK_EQ(ctl_attr_addr4(&a), 0x7f000001);
		nv++;
	}
	CHECK_EQ(nv, 2);
	ctl_buf_free(&b);
}

TEST(ctl_error_reply_carries_negative_errno_and_message)
{
	struct ctl_buf b;
	struct ctl_msg m;
	struct ctl_attr a;
	char err[CTL_ERRMSG_MAX], s[128];

	ctl_buf_init(&b, CTL_REPLY_MAX);
	ctl_msg_begin(&b, CTL_T_REPLY | CTL_T_CREATE, 0, 1);
	ctl_put_i32(&b, CTL_A_ERRNO, -EEXIST);
	ctl_put_str(&b, CTL_A_MSG, "vimage 'a' already exists");
	REQUIRE(ctl_msg_end(&b) == 0);
	REQUIRE(ctl_msg_parse(b.data, b.len, CTL_REPLY_MAX, false, &m, err,
			      sizeof(err)) == 0);
	REQUIRE(ctl_attr_find(m.attrs, m.attrs_len, CTL_A_ERRNO, &a));
	CHECK_EQ(ctl_attr_i32(&a), -EEXIST);
	REQUIRE(ctl_attr_find(m.attrs, m.attrs_len, CTL_A_MSG, &a));
	ctl_attr_str(&a, s, sizeof(s));
	CHECK_STR(s, "vimage 'a' already exists");
	ctl_buf_free(&b);
}

TEST(ctl_i64_negative_values_survive)
{
	struct ctl_buf b;
	struct ctl_msg m;
	struct ctl_attr a;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_SYSCTL_SET, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, "a");
	ctl_put_str(&b, CTL_A_KEY, "net.inet.ip.ttl");
	ctl_put_i64(&b, CTL_A_I64, -5);
	REQUIRE(ctl_msg_end(&b) == 0);
	REQUIRE(parse_req(&b, err) == 0);
	REQUIRE(ctl_msg_parse(b.data, b.len, CTL_REQ_MAX, true, &m, err,
			      sizeof(err)) == 0);
	REQUIRE(ctl_attr_find(m.attrs, m.attrs_len, CTL_A_I64, &a));
	CHECK_EQ(ctl_attr_i64(&a), -5);
	ctl_buf_free(&b);
}

/* ---- header ---------------------------------------------------------------
 */
TEST(ctl_header_short_is_eagain)
{
	struct ctl_buf b;
	struct ctl_hdr h;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	for (size_t n = 0; n < CTL_HDR_LEN; n++)
		CHECK_EQ(
		    ctl_hdr_parse(b.data, n, CTL_REQ_MAX, &h, err, sizeof(err)),
		    -EAGAIN);
	CHECK_EQ(ctl_hdr_parse(b.data, CTL_HDR_LEN, CTL_REQ_MAX, &h, err,
			       sizeof(err)),
		 0);
	ctl_buf_free(&b);
}

TEST(ctl_bad_magic_is_ebadmsg)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	b.data[0] = 'X';
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	CHECK(strstr(err, "magic") != NULL);
	ctl_buf_free(&b);
}

TEST(ctl_unknown_version_is_eprotonosupport)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	b.data[4] = 2;
	CHECK_EQ(parse_req(&b, err), -EPROTONOSUPPORT);
	CHECK(strstr(err, "version 2") != NULL);
	b.data[4] = 0;
	CHECK_EQ(parse_req(&b, err), -EPROTONOSUPPORT);
	ctl_buf_free(&b);
}

TEST(ctl_length_shorter_than_header_is_ebadmsg)
{
	struct ctl_buf b;
	struct ctl_hdr h;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	put32(b.data + 8, 15);
	CHECK_EQ(
	    ctl_hdr_parse(b.data, b.len, CTL_REQ_MAX, &h, err, sizeof(err)),
	    -EBADMSG);
	put32(b.data + 8, 0);
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	ctl_buf_free(&b);
}

TEST(ctl_length_over_limit_is_emsgsize)
{
	struct ctl_buf b;
	struct ctl_hdr h;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	put32(b.data + 8, CTL_REQ_MAX + 1);
	CHECK_EQ(
	    ctl_hdr_parse(b.data, b.len, CTL_REQ_MAX, &h, err, sizeof(err)),
	    -EMSGSIZE);
	put32(b.data + 8, 0xffffffff);
	CHECK_EQ(
	    ctl_hdr_parse(b.data, b.len, CTL_REQ_MAX, &h, err, sizeof(err)),
	    -EMSGSIZE);
	CHECK(strstr(err, "4294967295") != NULL);
	ctl_buf_free(&b);
}

TEST(ctl_length_disagreeing_with_buffer_is_ebadmsg)
{
	struct ctl_buf b;
	struct ctl_msg m;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	CHECK_EQ(ctl_msg_parse(b.data, b.len - 1, CTL_REQ_MAX, true, &m, err,
			       sizeof(err)),
		 -EBADMSG);
	CHECK_EQ(
	    ctl_msg_parse(b.data, 8, CTL_REQ_MAX, true, &m, err, sizeof(err)),
	    -EBADMSG);
	ctl_buf_free(&b);
}

TEST(ctl_unknown_flags_are_einval)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	b.data[5] = 0x80;
	CHECK_EQ(parse_req(&b, err), -EINVAL);
	CHECK(strstr(err, "flags") != NULL);
	ctl_buf_free(&b);
}

TEST(ctl_unknown_request_type_is_eopnotsupp)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	put16(b.data + 6, 0);
	CHECK_EQ(parse_req(&b, err), -EOPNOTSUPP);
	put16(b.data + 6, CTL_T_MAX_);
	CHECK_EQ(parse_req(&b, err), -EOPNOTSUPP);
	put16(b.data + 6, CTL_T_REPLY | CTL_T_CREATE);
	CHECK_EQ(parse_req(&b, err), -EOPNOTSUPP);
	ctl_buf_free(&b);
}

TEST(ctl_reply_without_errno_is_ebadmsg)
{
	struct ctl_buf b;
	struct ctl_msg m;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REPLY_MAX);
	ctl_msg_begin(&b, CTL_T_REPLY | CTL_T_HELLO, 0, 1);
	ctl_put_u32(&b, CTL_A_PID, 1);
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(ctl_msg_parse(b.data, b.len, CTL_REPLY_MAX, false, &m, err,
			       sizeof(err)),
		 -EBADMSG);
	CHECK(strstr(err, "errno") != NULL);
	ctl_buf_free(&b);
}

/* ---- attributes ------------------------------------------------------------
 */
TEST(ctl_truncated_attribute_header_is_ebadmsg)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	/* Claim 3 bytes of a next attribute header. */
	b.data = realloc(b.data, b.len + 3);
	memset(b.data + b.len, 0, 3);
	b.len += 3;
	put32(b.data + 8, (uint32_t)b.len);
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	CHECK(strstr(err, "truncated attribute") != NULL);
	ctl_buf_free(&b);
}

TEST(ctl_attribute_length_past_end_is_ebadmsg)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	put32(b.data + CTL_HDR_LEN + 4, 2); /* "a" claims 2 bytes */
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	CHECK(strstr(err, "runs past the end") != NULL);
	put32(b.data + CTL_HDR_LEN + 4, 0xffffffff);
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	ctl_buf_free(&b);
}

TEST(ctl_reserved_field_nonzero_is_ebadmsg)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	b.data[CTL_HDR_LEN + 3] = 1;
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	CHECK(strstr(err, "reserved") != NULL);
	ctl_buf_free(&b);
}

TEST(ctl_unknown_attribute_is_ebadmsg)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	create_req(&b);
	put16(b.data + CTL_HDR_LEN, CTL_A_MAX_);
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	CHECK(strstr(err, "unknown attribute") != NULL);
	put16(b.data + CTL_HDR_LEN, 0);
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	ctl_buf_free(&b);
}

TEST(ctl_duplicate_attribute_is_ebadmsg)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_CREATE, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, "a");
	ctl_put_str(&b, CTL_A_NAME, "b");
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	CHECK(strstr(err, "duplicate attribute name") != NULL);
	ctl_buf_free(&b);
}

TEST(ctl_missing_required_attribute_is_einval)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_ADDR_ADD, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, "a");
	ctl_put_str(&b, CTL_A_IFNAME, "eth0");
	ctl_put_addr4(&b, CTL_A_ADDR4, 1);
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(parse_req(&b, err), -EINVAL);
	CHECK_STR(err, "addr-add request without the plen attribute");
	ctl_buf_free(&b);
}

TEST(ctl_integer_of_wrong_size_is_ebadmsg)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];
	uint8_t two[2] = {0, 1};

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_LINK, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, "a");
	ctl_put_str(&b, CTL_A_IFNAME, "eth0");
	ctl_put(&b, CTL_A_UP, two, sizeof(two));
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(parse_req(&b, err), -EBADMSG);
	CHECK_STR(err, "attribute up: length 2, expected 1");
	ctl_buf_free(&b);
}

TEST(ctl_integer_out_of_range_is_einval)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_ROUTE_DEL, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, "a");
	ctl_put_addr4(&b, CTL_A_DST4, 0);
	ctl_put_u8(&b, CTL_A_PLEN, 33);
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(parse_req(&b, err), -EINVAL);
	CHECK(strstr(err, "plen: value 33 out of range 0..32") != NULL);
	ctl_buf_free(&b);
}

TEST(ctl_ping_count_zero_is_einval)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_PING, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, "a");
	ctl_put_addr4(&b, CTL_A_DST4, 0x0a000001);
	ctl_put_u32(&b, CTL_A_COUNT, 0);
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(parse_req(&b, err), -EINVAL);
	ctl_buf_free(&b);
}

TEST(ctl_strings_are_checked)
{
	static const struct {
		uint16_t attr;
		const char *val;
		size_t len;
		int err;
	} cases[] = {
	    {CTL_A_NAME, "", 0, -EINVAL},
	    {CTL_A_NAME, "a b", 3, -EINVAL},
	    {CTL_A_NAME, "a\0b", 3, -EINVAL},
	    {CTL_A_NAME, "a/b", 3, -EINVAL},
	    {CTL_A_NAME, "\xff", 1, -EINVAL},
	    {CTL_A_IFNAME, "eth0eth0eth0eth0", 16, -ENAMETOOLONG},
	    {CTL_A_IFNAME, "eth0\n", 5, -EINVAL},
	    {CTL_A_PATH, "relative/file", 13, -EINVAL},
	    {CTL_A_MSG, "bell\a", 5, -EINVAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_buf b;
		char err[CTL_ERRMSG_MAX];

		ctl_buf_init(&b, CTL_REQ_MAX);
		ctl_msg_begin(&b, CTL_T_HELLO, 0, 1);
		ctl_put(&b, cases[i].attr, cases[i].val, cases[i].len);
		REQUIRE(ctl_msg_end(&b) == 0);
		CHECK_EQ(parse_req(&b, err), cases[i].err);
		CHECK(strstr(err, ctl_attr_name(cases[i].attr)) != NULL);
		ctl_buf_free(&b);
	}
}

TEST(ctl_bad_string_message_shows_the_value)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_CREATE, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, "bad name");
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(parse_req(&b, err), -EINVAL);
	CHECK(strstr(err, "'bad name'") != NULL);
	ctl_buf_free(&b);
}

TEST(ctl_name_too_long_is_enametoolong)
{
	struct ctl_buf b;
	char err[CTL_ERRMSG_MAX], name[200];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_CREATE, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, name);
	REQUIRE(ctl_msg_end(&b) == 0);
	CHECK_EQ(parse_req(&b, err), -ENAMETOOLONG);
	ctl_buf_free(&b);
}

TEST(ctl_nest_overrunning_its_parent_is_ebadmsg)
{
	struct ctl_buf b;
	struct ctl_msg m;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REPLY_MAX);
	ctl_msg_begin(&b, CTL_T_REPLY | CTL_T_LIST, 0, 1);
	ctl_put_i32(&b, CTL_A_ERRNO, 0);
	ctl_nest_begin(&b, CTL_A_VIMAGE);
	ctl_put_str(&b, CTL_A_NAME, "a");
	ctl_nest_end(&b);
	REQUIRE(ctl_msg_end(&b) == 0);
	REQUIRE(ctl_msg_parse(b.data, b.len, CTL_REPLY_MAX, false, &m, err,
			      sizeof(err)) == 0);
	/* The inner NAME claims one byte more than its nest holds; the
	 * nest's own length still fits the message. */
	put32(b.data + CTL_HDR_LEN + 12 + CTL_ATTR_HDR_LEN + 4, 2);
	CHECK_EQ(ctl_msg_parse(b.data, b.len, CTL_REPLY_MAX, false, &m, err,
			       sizeof(err)),
		 -EBADMSG);
	ctl_buf_free(&b);
}

TEST(ctl_nesting_too_deep_is_rejected)
{
	struct ctl_buf b;
	struct ctl_msg m;
	char err[CTL_ERRMSG_MAX];
	uint8_t raw[CTL_HDR_LEN + 8 * CTL_ATTR_HDR_LEN];
	size_t len = sizeof(raw);

	/* The encoder refuses to nest deeper than CTL_NEST_MAX... */
	ctl_buf_init(&b, CTL_REPLY_MAX);
	ctl_msg_begin(&b, CTL_T_REPLY | CTL_T_LIST, 0, 1);
	for (int i = 0; i <= CTL_NEST_MAX; i++)
		ctl_nest_begin(&b, CTL_A_VIMAGE);
	CHECK_EQ(ctl_msg_end(&b), -EINVAL);
	ctl_buf_free(&b);
	/* ...and the decoder rejects hand-made deep nests. */
	memset(raw, 0, sizeof(raw));
	put32(raw, CTL_MAGIC);
	raw[4] = CTL_VERSION;
	put16(raw + 6, CTL_T_REPLY | CTL_T_LIST);
	put32(raw + 8, (uint32_t)len);
	for (int i = 0; i < 8; i++) {
		uint8_t *p = raw + CTL_HDR_LEN + i * CTL_ATTR_HDR_LEN;

		put16(p, CTL_A_VIMAGE);
		put32(p + 4, (uint32_t)(len - CTL_HDR_LEN -
					(i + 1) * CTL_ATTR_HDR_LEN));
	}
	CHECK_EQ(
	    ctl_msg_parse(raw, len, CTL_REPLY_MAX, false, &m, err, sizeof(err)),
	    -EBADMSG);
	CHECK(strstr(err, "nested deeper") != NULL);
}

TEST(ctl_encoder_limit_is_emsgsize)
{
	struct ctl_buf b;
	char big[CTL_STR_MAX];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ctl_buf_init(&b, 64);
	ctl_msg_begin(&b, CTL_T_HELLO, 0, 1);
	ctl_put_str(&b, CTL_A_MSG, big);
	ctl_put_u32(&b, CTL_A_PID, 1); /* ignored after the error */
	CHECK_EQ(ctl_msg_end(&b), -EMSGSIZE);
	ctl_buf_free(&b);
}

TEST(ctl_every_truncation_of_a_valid_message_is_rejected)
{
	struct ctl_buf b;
	struct ctl_msg m;
	char err[CTL_ERRMSG_MAX];

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_VE, 0, 9);
	ctl_put_str(&b, CTL_A_NAME, "a");
	ctl_put_str(&b, CTL_A_IFNAME, "eth0");
	ctl_put_str(&b, CTL_A_PEER, "b");
	ctl_put_str(&b, CTL_A_PEER_IFNAME, "eth0");
	REQUIRE(ctl_msg_end(&b) == 0);
	REQUIRE(parse_req(&b, err) == 0);
	for (size_t n = 0; n < b.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, b.data, n);
		/* Either as sent (header length disagrees) or with the
		 * header's length fixed up to the truncation. */
		CHECK(ctl_msg_parse(copy, n, CTL_REQ_MAX, true, &m, err,
				    sizeof(err)) < 0);
		if (n >= CTL_HDR_LEN) {
			put32(copy + 8, (uint32_t)n);
			CHECK(ctl_msg_parse(copy, n, CTL_REQ_MAX, true, &m, err,
					    sizeof(err)) < 0);
		}
		free(copy);
	}
	ctl_buf_free(&b);
}

TEST(ctl_names_of_types_and_attributes)
{
	CHECK_STR(ctl_type_name(CTL_T_CREATE), "create");
	CHECK_STR(ctl_type_name(CTL_T_REPLY | CTL_T_LIST), "list");
	CHECK_STR(ctl_type_name(999), "unknown");
	CHECK_STR(ctl_attr_name(CTL_A_IFNAME), "ifname");
	CHECK_STR(ctl_attr_name(0), "unknown");
}
