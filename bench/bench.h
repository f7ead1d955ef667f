/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Benchmarks of the core, run by build/bench/bench [name ...]. Each figure is
 * printed as one line "RESULT <name> <value> <unit>"; bench/run.sh collects
 * them, measures the same figures for Linux network namespaces, and writes
 * build/bench.json and the table in docs/PERFORMANCE.md.
 */
#ifndef VIMAGE_BENCH_H
#define VIMAGE_BENCH_H

#include <stdint.h>

void bench_report(const char *name, double value, const char *unit);
uint64_t bench_now_ns(void);
/* Resident set size of this process in KiB (from /proc/self/statm). */
uint64_t bench_rss_kib(void);

struct bench {
	const char *name;
	void (*run)(void);
};

#define BENCH(fn_)                                                        \
	static void fn_(void);                                            \
	static const struct bench bench_##fn_ = {#fn_, fn_};              \
	__attribute__((constructor)) static void bench_reg_##fn_(void)    \
	{                                                                 \
		bench_register(&bench_##fn_);                             \
	}                                                                 \
	static void fn_(void)

void bench_register(const struct bench *b);

#endif
