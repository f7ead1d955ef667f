/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small test harness. Each test file declares tests with TEST(name); they
 * register themselves at load time and tests/harness/test_main.c runs them,
 * printing "<suite>: N passed, N failed" last. A test fails when any CHECK
 * fails; CHECKs keep going so one run shows every broken expectation, while
 * REQUIRE stops the test (use it where continuing would crash).
 *
 * Usage: <binary> [-v] [substring ...]  runs the tests whose name contains
 * one of the substrings (all when none are given).
 */
#ifndef VIMAGE_TEST_H
#define VIMAGE_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	const char *file;
	void (*fn)(void);
};

void test_register(const struct test_case *tc);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool test_verbose(void);
/* Abort the current test (after REQUIRE fails). */
void test_abort_current(void) __attribute__((noreturn));

#define TEST(name)                                                        \
	static void test_fn_##name(void);                                 \
	static const struct test_case test_case_##name = {                \
		#name, __FILE__, test_fn_##name};                         \
	__attribute__((constructor)) static void test_reg_##name(void)    \
	{                                                                 \
		test_register(&test_case_##name);                         \
	}                                                                 \
	static void test_fn_##name(void)

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond))                                              \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define REQUIRE(cond)                                                     \
	do {                                                              \
		if (!(cond)) {                                            \
			test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond); \
			test_abort_current();                             \
		}                                                         \
	} while (0)

#define CHECK_EQ(a, b)                                                    \
	do {                                                              \
		long long check_a_ = (long long)(a);                      \
		long long check_b_ = (long long)(b);                      \
		if (check_a_ != check_b_)                                 \
			test_fail(__FILE__, __LINE__,                     \
				  "CHECK_EQ(%s, %s): %lld != %lld", #a, #b, \
				  check_a_, check_b_);                    \
	} while (0)

#define REQUIRE_EQ(a, b)                                                  \
	do {                                                              \
		long long check_a_ = (long long)(a);                      \
		long long check_b_ = (long long)(b);                      \
		if (check_a_ != check_b_) {                               \
			test_fail(__FILE__, __LINE__,                     \
				  "REQUIRE_EQ(%s, %s): %lld != %lld", #a,  \
				  #b, check_a_, check_b_);                \
			test_abort_current();                             \
		}                                                         \
	} while (0)

#define CHECK_MEM(a, b, n)                                                \
	do {                                                              \
		if (memcmp((a), (b), (n)) != 0)                           \
			test_fail(__FILE__, __LINE__,                     \
				  "CHECK_MEM(%s, %s, %s) differ", #a, #b, #n); \
	} while (0)

#define CHECK_STR(a, b)                                                   \
	do {                                                              \
		const char *check_a_ = (a), *check_b_ = (b);              \
		if (strcmp(check_a_, check_b_) != 0)                      \
			test_fail(__FILE__, __LINE__,                     \
				  "CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, \
				  #b, check_a_, check_b_);                \
	} while (0)

#endif
