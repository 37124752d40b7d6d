/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Unit tests for user/lib/persist.c: state file round trip, bad files, atomic writes, config import. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "persist.h"

#include "array.h"
#define ERR_MAX		1024

static char tmp_dir[64];
static char state_path[128];
static char tmp_path[160];		/* state_path + ".tmp" */
static char err[ERR_MAX];

/* Remove everything under @dir, not @dir itself (fixtures nest one level). */
static void clean_dir_at(const char *dir, int depth)
{
	char p[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) && depth > 0) {
			clean_dir_at(p, depth - 1);
			rmdir(p);
		}
	}
	closedir(d);
}

static void clean_dir(void)
{
	clean_dir_at(tmp_dir, 2);
}

static int setup(void **state)
{
	(void)state;
	strcpy(tmp_dir, "/tmp/sluice-test-persist-XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(state_path, sizeof(state_path), "%s/%s", tmp_dir, SL_STATE_FILE);
	snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", state_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	clean_dir();
	return rmdir(tmp_dir);
}

static int each_setup(void **state)
{
	(void)state;
	clean_dir();
	err[0] = '\0';
	return 0;
}

/* Names in tmp_dir, space separated and sorted, for "what is left". */
static void dir_listing(char *buf, size_t len)
{
	struct dirent **names;
	int n, i;
	size_t off = 0;

	buf[0] = '\0';
	n = scandir(tmp_dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..") &&
		    off < len)
			off += snprintf(buf + off, len - off, "%s%s",
					off ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		fail_msg("cannot write fixture %s: %s", path, strerror(errno));
	fchmod(fd, mode);
	close(fd);
}

static struct sl_vip_spec vip(const char *s)
{
	struct sl_vip_spec v;

	if (sl_parse_vip(s, &v, err, sizeof(err)))
		fail_msg("fixture VIP \"%s\": %s", s, err);
	return v;
}

static struct sluice_addr addr(const char *s, __u8 *family)
{
	struct sluice_addr a;

	if (sl_parse_addr(s, &a, family))
		fail_msg("fixture address \"%s\" does not parse", s);
	return a;
}

static void vip_add(struct sl_state *st, const char *v)
{
	struct sl_vip_spec spec = vip(v);
	int rc = sl_state_vip_add(st, &spec, err, sizeof(err));

	if (rc)
		fail_msg("vip add %s: %d (%s)", v, rc, err);
}

static struct sl_be *be_add(struct sl_state *st, const char *v, const char *a,
			    __u32 weight)
{
	struct sl_vip_spec spec = vip(v);
	struct sluice_addr ad;
	__u8 family;
	int rc;

	ad = addr(a, &family);
	rc = sl_state_be_add(st, &spec, &ad, family, weight, err, sizeof(err));
	if (rc)
		fail_msg("backend add %s %s: %d (%s)", v, a, rc, err);
	return sl_vip_find_be(sl_state_find_vip(st, &spec), &ad, family);
}

static void be_del(struct sl_state *st, const char *v, const char *a)
{
	struct sl_vip_spec spec = vip(v);
	struct sluice_addr ad;
	__u8 family;

	ad = addr(a, &family);
	if (sl_state_be_del(st, &spec, &ad, family, err, sizeof(err)))
		fail_msg("backend del %s %s: %s", v, a, err);
}

static void vip_del(struct sl_state *st, const char *v)
{
	struct sl_vip_spec spec = vip(v);

	if (sl_state_vip_del(st, &spec, err, sizeof(err)))
		fail_msg("vip del %s: %s", v, err);
}

/* Every persisted field; health and flow counts are runtime only. */
static void check_persisted_eq(const char *what, const struct sl_state *got,
			       const struct sl_state *want)
{
	char a[SL_VIP_STR_MAX], b[SL_VIP_STR_MAX];
	size_t i, j;

	if (got->n_vips != want->n_vips)
		fail_msg("%s: n_vips = %zu, expected %zu", what, got->n_vips,
			 want->n_vips);
	for (i = 0; i < want->n_vips; i++) {
		const struct sl_vip *g = &got->vips[i], *w = &want->vips[i];

		sl_format_vip(&g->spec, a, sizeof(a));
		sl_format_vip(&w->spec, b, sizeof(b));
		if (memcmp(&g->spec, &w->spec, sizeof(g->spec)))
			fail_msg("%s: vip[%zu] = %s, expected %s", what, i, a, b);
		if (g->id != w->id)
			fail_msg("%s: %s id = %u, expected %u", what, b, g->id, w->id);
		if (g->n_bes != w->n_bes)
			fail_msg("%s: %s has %zu backends, expected %zu", what, b,
				 g->n_bes, w->n_bes);
		for (j = 0; j < w->n_bes; j++) {
			const struct sl_be *gb = &g->bes[j], *wb = &w->bes[j];
			char ga[SL_ADDR_STR_MAX], wa[SL_ADDR_STR_MAX];

			sl_format_addr(&gb->addr, gb->family, ga, sizeof(ga));
			sl_format_addr(&wb->addr, wb->family, wa, sizeof(wa));
			if (gb->family != wb->family ||
			    memcmp(&gb->addr, &wb->addr, sizeof(gb->addr)))
				fail_msg("%s: %s be[%zu] = %s (family %u), expected %s (family %u)",
					 what, b, j, ga, gb->family, wa, wb->family);
#define BE_FIELD(f, fmt, cast)							\
			if (gb->f != wb->f)					\
				fail_msg("%s: %s backend %s: " #f " = " fmt ", expected " fmt, \
					 what, b, wa, (cast)gb->f, (cast)wb->f)
			BE_FIELD(id, "%u", unsigned int);
			BE_FIELD(weight, "%u", unsigned int);
			BE_FIELD(state, "%d", int);
			BE_FIELD(drain_started, "%llu", unsigned long long);
			BE_FIELD(drain_deadline, "%llu", unsigned long long);
			BE_FIELD(timed_out, "%d", int);
			BE_FIELD(drain.blind, "%d", int);
			BE_FIELD(flows_left, "%llu", unsigned long long);
			BE_FIELD(lost, "%llu", unsigned long long);
#undef BE_FIELD
		}
	}
}

#define V4	"198.18.0.100:80/tcp"
#define V4ALL	"198.18.0.101:0/udp"
#define V6	"[fd00::100]:443/udp"
#define VEMPTY	"198.18.0.102:8080/tcp"

/* A state using every persisted field, with gaps in the VIP and backend ids. */
static void rich_state(struct sl_state *st)
{
	struct sl_be *be;

	sl_state_init(st);
	vip_add(st, "198.18.0.99:1/tcp");		/* id 0, removed below */
	vip_add(st, V4);				/* id 1 */
	vip_add(st, V6);				/* id 2 */
	vip_add(st, V4ALL);				/* id 3 */
	vip_add(st, VEMPTY);				/* id 4 */
	vip_del(st, "198.18.0.99:1/tcp");
	be_add(st, V4, "198.19.0.1", 100);		/* id 0 */
	be_add(st, V4, "198.19.0.2", 0);		/* id 1, removed */
	be = be_add(st, V4, "198.19.0.3", 10000);	/* id 2 */
	be->state = SL_BE_DRAINING;
	be->drain_started = 1700000000123ULL;
	be->drain_deadline = 1700000300123ULL;
	be->health = SL_HEALTH_DOWN;
	be->flows = 77;
	be->drain.blind = true; /* the drain table had no room: stays so */
	be->lost = 12; /* sluice_backend_flows_lost_total survives */
	be = be_add(st, V4, "fd00::1:4", 5);		/* id 3, IPv6 backend of an IPv4 VIP */
	be->state = SL_BE_DRAINED;
	be->drain_started = 1700000000000ULL;
	be->drain_deadline = 1700000060000ULL;
	be->timed_out = true;
	be->flows_left = 17;
	be->lost = 0x100000005ULL; /* beyond 32 bits */
	be_del(st, V4, "198.19.0.2");
	be = be_add(st, V6, "fd00::1:1", 1);		/* id 4 */
	be->state = SL_BE_DRAINED;
	be->drain_started = 42;
	be->drain_deadline = 0x123456789abcULL;
	be_add(st, V6, "198.19.1.1", 250);		/* id 5 */
	be = be_add(st, V4ALL, "198.19.2.1", 3);	/* id 6 */
	be->health = SL_HEALTH_UP;
	st->next_be_id = 4000;
}

static void save_ok(const struct sl_state *st, const struct sl_state *cfg)
{
	int rc = sl_state_save(state_path, st, cfg, err, sizeof(err));

	if (rc)
		fail_msg("sl_state_save: got %d (%s), expected 0", rc, err);
}

static void load_ok(struct sl_state *st, struct sl_state *cfg)
{
	int rc = sl_state_load(state_path, st, cfg, err, sizeof(err));

	if (rc)
		fail_msg("sl_state_load: got %d (%s), expected 0", rc, err);
}

static void test_roundtrip(void **state)
{
	struct sl_state st, cfg, st2, cfg2;
	struct sl_vip_spec v;
	struct sluice_addr a;
	__u8 family;

	(void)state;
	rich_state(&st);
	sl_state_init(&cfg);
	vip_add(&cfg, V6);
	vip_add(&cfg, V4);
	be_add(&cfg, V4, "198.19.0.1", 100);
	be_add(&cfg, V4, "198.19.0.3", 60);
	be_add(&cfg, V6, "fd00::1:1", 1);
	st.cluster_rev = 5000000000LL; /* etcd revisions are 64-bit */
	st.clock.offset_ms = -1796549771000LL; /* either sign */
	strcpy(st.clock.boot_id, "0f9c3a52-6b1e-4d7a-9c2b-3e4f5a6b7c8d");
	save_ok(&st, &cfg);
	load_ok(&st2, &cfg2);
	check_persisted_eq("vips", &st2, &st);
	CHECK_INT(CHECK_HERE, st2.next_be_id, 4000);
	CHECK_INT(CHECK_HERE, st2.cluster_rev, 5000000000LL);
	CHECK_U64(CHECK_HERE, st2.clock.offset_ms, -1796549771000LL);
	CHECK_STR(CHECK_HERE, st2.clock.boot_id,
		  "0f9c3a52-6b1e-4d7a-9c2b-3e4f5a6b7c8d");
	check_persisted_eq("config_vips", &cfg2, &cfg);

	/* The loaded state carries on: next id 4000, not a reused one. */
	v = vip(V4);
	a = addr("198.19.0.9", &family);
	CHECK_INT(CHECK_HERE, sl_state_be_add(&st2, &v, &a, family, 1, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, sl_vip_find_be(sl_state_find_vip(&st2, &v), &a, family)->id, 4000);

	/* Saving what was loaded gives the same file again. */
	sl_state_free(&st2);
	sl_state_free(&cfg2);
	load_ok(&st2, &cfg2);
	save_ok(&st2, &cfg2);
	sl_state_free(&st2);
	sl_state_free(&cfg2);
	load_ok(&st2, &cfg2);
	check_persisted_eq("vips, second round", &st2, &st);
	check_persisted_eq("config_vips, second round", &cfg2, &cfg);
	CHECK_INT(CHECK_HERE, st2.next_be_id, 4000);
	CHECK_INT(CHECK_HERE, st2.cluster_rev, 5000000000LL);

	sl_state_free(&st2);
	sl_state_free(&cfg2);
	sl_state_free(&st);
	sl_state_free(&cfg);
}

static void test_roundtrip_empty(void **state)
{
	struct sl_state st, cfg, st2, cfg2;

	(void)state;
	sl_state_init(&st);
	sl_state_init(&cfg);
	st.next_be_id = 7;
	save_ok(&st, &cfg);
	load_ok(&st2, &cfg2);
	CHECK_INT(CHECK_HERE, st2.n_vips, 0);
	CHECK_INT(CHECK_HERE, cfg2.n_vips, 0);
	CHECK_INT(CHECK_HERE, st2.next_be_id, 7);
	CHECK_INT(CHECK_HERE, st2.cluster_rev, 0);
	/* No mark saved (boot id unreadable, or an older file): none loaded. */
	CHECK_STR(CHECK_HERE, st2.clock.boot_id, "");
	sl_state_free(&st2);
	sl_state_free(&cfg2);
}

static void test_missing_file(void **state)
{
	struct sl_state st, cfg;

	(void)state;
	memset(&st, 0xa5, sizeof(st));
	memset(&cfg, 0xa5, sizeof(cfg));
	CHECK_INT(CHECK_HERE, sl_state_load(state_path, &st, &cfg, err, sizeof(err)), -ENOENT);
	CHECK_INT(CHECK_HERE, st.n_vips, 0);
	CHECK_INT(CHECK_HERE, st.vips == NULL, 1);
	CHECK_INT(CHECK_HERE, cfg.n_vips, 0);
	CHECK_INT(CHECK_HERE, cfg.vips == NULL, 1);
}

static void check_no_tmp(const char *what, const char *expected_listing)
{
	char ls[512];

	if (!access(tmp_path, F_OK))
		fail_msg("%s: %s left behind", what, tmp_path);
	dir_listing(ls, sizeof(ls));
	if (strcmp(ls, expected_listing))
		fail_msg("%s: directory holds \"%s\", expected \"%s\"", what, ls,
			 expected_listing);
}

static void check_mode(const char *what, const char *path, mode_t want)
{
	struct stat sb;

	if (stat(path, &sb))
		fail_msg("stat %s: %s", path, strerror(errno));
	if ((sb.st_mode & 07777) != want)
		fail_msg("%s: %s mode = %04o, expected %04o", what, path,
			 (unsigned int)(sb.st_mode & 07777), (unsigned int)want);
}

static void test_atomic_write(void **state)
{
	struct sl_state st, cfg, st2, cfg2;
	mode_t old_umask;

	(void)state;
	rich_state(&st);
	sl_state_init(&cfg);

	/* Even with a permissive umask the file is 0600. */
	old_umask = umask(0);
	save_ok(&st, &cfg);
	umask(old_umask);
	check_mode("first save, umask 0", state_path, 0600);
	check_no_tmp("first save", SL_STATE_FILE);

	/* Replacing an existing (world-readable, garbage) file. */
	write_file(state_path, "garbage", 0644);
	save_ok(&st, &cfg);
	check_mode("save over a 0644 file", state_path, 0600);
	check_no_tmp("save over an existing file", SL_STATE_FILE);
	load_ok(&st2, &cfg2);
	check_persisted_eq("after replacing", &st2, &st);
	sl_state_free(&st2);
	sl_state_free(&cfg2);

	/* A stale temporary file from a crash is replaced and gone. */
	write_file(tmp_path, "{ half a file", 0644);
	st.next_be_id = 12;
	save_ok(&st, &cfg);
	check_mode("save with a stale 0644 .tmp", state_path, 0600);
	check_no_tmp("save with a stale .tmp", SL_STATE_FILE);
	load_ok(&st2, &cfg2);
	CHECK_INT(CHECK_HERE, st2.next_be_id, 12);
	sl_state_free(&st2);
	sl_state_free(&cfg2);

	sl_state_free(&st);
	sl_state_free(&cfg);
}

static void test_write_fails(void **state)
{
	struct sl_state st, cfg;
	char path[256], ls[512];
	int rc;

	(void)state;
	rich_state(&st);
	sl_state_init(&cfg);

	/* Directory missing: an error naming the file, nothing written. */
	snprintf(path, sizeof(path), "%s/nodir/%s", tmp_dir, SL_STATE_FILE);
	rc = sl_state_save(path, &st, &cfg, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -ENOENT);
	CHECK_CONTAINS(CHECK_HERE, err, path);
	check_no_tmp("save into a missing directory", "");

	/* The target is a non-empty directory: rename fails, .tmp removed. */
	if (mkdir(state_path, 0700))
		fail_msg("mkdir %s: %s", state_path, strerror(errno));
	snprintf(path, sizeof(path), "%s/keep", state_path);
	write_file(path, "x", 0600);
	err[0] = '\0';
	rc = sl_state_save(state_path, &st, &cfg, err, sizeof(err));
	if (rc >= 0)
		fail_msg("save onto a directory: got %d, expected an error", rc);
	CHECK_CONTAINS(CHECK_HERE, err, state_path);
	if (!access(tmp_path, F_OK))
		fail_msg("failed save left %s behind", tmp_path);
	dir_listing(ls, sizeof(ls));
	CHECK_CONTAINS(CHECK_HERE, ls, SL_STATE_FILE);
	unlink(path);
	rmdir(state_path);

	sl_state_free(&st);
	sl_state_free(&cfg);
}

/*
 * Bad state files. The template loads; each case breaks one thing. All
 * fields in BE_* and VIP_* end with ", " so any one can be left out.
 */
#define F_ADDR	"\"address\": \"198.19.0.1\", "
#define F_WT	"\"weight\": 100, "
#define F_BEID	"\"id\": 3, "
#define F_STATE	"\"state\": \"draining\", "
#define F_DRAIN	"\"drain_started_unix_ms\": 1000, \"drain_deadline_unix_ms\": 2000, " \
		"\"flows_left\": 0, "
#define BE_TAIL	"\"timed_out\": false"
#define BE(f)	"{ " f BE_TAIL " }"
#define BE_OK	BE(F_ADDR F_WT F_BEID F_STATE F_DRAIN)
#define F_VIP	"\"vip\": \"198.18.0.100:80/tcp\", "
#define F_VIPID	"\"id\": 1, "
#define F_BES(b) "\"backends\": [ " b " ], "
#define VIP(f)	"{ " f "\"x\": 0 }"
#define VIP_OK	VIP(F_VIP F_VIPID F_BES(BE_OK))
#define F_NEXT	"\"next_backend_id\": 4, "
#define F_VIPS(v) "\"vips\": [ " v " ], "
#define F_CVIPS(v) "\"config_vips\": [ " v " ], "
#define FILE_(f) "{ \"version\": 1, " f "\"y\": 0 }"
#define FILE_OK	FILE_(F_NEXT F_VIPS(VIP_OK) F_CVIPS(VIP_OK))
#define FILE_VIP(v) FILE_(F_NEXT F_VIPS(v) F_CVIPS(VIP_OK))
#define FILE_BE(b) FILE_VIP(VIP(F_VIP F_VIPID F_BES(b)))

struct bad_case {
	const char *name;
	const char *text;
	const char *msg;	/* besides the path */
};

static const struct bad_case bad_cases[] = {
	{ "empty file", "", "not valid JSON" },
	{ "truncated", "{ \"version\": 1, \"vips\": [", "not valid JSON" },
	{ "not JSON", "state: yes\n", "not valid JSON" },
	{ "root is an array", "[ 1, 2 ]", "" },
	{ "no vips", FILE_(F_NEXT F_CVIPS(VIP_OK)), "vips" },
	{ "no config_vips", FILE_(F_NEXT F_VIPS(VIP_OK)), "config_vips" },
	{ "no next_backend_id", FILE_(F_VIPS(VIP_OK) F_CVIPS(VIP_OK)),
	  "next_backend_id" },
	{ "vips not an array", FILE_(F_NEXT "\"vips\": {}, " F_CVIPS(VIP_OK)),
	  "vips" },
	{ "next_backend_id a string",
	  FILE_("\"next_backend_id\": \"4\", " F_VIPS(VIP_OK) F_CVIPS(VIP_OK)),
	  "next_backend_id" },
	{ "cluster_revision a string",
	  FILE_("\"cluster_revision\": \"41\", " F_NEXT F_VIPS(VIP_OK)
			F_CVIPS(VIP_OK)),
	  "cluster_revision must be a revision number" },
	{ "cluster_revision negative",
	  FILE_("\"cluster_revision\": -1, " F_NEXT F_VIPS(VIP_OK)
			F_CVIPS(VIP_OK)),
	  "cluster_revision must be a revision number" },
	{ "wall_clock not an object",
	  FILE_("\"wall_clock\": 5, " F_NEXT F_VIPS(VIP_OK) F_CVIPS(VIP_OK)),
	  "wall_clock must be {\"boot_id\"" },
	{ "wall_clock boot_id not one",
	  FILE_("\"wall_clock\": {\"boot_id\": \"x\", \"offset_ms\": 1}, " F_NEXT
			F_VIPS(VIP_OK) F_CVIPS(VIP_OK)),
	  "remove the key" },
	{ "wall_clock offset_ms missing",
	  FILE_("\"wall_clock\": {\"boot_id\": "
		"\"0f9c3a52-6b1e-4d7a-9c2b-3e4f5a6b7c8d\"}, " F_NEXT F_VIPS(
			VIP_OK) F_CVIPS(VIP_OK)),
	  "wall_clock must be" },
	{ "vip entry not an object", FILE_VIP("3"), "" },
	{ "vip missing", FILE_VIP(VIP(F_VIPID F_BES(BE_OK))), "\"vip\"" },
	{ "vip id missing", FILE_VIP(VIP(F_VIP F_BES(BE_OK))), "\"id\"" },
	{ "backends missing", FILE_VIP(VIP(F_VIP F_VIPID)), "backends" },
	{ "backends not an array",
	  FILE_VIP(VIP(F_VIP F_VIPID "\"backends\": 1, ")), "backends" },
	{ "vip text bad",
	  FILE_VIP(VIP(
		  "\"vip\": \"198.18.0.100:80/sctp\", " F_VIPID F_BES(BE_OK))),
	  "sctp" },
	{ "vip id 256", FILE_VIP(VIP(F_VIP "\"id\": 256, " F_BES(BE_OK))),
	  "range" },
	{ "vip id -1", FILE_VIP(VIP(F_VIP "\"id\": -1, " F_BES(BE_OK))),
	  "range" },
	{ "vip id 2^32",
	  FILE_VIP(VIP(F_VIP "\"id\": 4294967296, " F_BES(BE_OK))), "range" },
	{ "vip id huge",
	  FILE_VIP(VIP(F_VIP "\"id\": 18446744073709551615, " F_BES(BE_OK))),
	  "range" },
	{ "vip id a string",
	  FILE_VIP(VIP(F_VIP "\"id\": \"1\", " F_BES(BE_OK))), "\"id\"" },
	{ "address missing", FILE_BE(BE(F_WT F_BEID F_STATE F_DRAIN)),
	  "address" },
	{ "address bad",
	  FILE_BE(BE("\"address\": \"198.19.0.256\", " F_WT F_BEID F_STATE)),
	  "address" },
	{ "state missing", FILE_BE(BE(F_ADDR F_WT F_BEID F_DRAIN)), "state" },
	{ "state bad",
	  FILE_BE(BE(F_ADDR F_WT F_BEID "\"state\": \"paused\", ")), "state" },
	{ "weight missing", FILE_BE(BE(F_ADDR F_BEID F_STATE)), "weight" },
	{ "weight a string",
	  FILE_BE(BE(F_ADDR "\"weight\": \"100\", " F_BEID F_STATE)),
	  "weight" },
	{ "backend id missing", FILE_BE(BE(F_ADDR F_WT F_STATE)), "\"id\"" },
	{ "backend id 4096", FILE_BE(BE(F_ADDR F_WT "\"id\": 4096, " F_STATE)),
	  "range" },
	{ "backend id -1", FILE_BE(BE(F_ADDR F_WT "\"id\": -1, " F_STATE)),
	  "range" },
	{ "backend id 2^32 + 3",
	  FILE_BE(BE(F_ADDR F_WT "\"id\": 4294967299, " F_STATE)), "range" },
	{ "backend id a float",
	  FILE_BE(BE(F_ADDR F_WT "\"id\": 3.5, " F_STATE)), "\"id\"" },
	{ "second backend bad",
	  FILE_BE(BE_OK ", " BE(F_ADDR F_WT "\"id\": 5000, " F_STATE)),
	  "range" },
	{ "same VIP twice",
	  FILE_VIP(VIP_OK ", " VIP(F_VIP "\"id\": 2, " F_BES(
		  BE(F_ADDR F_WT "\"id\": 5, " F_STATE)))),
	  "VIP 198.18.0.100:80/tcp is listed twice in \"vips\" (entries 0 and 1)" },
	{ "same VIP twice in config_vips",
	  FILE_(F_NEXT F_VIPS(VIP_OK) F_CVIPS(VIP_OK ", " VIP_OK)),
	  "VIP 198.18.0.100:80/tcp is listed twice in \"config_vips\"" },
	{ "same backend twice in a VIP",
	  FILE_BE(BE_OK ", " BE(F_ADDR F_WT "\"id\": 5, " F_STATE)),
	  "backend 198.19.0.1 is listed twice for VIP 198.18.0.100:80/tcp" },
	/* Ids index the maps: one id on two entries is refused, naming it
	 * and both entries. */
	{ "same VIP id twice",
	  FILE_VIP(VIP(F_VIP "\"id\": 7, " F_BES(BE_OK)) ", " VIP(
		  "\"vip\": \"198.18.0.100:81/tcp\", \"id\": 7, " F_BES(
			  BE(F_ADDR F_WT "\"id\": 5, " F_STATE)))),
	  "VIP id 7 used twice in \"vips\", by 198.18.0.100:80/tcp (entry 0) "
	  "and 198.18.0.100:81/tcp (entry 1)" },
	{ "same backend id twice in a VIP",
	  FILE_BE(BE_OK
		  ", " BE("\"address\": \"198.19.0.2\", " F_WT F_BEID F_STATE)),
	  "backend id 3 used twice in \"vips\", by backend 198.19.0.1 of VIP "
	  "198.18.0.100:80/tcp and backend 198.19.0.2 of VIP 198.18.0.100:80/tcp" },
	{ "same backend id twice across VIPs",
	  FILE_VIP(VIP_OK ", " VIP(
		  "\"vip\": \"198.18.0.100:81/tcp\", "
		  "\"id\": 2, " F_BES(BE(F_ADDR F_WT F_BEID F_STATE)))),
	  "backend id 3 used twice in \"vips\", by backend 198.19.0.1 of VIP "
	  "198.18.0.100:80/tcp and backend 198.19.0.1 of VIP 198.18.0.100:81/tcp" },
	{ "bad config_vips",
	  FILE_(F_NEXT F_VIPS(VIP_OK) F_CVIPS(
		  VIP(F_VIP F_VIPID F_BES(BE(F_ADDR F_BEID F_STATE))))),
	  "weight" },
};

static void test_load_template(void **state)
{
	struct sl_state st, cfg;
	struct sl_be *be;

	(void)state;
	write_file(state_path, FILE_OK, 0600);
	load_ok(&st, &cfg);
	CHECK_INT(CHECK_HERE, st.n_vips, 1);
	CHECK_INT(CHECK_HERE, st.vips[0].id, 1);
	CHECK_INT(CHECK_HERE, st.vips[0].n_bes, 1);
	CHECK_INT(CHECK_HERE, st.next_be_id, 4);
	CHECK_INT(CHECK_HERE, st.cluster_rev, 0); /* a file from before it */
	be = &st.vips[0].bes[0];
	CHECK_INT(CHECK_HERE, be->id, 3);
	CHECK_INT(CHECK_HERE, be->weight, 100);
	CHECK_INT(CHECK_HERE, be->state, SL_BE_DRAINING);
	CHECK_INT(CHECK_HERE, be->drain_started, 1000);
	CHECK_INT(CHECK_HERE, be->drain_deadline, 2000);
	CHECK_INT(CHECK_HERE, be->health, SL_HEALTH_UNKNOWN);
	CHECK_INT(CHECK_HERE, be->flows, 0);
	CHECK_INT(CHECK_HERE, cfg.n_vips, 1);
	sl_state_free(&st);
	sl_state_free(&cfg);
}

/* One address on two ports is two VIPs, and one backend may serve both. */
static void test_load_same_addr_two_ports(void **state)
{
	struct sl_state st, cfg;

	(void)state;
	write_file(state_path, FILE_VIP(VIP_OK ", " VIP("\"vip\": \"198.18.0.100:81/tcp\", "
			"\"id\": 2, " F_BES(BE(F_ADDR F_WT "\"id\": 5, " F_STATE)))), 0600);
	load_ok(&st, &cfg);
	CHECK_INT(CHECK_HERE, st.n_vips, 2);
	sl_state_free(&st);
	sl_state_free(&cfg);
}

static void test_load_bad(void **state)
{
	struct sl_state st, cfg;
	size_t i, failed = 0;
	int rc;

	(void)state;
	/* Every case is tried; all that fail are listed. */
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		write_file(state_path, c->text, 0600);
		err[0] = '\0';
		memset(&st, 0xa5, sizeof(st));
		memset(&cfg, 0xa5, sizeof(cfg));
		rc = sl_state_load(state_path, &st, &cfg, err, sizeof(err));
		if (rc != -EINVAL) {
			print_error("case \"%s\": rc = %d (%s), expected %d\n",
				    c->name, rc, err, -EINVAL);
			failed++;
			if (!rc) {
				sl_state_free(&st);
				sl_state_free(&cfg);
			}
			continue;
		}
		if (!strstr(err, state_path) || !strstr(err, c->msg)) {
			print_error("case \"%s\": err = \"%s\", expected it to name %s and contain \"%s\"\n",
				    c->name, err, state_path, c->msg);
			failed++;
		}
		if (st.n_vips || st.vips || cfg.n_vips || cfg.vips) {
			print_error("case \"%s\": failed load left %zu VIPs / %zu config VIPs\n",
				    c->name, st.n_vips, cfg.n_vips);
			failed++;
		}
	}
	if (failed)
		fail_msg("%zu of %zu bad-file checks failed", failed,
			 ARRAY_SIZE(bad_cases));
}

static void test_from_config(void **state)
{
	struct sl_cfg_backend b1[3], b2[2], dup[2];
	struct sl_cfg_vip vips[2];
	struct sl_config cfg;
	struct sl_state st, saved, cfg2;
	struct sl_vip *v;
	size_t i;
	int rc;

	(void)state;
	sl_config_defaults(&cfg);
	memset(b1, 0, sizeof(b1));
	memset(b2, 0, sizeof(b2));
	memset(vips, 0, sizeof(vips));
	vips[0].vip = vip(V4);
	b1[0].addr = addr("198.19.0.1", &b1[0].family);
	b1[0].weight = 100;
	b1[1].addr = addr("198.19.0.2", &b1[1].family);
	b1[1].weight = 0;
	b1[2].addr = addr("fd00::1:3", &b1[2].family);
	b1[2].weight = 10000;
	vips[0].backends = b1;
	vips[0].n_backends = 3;
	vips[1].vip = vip(V6);
	b2[0].addr = addr("fd00::2:1", &b2[0].family);
	b2[0].weight = 1;
	b2[1].addr = addr("198.19.2.2", &b2[1].family);
	b2[1].weight = 2;
	vips[1].backends = b2;
	vips[1].n_backends = 2;
	cfg.vips = vips;
	cfg.n_vips = 2;

	rc = sl_state_from_config(&st, &cfg, err, sizeof(err));
	if (rc)
		fail_msg("sl_state_from_config: got %d (%s), expected 0", rc, err);
	CHECK_INT(CHECK_HERE, st.n_vips, 2);
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), 5);
	CHECK_INT(CHECK_HERE, st.next_be_id, 5);
	for (i = 0; i < 2; i++) {
		size_t j;

		v = &st.vips[i];
		CHECK_INT(CHECK_HERE, v->id, i);
		if (memcmp(&v->spec, &vips[i].vip, sizeof(v->spec)))
			fail_msg("vip[%zu] spec differs from the config", i);
		CHECK_INT(CHECK_HERE, v->n_bes, vips[i].n_backends);
		for (j = 0; j < v->n_bes; j++) {
			const struct sl_be *be = &v->bes[j];
			const struct sl_cfg_backend *cb = &vips[i].backends[j];

			CHECK_INT(CHECK_HERE, be->id, i * 3 + j);
			CHECK_INT(CHECK_HERE, be->family, cb->family);
			CHECK_INT(CHECK_HERE, memcmp(&be->addr, &cb->addr, sizeof(be->addr)), 0);
			CHECK_INT(CHECK_HERE, be->weight, cb->weight);
			CHECK_INT(CHECK_HERE, be->state, SL_BE_ACTIVE);
			CHECK_INT(CHECK_HERE, be->drain_deadline, 0);
			CHECK_INT(CHECK_HERE, be->timed_out, 0);
		}
	}
	/* It persists like any state. */
	save_ok(&st, &st);
	load_ok(&saved, &cfg2);
	check_persisted_eq("config state saved", &saved, &st);
	check_persisted_eq("config state saved as config_vips", &cfg2, &st);
	sl_state_free(&saved);
	sl_state_free(&cfg2);
	sl_state_free(&st);

	/* No VIPs: an empty state. */
	cfg.n_vips = 0;
	CHECK_INT(CHECK_HERE, sl_state_from_config(&st, &cfg, err, sizeof(err)), 0);
	CHECK_INT(CHECK_HERE, st.n_vips, 0);
	sl_state_free(&st);

	/* A duplicate backend: error, nothing left allocated. */
	dup[0] = b2[0];
	dup[1] = b2[0];
	vips[1].backends = dup;
	cfg.n_vips = 2;
	err[0] = '\0';
	rc = sl_state_from_config(&st, &cfg, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -EEXIST);
	CHECK_CONTAINS(CHECK_HERE, err, "already exists");
	CHECK_INT(CHECK_HERE, st.n_vips, 0);
	CHECK_INT(CHECK_HERE, st.vips == NULL, 1);

	/* A duplicate VIP. */
	vips[1].vip = vips[0].vip;
	vips[1].backends = b2;
	err[0] = '\0';
	rc = sl_state_from_config(&st, &cfg, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -EEXIST);
	CHECK_CONTAINS(CHECK_HERE, err, "already exists");
	CHECK_INT(CHECK_HERE, st.n_vips, 0);
}

