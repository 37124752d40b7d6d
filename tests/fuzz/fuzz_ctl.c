/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libFuzzer target: control-socket request lines through sl_ctl_handle()
 * with a minimal daemon (ctl_stub.c): a config with one interface, a few
 * VIPs and backends, every map fd -1 so map reads fail cleanly. Each input
 * is up to 16 lines, run in turn on a fresh copy of that state; every reply
 * must be one line holding a JSON object {"ok": true, "result": ...} or
 * {"ok": false, "error": "...", "errno": "..."}.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "daemon.h"
#include "parse.h"

#define MAX_LINES	16

static struct sl_daemon d;	/* large: static, like sluiced's */
static struct sl_state base;

static void die(const char *what, const char *line, const char *reply)
{
	fprintf(stderr, "fuzz_ctl: %s\n  request: %.200s\n  reply: %.400s\n", what,
		line, reply ? reply : "(none)");
	abort();
}

static void add_vip(const char *vip, const char *const *bes)
{
	struct sl_vip_spec spec;
	struct sluice_addr a;
	char err[256];
	__u8 fam;

	if (sl_parse_vip(vip, &spec, err, sizeof(err)) ||
	    sl_state_vip_add(&base, &spec, err, sizeof(err)))
		die("setup: vip", vip, err);
	for (; *bes; bes++)
		if (sl_parse_addr(*bes, &a, &fam) ||
		    sl_state_be_add(&base, &spec, &a, fam, 100, err, sizeof(err)))
			die("setup: backend", *bes, err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const be4[] = { "198.18.1.10", "198.18.1.11", "fd00:1::12", NULL };
	static const char *const be6[] = { "fd00:1::10", NULL };
	static const char *const none[] = { NULL };
	unsigned int i;

	(void)argc;
	(void)argv;
	sl_config_defaults(&d.cfg);
	d.cfg.n_ifaces = 1;
	strcpy(d.cfg.ifaces[0].name, "eth0");
	d.maps.vips = d.maps.backends = d.maps.rings = d.maps.fb_rings = -1;
	for (i = 0; i < SLUICE_FLOW_SHARDS; i++)
		d.maps.flow_shard[i] = -1;
	d.maps.vip_addrs = -1;
	d.maps.new_map = d.maps.new_tags = d.maps.config = d.maps.vip_stats =
		-1;
	d.maps.be_stats = d.maps.reasons = d.maps.tx_ports = -1;
	d.epfd = d.listen_fd = d.sig_fd = d.sweep_fd = d.health_fd = -1;
	d.sweep_out = calloc(1, sizeof(*d.sweep_out));
	d.sweep_last = calloc(1, sizeof(*d.sweep_last));
	if (!d.sweep_out || !d.sweep_last)
		die("setup: out of memory", "", NULL);
	d.started_ms = sl_unix_ms() - 5000;
	d.started_boot_ms = sl_boot_ms() - 5000;
	sl_state_init(&d.st);
	sl_state_init(&base);
	add_vip("198.18.0.100:80/tcp", be4);
	add_vip("[fd00::100]:443/udp", be6);
	add_vip("198.18.0.101:0/tcp", none);
	return 0;
}

/* The reply's shape: one line, one JSON object, ok or an error with errno. */
static void check_reply(const char *line, const char *reply, size_t len)
{
	json_object *o, *v;

	if (!reply)
		die("no reply", line, NULL);
	if (len != strlen(reply) || !len || reply[len - 1] != '\n' ||
	    memchr(reply, '\n', len) != reply + len - 1)
		die("reply is not exactly one line", line, reply);
	o = json_tokener_parse(reply);
	if (!o || !json_object_is_type(o, json_type_object))
		die("reply is not a JSON object", line, reply);
	if (!json_object_object_get_ex(o, "ok", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		die("reply has no boolean \"ok\"", line, reply);
	if (json_object_get_boolean(v)) {
		if (!json_object_object_get_ex(o, "result", NULL))
			die("ok reply without \"result\"", line, reply);
	} else {
		if (!json_object_object_get_ex(o, "error", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    !json_object_get_string_len(v))
			die("error reply without a message", line, reply);
		if (!json_object_object_get_ex(o, "errno", &v) ||
		    !json_object_is_type(v, json_type_string))
			die("error reply without \"errno\"", line, reply);
	}
	json_object_put(o);
}

/* What the state must still be after any request. */
static void check_state(const char *line)
{
	size_t i, j, k;

	if (d.st.n_vips > SLUICE_MAX_VIPS ||
	    sl_state_n_backends(&d.st) > SLUICE_MAX_BACKENDS)
		die("state over its limits", line, NULL);
	for (i = 0; i < d.st.n_vips; i++) {
		const struct sl_vip *v = &d.st.vips[i];

		for (j = i + 1; j < d.st.n_vips; j++)
			if (!memcmp(&v->spec, &d.st.vips[j].spec, sizeof(v->spec)))
				die("duplicate VIP in state", line, NULL);
		for (j = 0; j < v->n_bes; j++) {
			if (v->bes[j].id >= SLUICE_MAX_BACKENDS ||
			    v->bes[j].weight > SL_CFG_WEIGHT_MAX)
				die("backend id or weight out of range", line, NULL);
			for (k = j + 1; k < v->n_bes; k++)
				if (v->bes[j].family == v->bes[k].family &&
				    !memcmp(&v->bes[j].addr, &v->bes[k].addr,
					    sizeof(v->bes[j].addr)))
					die("duplicate backend in a VIP", line, NULL);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	char *line, *reply;
	size_t len, n = 0;

	if (sl_state_copy(&d.st, &base))
		die("state copy: out of memory", "", NULL);
	while (p < end && n++ < MAX_LINES) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		/* As the socket code does: the line ends at '\n', read as a C string. */
		line = strndup(p, nl - p);
		if (!line)
			die("out of memory", "", NULL);
		reply = sl_ctl_handle(&d, line, &len);
		check_reply(line, reply, len);
		check_state(line);
		free(reply);
		free(line);
		p = nl + 1;
	}
	sl_state_free(&d.st);
	return 0;
}
