/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * make bench, part 3: Maglev table build time (user/lib/maglev.c) for 10,
 * 100 and 1000 backends at M = 65537 and 655373, the sizes of the NSDI'16
 * paper's Table 2 (1.8 ms and 22.9 ms there, for 1000 backends). Backends
 * have distinct IPv4 addresses in 198.18.0.0/15 and weight 100. Each size
 * is built REPS times after one untimed warm-up build; wall time per build.
 *
 * Usage: bench_maglev [REPS]   (default 7)
 */
#include "bench.h"

#include <arpa/inet.h>

#include "maglev.h"

#define BM_MAX_REPS	50

int main(int argc, char **argv)
{
	static const unsigned int counts[] = { 10, 100, 1000 };
	static const __u32 sizes[] = { 65537, 655373 };
	int reps = argc > 1 ? atoi(argv[1]) : 7;
	struct maglev_backend *bes;
	size_t c, s, i;
	__u32 *table;
	int r, err, first = 1;

	if (reps < 1 || reps > BM_MAX_REPS)
		bench_die("usage: bench_maglev [REPS 1..%d]", BM_MAX_REPS);
	bes = calloc(1000, sizeof(*bes));
	table = calloc(655373, sizeof(*table));
	if (!bes || !table)
		bench_die("out of memory");
	for (i = 0; i < 1000; i++) {
		bes[i].id = i;
		bes[i].family = SLUICE_AF_INET;
		/* 198.18.x.y, x.y = i + 1: distinct, never .0.0 */
		bes[i].addr.addr[0] = htonl(0xc6120000 | (__u32)(i + 1));
		bes[i].weight = 100;
	}

	printf("{\"bench\": \"maglev\", \"reps\": %d, \"weight\": 100, "
	       "\"builds\": [\n", reps);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			printf("%s  {\"backends\": %u, \"m\": %u, \"ms\": [",
			       first ? "" : ",\n", counts[c], sizes[s]);
			first = 0;
			err = maglev_build(bes, counts[c], sizes[s], 0, table);
			if (err)
				bench_die("maglev_build: %s", strerror(-err));
			for (r = 0; r < reps; r++) {
				__u64 t0 = bench_now_ns();

				maglev_build(bes, counts[c], sizes[s], 0, table);
				printf("%s%.3f", r ? ", " : "",
				       (bench_now_ns() - t0) / 1e6);
			}
			printf("]}");
		}
	}
	printf("\n]}\n");
	free(bes);
	free(table);
	return 0;
}