static void test_from_config_limit(void **state)
{
	struct sl_cfg_backend *bes;
	struct sl_cfg_vip v;
	struct sl_config cfg;
	struct sl_state st;
	size_t i, n = SLUICE_MAX_BACKENDS + 1;
	int rc;

	(void)state;
	bes = calloc(n, sizeof(*bes));
	CHECK_NONNULL(CHECK_HERE, bes);
	for (i = 0; i < n; i++) {
		bes[i].family = SLUICE_AF_INET;
		bes[i].addr.addr[0] = htonl(0xc6130000 | i);	/* 198.19.x.y */
		bes[i].weight = 1;
	}
	sl_config_defaults(&cfg);
	memset(&v, 0, sizeof(v));
	v.vip = vip(V4);
	v.backends = bes;
	v.n_backends = n;
	cfg.vips = &v;
	cfg.n_vips = 1;
	err[0] = '\0';
	rc = sl_state_from_config(&st, &cfg, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, -ENOSPC);
	CHECK_CONTAINS(CHECK_HERE, err, "SLUICE_MAX_BACKENDS");
	CHECK_INT(CHECK_HERE, st.n_vips, 0);
	v.n_backends = n - 1;
	rc = sl_state_from_config(&st, &cfg, err, sizeof(err));
	CHECK_INT(CHECK_HERE, rc, 0);
	CHECK_INT(CHECK_HERE, sl_state_n_backends(&st), SLUICE_MAX_BACKENDS);
	sl_state_free(&st);
	free(bes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_roundtrip, each_setup),
		cmocka_unit_test_setup(test_roundtrip_empty, each_setup),
		cmocka_unit_test_setup(test_missing_file, each_setup),
		cmocka_unit_test_setup(test_atomic_write, each_setup),
		cmocka_unit_test_setup(test_write_fails, each_setup),
		cmocka_unit_test_setup(test_load_template, each_setup),
		cmocka_unit_test_setup(test_load_same_addr_two_ports, each_setup),
		cmocka_unit_test_setup(test_load_bad, each_setup),
		cmocka_unit_test_setup(test_from_config, each_setup),
		cmocka_unit_test_setup(test_from_config_limit, each_setup),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
