/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark runner: see bench.h. */
#include "bench.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BENCH 64

static const struct bench *benches[MAX_BENCH];
static int nbench;

void bench_register(const struct bench *b)
{
	if (nbench < MAX_BENCH)
		benches[nbench++] = b;
}

void bench_report(const char *name, double value, const char *unit)
{
	printf("RESULT %s %.6g %s\n", name, value, unit);
	fflush(stdout);
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_rss_kib(void)
{
	unsigned long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

int main(int argc, char **argv)
{
	int ran = 0;

	for (int i = 0; i < nbench; i++) {
		bool want = argc < 2;

		for (int j = 1; j < argc; j++)
			if (strstr(benches[i]->name, argv[j]))
				want = true;
		if (!want)
			continue;
		fprintf(stderr, "bench: %s\n", benches[i]->name);
		benches[i]->run();
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "bench: nothing matched\n");
		return 1;
	}
	return 0;
}
