/* SPDX-License-Identifier: BSD-2-Clause */
/* The test runner: see test.h. Test code may keep globals; the core may not. */
#include "test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#define MAX_TESTS 4096

static const struct test_case *tests[MAX_TESTS];
static int ntests;
static int cur_failures;
static bool verbose;
static jmp_buf cur_jmp;

void test_register(const struct test_case *tc)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "test harness: too many tests\n");
		exit(2);
	}
	tests[ntests++] = tc;
}

bool test_verbose(void)
{
	return verbose;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	cur_failures++;
	if (cur_failures > 20)
		return;
	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void test_abort_current(void)
{
	longjmp(cur_jmp, 1);
}

static int by_name(const void *a, const void *b)
{
	const struct test_case *x = *(const struct test_case *const *)a;
	const struct test_case *y = *(const struct test_case *const *)b;
	int c = strcmp(x->file, y->file);

	return c ? c : strcmp(x->name, y->name);
}

static bool selected(const char *name, int argc, char **argv, int first)
{
	if (first >= argc)
		return true;
	for (int i = first; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const char *suite = getenv("TEST_SUITE") ? getenv("TEST_SUITE") : "tests";
	volatile int first = 1, passed = 0, failed = 0;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = true;
		first = 2;
	}
	qsort(tests, (size_t)ntests, sizeof(tests[0]), by_name);
	for (int i = 0; i < ntests; i++) {
		const struct test_case *tc = tests[i];
		struct timespec t0, t1;

		if (!selected(tc->name, argc, argv, first))
			continue;
		cur_failures = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (setjmp(cur_jmp) == 0)
			tc->fn();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (cur_failures) {
			failed++;
			printf("FAIL %s (%s, %.1f ms)\n", tc->name, tc->file, ms);
		} else {
			passed++;
			if (verbose)
				printf("ok   %s (%.1f ms)\n", tc->name, ms);
		}
		fflush(stdout);
	}
	printf("%s: %d passed, %d failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}
