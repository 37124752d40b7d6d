/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* libFuzzer target: any bytes as sluiced's YAML config, through sl_config_load(). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

/* The input lives in a memfd; the loader opens it by its /proc path. */
static int memfd = -1;
static char path[64];

/* A broken promise of the loader is a crash, so libFuzzer keeps the input. */
static void check(int cond, const char *what, const char *err)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_config: %s (error text: \"%s\")\n", what, err);
	abort();
}

static void check_loaded(const struct sl_config *cfg)
{
	size_t i, j, total = 0;

	check(cfg->n_ifaces >= 1 && cfg->n_ifaces <= SL_CFG_MAX_IFACES,
	      "interface count out of range", "");
	for (i = 0; i < cfg->n_ifaces; i++)
		check(memchr(cfg->ifaces[i].name, '\0', sizeof(cfg->ifaces[i].name)) &&
		      cfg->ifaces[i].name[0], "interface name not a string", "");
	check(memchr(cfg->instance, '\0', sizeof(cfg->instance)) && cfg->instance[0],
	      "instance not a string", "");
	check(cfg->n_vips <= SLUICE_MAX_VIPS, "too many VIPs accepted", "");
	check(!cfg->n_vips == !cfg->vips, "VIP count and array disagree", "");
	for (i = 0; i < cfg->n_vips; i++) {
		const struct sl_cfg_vip *v = &cfg->vips[i];

		check(!v->n_backends == !v->backends, "backend count and array disagree", "");
		for (j = 0; j < v->n_backends; j++) {
			check(v->backends[j].weight <= SL_CFG_WEIGHT_MAX,
			      "weight out of range", "");
			check(v->backends[j].family == SLUICE_AF_INET ||
			      v->backends[j].family == SLUICE_AF_INET6,
			      "backend family", "");
		}
		total += v->n_backends;
	}
	check(total <= SLUICE_MAX_BACKENDS, "too many backends accepted", "");
	check(cfg->close_grace_ms < cfg->udp_idle_timeout_ms,
	      "close_grace not below udp_idle_timeout", "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_config cfg;
	char err[1024];
	int rc;

	if (memfd < 0) {
		memfd = memfd_create("sluice-fuzz-config", MFD_CLOEXEC);
		if (memfd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) || (size && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz_config: memfd");
		abort();
	}

	memset(err, 0x5a, sizeof(err));	/* an unterminated message shows */
	rc = sl_config_load(path, &cfg, err, sizeof(err));
	check(memchr(err, '\0', sizeof(err)) != NULL, "error text not terminated", "");
	if (rc) {
		check(rc < 0, "error return is not -errno", err);
		check(!strncmp(err, path, strlen(path)), "error does not start with the file name", err);
		check(!cfg.vips && !cfg.n_vips, "failed load left VIPs behind", err);
	} else {
		check(err[0] == '\0', "success with an error text", err);
		check_loaded(&cfg);
	}
	sl_config_free(&cfg);
	sl_config_free(&cfg);	/* documented as idempotent */
	return 0;
}
