/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF tests, the verifier budget (docs/design.md, "Three programs"): each
 * of the balancer's programs verifies in at most half of the verifier's
 * 1,000,000 instructions, so a change that multiplies the verifier's
 * paths fails here, with the figures, instead of at an operator's load;
 * the tail program arrays hold this very object's programs; and only the
 * maps meant to be are private to one load (never pinned).
 */
#include <bpf/bpf.h>
#include "../lib/bpftest.h"
#include "sluice.skel.h"

#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#define BUDGET_MAX 500000U /* half of the verifier's limit */
#define LOG_SIZE (1U << 22)

/* "processed N insns" from a verifier log at level BPF_LOG_STATS. */
static long processed(const char *log)
{
	const char *p = log ? strstr(log, "processed ") : NULL;

	return p ? strtol(p + strlen("processed "), NULL, 10) : -1;
}

static void test_each_program_has_headroom(void **state)
{
	struct sluice_bpf *skel = sluice_bpf__open();
	struct bpf_program *prog;
	int n = 0;

	(void)state;
	CHECK_NONNULL(CHECK_HERE, skel);
	bpf_object__for_each_program(prog, skel->obj) {
		char *log = calloc(1, LOG_SIZE);

		CHECK_NONNULL(CHECK_HERE, log);
		bpf_program__set_log_buf(prog, log, LOG_SIZE);
		bpf_program__set_log_level(prog, 4); /* BPF_LOG_STATS */
	}
	CHECK_INT(CHECK_HERE,
		  sl_maps_set_sizes(skel->obj, SLUICE_RING_SIZE_DEFAULT,
				    SLUICE_FLOWS_DEFAULT,
				    SLUICE_NEW_FLOWS_DEFAULT,
				    SLUICE_DRAIN_TABLE_DEFAULT),
		  0);
	CHECK_INT(CHECK_HERE, sluice_bpf__load(skel), 0);
	bpf_object__for_each_program(prog, skel->obj) {
		size_t size;
		const char *log = bpf_program__log_buf(prog, &size);
		long insns = processed(log);

		print_message("# %s: %ld of %u instructions\n",
			      bpf_program__name(prog), insns, BUDGET_MAX);
		CHECK(CHECK_HERE, insns > 0);
		CHECK(CHECK_HERE, insns <= (long)BUDGET_MAX);
		free((void *)log);
		n++;
	}
	CHECK_INT(CHECK_HERE, n, 3);
	sluice_bpf__destroy(skel);
}

/* @tail[@key] holds @prog (userspace reads a prog array as ids). */
static void check_tail(const struct bpf_map *tail, __u32 key,
		       const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id = 0;
	int fd = bpf_map__fd(tail);

	CHECK_INT(CHECK_HERE, bpf_map_lookup_elem(fd, &key, &id), 0);
	CHECK_INT(CHECK_HERE,
		  bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len),
		  0);
	CHECK_INT(CHECK_HERE, id, info.id);
}

static void test_tails_written(void **state)
{
	struct bt *t = bt_open(BT_RING_SMALL);

	(void)state;
	check_tail(t->skel->maps.sl_tail_slow, 0, t->skel->progs.sluice_slow);
	check_tail(t->skel->maps.sl_tail, SLUICE_TAIL_FALLBACK,
		   t->skel->progs.sluice_fallback);
	bt_close(t);
}

/*
 * The maps private to one load are the three meant to be: sl_tail keeps
 * its pin (an older sluiced's pinned one-entry array is reused), and no
 * balancer state is left out of the pins.
 */
static void test_private_maps(void **state)
{
	struct sluice_bpf *skel = sluice_bpf__open();
	struct bpf_map *map;
	int n = 0;

	(void)state;
	CHECK_NONNULL(CHECK_HERE, skel);
	bpf_object__for_each_map(map, skel->obj) {
		if (sl_map_private(bpf_map__name(map)))
			n++;
	}
	CHECK_INT(CHECK_HERE, n, 3);
	CHECK(CHECK_HERE, sl_map_private(SLUICE_MAP_TX_PORTS));
	CHECK(CHECK_HERE, sl_map_private(SLUICE_MAP_TAIL_SLOW));
	CHECK(CHECK_HERE, sl_map_private(SLUICE_MAP_HANDOFF));
	CHECK(CHECK_HERE, !sl_map_private(SLUICE_MAP_TAIL));
	CHECK(CHECK_HERE, !sl_map_private(SLUICE_MAP_FLOWS));
	CHECK_INT(CHECK_HERE, bpf_map__max_entries(skel->maps.sl_tail), 1);
	sluice_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_program_has_headroom),
		cmocka_unit_test(test_tails_written),
		cmocka_unit_test(test_private_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
