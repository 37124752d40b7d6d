/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The checks of the C tests (unit and BPF), over cmocka: each names its
 * case (a table row's label, or CHECK_HERE for file:line) and prints
 * actual vs expected before failing. Include after <cmocka.h>. cmocka's
 * bare assert_*() remain for preconditions that need no label.
 */
#ifndef SLUICE_TEST_CHECK_H
#define SLUICE_TEST_CHECK_H

#include <string.h>

#define CHECK_STR_(x)	#x
#define CHECK_STR2_(x)	CHECK_STR_(x)
/* A case label for checks that are not in a table: "file:line". */
#define CHECK_HERE	__FILE__ ":" CHECK_STR2_(__LINE__)

#define CHECK_INT(tc, actual, expected) do {					\
	long long a_ = (long long)(actual), e_ = (long long)(expected);		\
	if (a_ != e_) {								\
		print_error("case \"%s\": %s = %lld, expected %lld\n",		\
			    (tc), #actual, a_, e_);				\
		fail();								\
	}									\
} while (0)

#define CHECK_U64(tc, actual, expected)	CHECK_EQ(tc, #actual, actual, expected)

#define CHECK_STR(tc, actual, expected) do {					\
	const char *a_ = (actual), *e_ = (expected);				\
	if (!a_ || strcmp(a_, e_)) {						\
		print_error("case \"%s\": %s =\n\"%s\"\nexpected\n\"%s\"\n",	\
			    (tc), #actual, a_ ? a_ : "(null)", e_);		\
		fail();								\
	}									\
} while (0)

#define CHECK_CONTAINS(tc, actual, needle) do {					\
	const char *a_ = (actual), *n_ = (needle);				\
	if (!a_ || !strstr(a_, n_)) {						\
		print_error("case \"%s\": %s = \"%s\", expected it to contain \"%s\"\n", \
			    (tc), #actual, a_ ? a_ : "(null)", n_);		\
		fail();								\
	}									\
} while (0)

/* Integers, with what is compared named by @what (BPF counters, fields). */
#define CHECK_EQ(tc, what, actual, expected) do {				\
	unsigned long long a_ = (actual), e_ = (expected);			\
	if (a_ != e_) {								\
		print_error("case \"%s\": %s = %llu (%#llx), expected %llu (%#llx)\n", \
			    (tc), (what), a_, a_, e_, e_);			\
		fail();								\
	}									\
} while (0)

#define CHECK_TRUE(tc, what, cond) do {						\
	if (!(cond)) {								\
		print_error("case \"%s\": %s: not true: %s\n", (tc), (what),	\
			    #cond);						\
		fail();								\
	}									\
} while (0)

/*
 * A flow time read between @lo and @hi (the datapath's now before and
 * after the run), compared as the datapath does, modulo 2^32.
 */
#define CHECK_TIME_IN(tc, what, actual, lo, hi) do {				\
	__u32 a_ = (actual), l_ = (lo), h_ = (hi);				\
	if ((__s32)(a_ - l_) < 0 || (__s32)(h_ - a_) < 0) {			\
		print_error("case \"%s\": %s = %u ms, expected within [%u, %u]\n", \
			    (tc), (what), a_, l_, h_);				\
		fail();								\
	}									\
} while (0)

#endif /* SLUICE_TEST_CHECK_H */
