// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests for the fleet's pure parts: the desired-state document
 * (user/lib/desired.c), its key layout, and the etcd client's endpoint
 * list and base64 (user/lib/etcd.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "../lib/check.h"

#include "desired.h"
#include "etcd.h"

#define ERR_MAX 768

static const struct sl_desired_caps both = { true, true };

static int parse(const char *doc, const struct sl_desired_caps *caps,
		 struct sl_desired *d, char *err)
{
	err[0] = '\0';
	return sl_desired_parse(doc, strlen(doc), caps, d, err, ERR_MAX);
}

static void test_parse_valid(void **state)
{
	struct sl_desired d;
	char err[ERR_MAX];
	const struct sl_vip *v;

	(void)state;
	CHECK_INT(
		"valid",
		parse("{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": ["
		      "{\"address\": \"198.18.1.10\", \"weight\": 5, \"name\": \"web1\"},"
		      "{\"address\": \"fd00:1::10\", \"state\": \"draining\"}]},"
		      "{\"vip\": \"[fd00::100]:443/udp\"}],"
		      "\"boxes_drained\": [\"edge2\"]}",
		      &both, &d, err),
		0);
	CHECK_INT("vips", d.st.n_vips, 2);
	v = &d.st.vips[0];
	CHECK_INT("backends", v->n_bes, 2);
	CHECK_INT("weight", v->bes[0].weight, 5);
	CHECK_STR("name", v->bes[0].name, "web1");
	CHECK_INT("default weight", v->bes[1].weight, 100);
	CHECK_INT("active", v->bes[0].state, SL_BE_ACTIVE);
	CHECK_INT("draining", v->bes[1].state, SL_BE_DRAINING);
	CHECK_INT("empty VIP", d.st.vips[1].n_bes, 0);
	CHECK_INT("edge2 drained", sl_desired_box_drained(&d, "edge2"), 1);
	CHECK_INT("edge1 not", sl_desired_box_drained(&d, "edge1"), 0);
	sl_state_free(&d.st);
	CHECK_INT("empty fleet", parse("{\"vips\": []}", &both, &d, err), 0);
	CHECK_INT("no VIP", d.st.n_vips, 0);
	/* agent_port: a VIP's is inherited, a backend's 0 turns it off. */
	CHECK_INT(
		"agents",
		parse("{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"agent_port\": 9470,"
		      " \"backends\": [{\"address\": \"198.18.1.10\"},"
		      " {\"address\": \"198.18.1.11\", \"agent_port\": 0}]}]}",
		      &both, &d, err),
		0);
	CHECK_INT("VIP's agent port", d.st.vips[0].hc.agent_port, 9470);
	CHECK_INT("inherited", d.st.vips[0].bes[0].hc.agent_port, 9470);
	CHECK_INT("turned off", d.st.vips[0].bes[1].hc.agent_port, 0);
	sl_state_free(&d.st);
}

/* Each bad document is refused whole, with the field and the problem. */
static void test_parse_invalid(void **state)
{
	static const struct {
		const char *doc, *want;
		bool v4_only;
	} cases[] = {
		{ "", "not one JSON document", false },
		{ "{\"vips\": []} x", "trailing data", false },
		{ "[]", "expected an object", false },
		{ "{}", "\"vips\" is missing", false },
		{ "{\"vips\": [], \"extra\": 1}", "unknown key \"extra\"",
		  false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80\"}]}",
		  "vips[0]: ", false },
		{ "{\"vips\": [{\"backends\": []}]}",
		  "vips[0]: \"vip\" is missing", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\"}, {\"vip\": \"198.18.0.100:80/tcp\"}]}",
		  "vips[1]: 198.18.0.100:80/tcp VIP already exists", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"x\"}]}]}",
		  "vips[0].backends[0]: \"x\" is not a unicast", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"198.18.1.1\", \"weight\": 10001}]}]}",
		  "vips[0].backends[0]: weight must be an integer 0..10000",
		  false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"198.18.1.1\", \"weight\": \"5\"}]}]}",
		  "weight must be an integer", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"198.18.1.1\", \"state\": \"drained\"}]}]}",
		  "state must be \"active\" or \"draining\"", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"127.0.0.2\"}]}]}",
		  "loopback", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"198.18.1.1\"}, {\"address\": \"198.18.1.1\"}]}]}",
		  "vips[0].backends[1]: backend already exists", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"198.18.0.101\"}]},"
		  " {\"vip\": \"198.18.0.101:80/tcp\"}]}",
		  "vips[0].backends[0]: the backend is the address of a VIP",
		  false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"fd00::1\"}]}]}",
		  "IPv6 backend fd00::1, but this box has no encap.source_v6",
		  true },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"198.18.1.1\", \"wieght\": 1}]}]}",
		  "unknown key \"wieght\"", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"agent_port\": 70000}]}",
		  "vips[0]: agent_port must be an integer 0..65535", false },
		{ "{\"vips\": [{\"vip\": \"198.18.0.100:80/tcp\", \"backends\": [{\"address\": \"198.18.1.1\", \"agent_port\": \"9470\"}]}]}",
		  "vips[0].backends[0]: agent_port must be an integer", false },
		{ "{\"vips\": [], \"boxes_drained\": [\"a/b\"]}",
		  "boxes_drained[0]: box name", false },
	};
	const struct sl_desired_caps v4 = { true, false };
	struct sl_desired d;
	char err[ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(cases[i].doc,
			  parse(cases[i].doc, cases[i].v4_only ? &v4 : &both,
				&d, err),
			  -EINVAL);
		if (!strstr(err, cases[i].want)) {
			print_error("case %s: error \"%s\" lacks \"%s\"\n",
				    cases[i].doc, err, cases[i].want);
			fail();
		}
		CHECK_INT("nothing kept", d.st.n_vips, 0);
	}
}

/* format(parse(doc)) parses back to the same document. */
static void test_format_roundtrip(void **state)
{
	const char *doc =
		"{\"vips\": [{\"vip\": \"[fd00::100]:80/tcp\", \"agent_port\": 9470, \"backends\": ["
		"{\"address\": \"fd00:1::10\", \"weight\": 7, \"state\": \"draining\"},"
		"{\"address\": \"fd00:1::11\", \"agent_port\": 0}]}],"
		"\"boxes_drained\": [\"b1\", \"b2\"]}";
	struct sl_desired a, b;
	json_object *ja, *jb;
	char err[ERR_MAX];

	(void)state;
	CHECK_INT("parse", parse(doc, &both, &a, err), 0);
	ja = sl_desired_format(&a);
	CHECK_INT("reparse",
		  parse(json_object_to_json_string(ja), &both, &b, err), 0);
	jb = sl_desired_format(&b);
	CHECK_INT("same document", json_object_equal(ja, jb), 1);
	CHECK_INT("agent ports kept", b.st.vips[0].bes[0].hc.agent_port, 9470);
	CHECK_INT("agent off kept", b.st.vips[0].bes[1].hc.agent_port, 0);
	CHECK_INT("undrain b1", sl_desired_set_box_drained(&b, "b1", false), 0);
	CHECK_INT("b1 gone", sl_desired_box_drained(&b, "b1"), 0);
	CHECK_INT("b2 kept", sl_desired_box_drained(&b, "b2"), 1);
	CHECK_INT("drain twice is once",
		  sl_desired_set_box_drained(&b, "b2", true), 0);
	CHECK_INT("count", b.n_drained, 1);
	json_object_put(ja);
	json_object_put(jb);
	sl_state_free(&a.st);
	sl_state_free(&b.st);
}

static void test_keys(void **state)
{
	char k[SL_DESIRED_KEY_MAX], err[256];

	(void)state;
	sl_desired_key("/sluice/edge", k, sizeof(k));
	CHECK_STR("desired", k, "/sluice/edge/desired");
	sl_desired_boxes_key("/sluice/edge", k, sizeof(k));
	CHECK_STR("boxes", k, "/sluice/edge/boxes/");
	sl_desired_box_key("/sluice/edge", "edge-1", k, sizeof(k));
	CHECK_STR("box", k, "/sluice/edge/boxes/edge-1");
	CHECK_INT("prefix ok",
		  sl_desired_prefix_check("/sluice/edge", err, sizeof(err)), 0);
	CHECK_INT("trailing /",
		  sl_desired_prefix_check("/sluice/", err, sizeof(err)),
		  -EINVAL);
	CHECK_INT("//", sl_desired_prefix_check("/a//b", err, sizeof(err)),
		  -EINVAL);
	CHECK_INT("space", sl_desired_prefix_check("/a b", err, sizeof(err)),
		  -EINVAL);
	CHECK_INT("empty", sl_desired_prefix_check("", err, sizeof(err)),
		  -EINVAL);
	CHECK_INT("box ok",
		  sl_desired_box_check("edge-1.dc2", err, sizeof(err)), 0);
	CHECK_INT("box /", sl_desired_box_check("a/b", err, sizeof(err)),
		  -EINVAL);
	CHECK_INT("box empty", sl_desired_box_check("", err, sizeof(err)),
		  -EINVAL);
}

static void test_endpoints(void **state)
{
	struct sl_etcd_opts o;
	char err[512];

	(void)state;
	CHECK_INT("two",
		  sl_etcd_parse_endpoints(
			  "http://198.18.0.1:2379,https://[fd00::1]:2379", &o,
			  err, sizeof(err)),
		  0);
	CHECK_INT("count", o.n_endpoints, 2);
	CHECK_STR("second", o.endpoints[1], "https://[fd00::1]:2379");
	CHECK_INT("no scheme",
		  sl_etcd_parse_endpoints("198.18.0.1:2379", &o, err,
					  sizeof(err)),
		  -EINVAL);
	CHECK_INT("empty", sl_etcd_parse_endpoints("", &o, err, sizeof(err)),
		  -EINVAL);
	CHECK_INT("empty item",
		  sl_etcd_parse_endpoints("http://a:1,,http://b:2", &o, err,
					  sizeof(err)),
		  -EINVAL);
}

static void test_base64(void **state)
{
	static const char *const in[] = { "",	  "f",	   "fo",    "foo",
					  "foob", "fooba", "foobar" };
	static const char *const out[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"
	};
	size_t i, len;
	char *e, *d;

	(void)state;
	for (i = 0; i < 7; i++) { /* RFC 4648's test vectors */
		e = sl_b64_encode(in[i], strlen(in[i]));
		CHECK_STR(in[i], e, out[i]);
		d = sl_b64_decode(e, &len);
		CHECK_STR(out[i], d, in[i]);
		CHECK_INT(out[i], len, strlen(in[i]));
		free(e);
		free(d);
	}
	CHECK_INT("bad length", sl_b64_decode("Zm9", &len) == NULL, 1);
	CHECK_INT("bad char", sl_b64_decode("Zm!v", &len) == NULL, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests_name("desired", tests, NULL, NULL);
}
