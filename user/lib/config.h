/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sluiced configuration: the parsed, validated form of the YAML config file. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "sluice/abi.h"
#include "etcd.h"
#include "health.h"
#include "parse.h"

#define SL_CFG_MAX_IFACES		16
#define SL_CFG_INSTANCE_MAX		32	/* [a-z0-9_-]{1,32} */

/* Defaults, as documented in scripts/sluiced.example.yaml. */
#define SL_CFG_DEF_INSTANCE		"default"
#define SL_CFG_DEF_TCP_IDLE_MS		(15ULL * 60 * 1000)
#define SL_CFG_DEF_UDP_IDLE_MS		(30ULL * 1000)
#define SL_CFG_DEF_CLOSE_GRACE_MS	300ULL
#define SL_CFG_DEF_CLOSE_LINGER_MS	(2ULL * 1000)
#define SL_CFG_DEF_SWEEP_MS		1000ULL
#define SL_CFG_DEF_HANDSHAKE_MS		(3ULL * 1000)
#define SL_CFG_DEF_UNCONFIRMED_MS	(10ULL * 1000)
#define SL_CFG_DEF_CHECK_MS		50ULL
#define SL_CFG_DEF_DRAIN_MS		(5ULL * 60 * 1000)
#define SL_CFG_DEF_METRICS_PORT		9469
#define SL_CFG_DEF_WEIGHT		100
#define SL_CFG_DEF_LEASE_MS (10ULL * 1000)

/* Ranges the loader enforces. */
#define SL_CFG_FLOWS_MIN		1024U
#define SL_CFG_RING_MIN			1021U
#define SL_CFG_SWEEP_MIN_MS		100ULL
#define SL_CFG_SWEEP_MAX_MS		(60ULL * 1000)
/* drain.check_interval: the drain checker walks only the drain table. */
#define SL_CFG_CHECK_MIN_MS		10ULL
#define SL_CFG_CHECK_MAX_MS		(10ULL * 1000)
/* flows.handshake_timeout and flows.unconfirmed_timeout. */
#define SL_CFG_HANDSHAKE_MIN_MS		100ULL
#define SL_CFG_HANDSHAKE_MAX_MS		(10ULL * 60 * 1000)
#define SL_CFG_WEIGHT_MAX		10000U
/* Flow times are 32-bit ms compared as (__s32)(a - b): stay below 2^31. */
#define SL_CFG_TIMEOUT_MAX_MS		(596ULL * 3600 * 1000)
/* Drain timeouts: drain.default_timeout, the control socket and the CLI
 * share these bounds (they had 2^64 ms, 365 days and 596 hours, and only
 * the config refused 0, a drain that times out at once). */
#define SL_CFG_DRAIN_MIN_MS		1ULL
#define SL_CFG_DRAIN_MAX_MS		SL_CFG_TIMEOUT_MAX_MS

/* Default path templates; %s is the instance name. */
#define SL_CFG_SOCKET_DIR		"/run/sluice"
#define SL_CFG_SOCKET_FMT		SL_CFG_SOCKET_DIR "/%s.sock"
#define SL_CFG_PIN_DIR_FMT		"/sys/fs/bpf/sluice/%s"
#define SL_CFG_STATE_DIR_FMT		"/var/lib/sluice/%s"

#define SL_XDP_MODE_NATIVE		0
#define SL_XDP_MODE_SKB			1

struct sl_cfg_iface {
	char name[IFNAMSIZ];
	__u8 mode;			/* SL_XDP_MODE_* */
};

struct sl_cfg_backend {
	struct sluice_addr addr;
	__u8 family;			/* SLUICE_AF_*: also the outer header family */
	__u32 weight;			/* 0..SL_CFG_WEIGHT_MAX; 0 = no new flows */
	struct sl_health_cfg hc;	/* the VIP's check with this backend's overrides */
	char name[64];			/* "": none (SL_BE_NAME_MAX, state.h) */
};

struct sl_cfg_vip {
	struct sl_vip_spec vip;
	struct sl_health_cfg hc;	/* type SL_HC_NONE: no checks */
	struct sl_cfg_backend *backends;
	size_t n_backends;
};

struct sl_config {
	char instance[SL_CFG_INSTANCE_MAX + 1];

	struct sl_cfg_iface ifaces[SL_CFG_MAX_IFACES];
	size_t n_ifaces;

	/* encap: has_* says whether the source was configured. */
	bool has_source_v4;
	bool has_source_v6;
	struct sluice_addr source_v4;
	struct sluice_addr source_v6;

	/* flows */
	__u32 flow_table_size;
	__u32 new_table_size;		/* sl_new: flows seen once */
	__u32 drain_table_size; /* sl_pinned: draining flows kept from eviction */
	__u64 tcp_idle_timeout_ms;
	__u64 udp_idle_timeout_ms;
	__u64 close_grace_ms;		/* client silence after FIN: ended for counting */
	bool udp_fallback; /* stateless UDP: pre-drain pick */
	__u64 close_linger_ms;		/* ... and the entry is deleted */
	__u64 sweep_interval_ms;
	__u64 handshake_timeout_ms;	/* an sl_new slot counts as a handshake */
	__u64 unconfirmed_timeout_ms;	/* unconfirmed sl_flows entries expire */

	/* maglev */
	__u32 maglev_table_size;
	__u32 maglev_seed;

	/* drain */
	__u64 drain_timeout_ms;
	__u64 drain_check_interval_ms;	/* drain checker period */

	/* control */
	char control_socket[PATH_MAX];

	/* metrics: "off" clears metrics_enabled */
	bool metrics_enabled;
	struct sluice_addr metrics_addr;
	__u8 metrics_family;		/* SLUICE_AF_* */
	__be16 metrics_port;		/* network order */

	/* announce: VIP host routes in a kernel table for BIRD (announce.h) */
	bool announce_enabled;
	__u32 announce_table;
	char announce_device[16];	/* IFNAMSIZ */

	/*
	 * cluster: VIPs and backends come from etcd, not vips: (desired.h);
	 * cluster_lease_ms: how long a dead box's report outlives it.
	 */
	bool cluster_enabled;
	struct sl_etcd_opts cluster_etcd;
	char cluster_prefix[128]; /* SL_DESIRED_PREFIX_MAX */
	char cluster_box[64]; /* SL_DESIRED_BOX_MAX */
	__u64 cluster_lease_ms;

	/* paths */
	char pin_dir[PATH_MAX];
	char state_dir[PATH_MAX];

	/* vips: heap-allocated, released by sl_config_free() */
	struct sl_cfg_vip *vips;
	size_t n_vips;
};

/* Fill cfg with every default: instance "default", paths derived from it, no VIPs. */
void sl_config_defaults(struct sl_config *cfg);

/*
 * Load and validate a config file. cfg need not be initialised and its old
 * contents are not freed. Returns 0, or -errno with a "FILE:LINE:COLUMN:
 * FIELD: problem (allowed)" message in err; on error cfg holds the
 * defaults and owns no memory.
 */
int sl_config_load(const char *path, struct sl_config *cfg, char *err, size_t errlen);

/* Release the VIP arrays; cfg keeps its scalars but no VIPs. Idempotent. */
void sl_config_free(struct sl_config *cfg);

#endif /* SLUICE_CONFIG_H */
