/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The checks of the C tests (unit and BPF), over cmocka: each names its
 * case (a table row's label, or CHECK_HERE for file:line) and prints
 * actual vs expected before failing. Include after <cmocka.h>. They are
 * the only checks: preconditions use them too, and cmocka's assert_*()
 * are not used (tests/package/test_units.sh fails the build on one).
 */
#ifndef SLUICE_TEST_CHECK_H
#define SLUICE_TEST_CHECK_H

#include <errno.h>
#include <stddef.h>
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

/* A condition that says what it checks: printed as written. */
#define CHECK(tc, cond)								\
	do {									\
		if (!(cond)) {							\
			print_error("case \"%s\": not true: %s\n", (tc),	\
				    #cond);					\
			fail();							\
		}								\
	} while (0)

#define CHECK_NOT(tc, cond)							\
	do {									\
		if (cond) {							\
			print_error("case \"%s\": not false: %s\n", (tc),	\
				    #cond);					\
			fail();							\
		}								\
	} while (0)

#define CHECK_INT_NE(tc, actual, unexpected)					\
	do {									\
		long long a_ = (long long)(actual),				\
			  u_ = (long long)(unexpected);				\
		if (a_ == u_) {							\
			print_error(						\
				"case \"%s\": %s = %lld, expected anything else\n", \
				(tc), #actual, a_);				\
			fail();							\
		}								\
	} while (0)

/*
 * A call's result that must not be negative (a file descriptor, a pid, a
 * byte count): on failure, errno as the call left it.
 */
#define CHECK_RC(tc, rc)							\
	do {									\
		long long r_ = (long long)(rc);					\
		int e_ = errno;							\
		if (r_ < 0) {							\
			print_error("case \"%s\": %s = %lld (errno %d: %s)\n",	\
				    (tc), #rc, r_, e_, strerror(e_));		\
			fail();							\
		}								\
	} while (0)

#define CHECK_NONNULL(tc, ptr)							\
	do {									\
		if (!(ptr)) {							\
			print_error("case \"%s\": %s is NULL\n", (tc), #ptr);	\
			fail();							\
		}								\
	} while (0)

#define CHECK_NULL(tc, ptr)							\
	do {									\
		const void *p_ = (ptr);						\
		if (p_) {							\
			print_error("case \"%s\": %s = %p, expected NULL\n",	\
				    (tc), #ptr, p_);				\
			fail();							\
		}								\
	} while (0)

#define CHECK_PTR(tc, actual, expected)						\
	do {									\
		const void *a_ = (actual), *e_ = (expected);			\
		if (a_ != e_) {							\
			print_error(						\
				"case \"%s\": %s = %p, expected %p (%s)\n",	\
				(tc), #actual, a_, e_, #expected);		\
			fail();							\
		}								\
	} while (0)

#define CHECK_STR_NE(tc, actual, unexpected)					\
	do {									\
		const char *a_ = (actual), *u_ = (unexpected);			\
		if (!a_ || !strcmp(a_, u_)) {					\
			print_error(						\
				"case \"%s\": %s = \"%s\", expected anything else\n", \
				(tc), #actual, a_ ? a_ : "(null)");		\
			fail();							\
		}								\
	} while (0)

/* The offset of the first byte where @a and @b differ, @len if none. */
static inline size_t check_mem_diff(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	for (i = 0; i < len && x[i] == y[i]; i++)
		;
	return i;
}

#define CHECK_MEM(tc, actual, expected, len)					\
	do {									\
		const unsigned char *a_ = (const void *)(actual);		\
		const unsigned char *e_ = (const void *)(expected);		\
		size_t l_ = (len), i_ = check_mem_diff(a_, e_, l_);		\
		if (i_ < l_) {							\
			print_error(						\
				"case \"%s\": %s differs from %s at byte %zu of %zu:" \
				" %#04x, expected %#04x\n",			\
				(tc), #actual, #expected, i_, l_, a_[i_],	\
				e_[i_]);					\
			fail();							\
		}								\
	} while (0)

#define CHECK_MEM_NE(tc, actual, unexpected, len)				\
	do {									\
		size_t l_ = (len);						\
		if (check_mem_diff((actual), (unexpected), l_) == l_) {		\
			print_error(						\
				"case \"%s\": %s equals %s (%zu bytes), expected" \
				" them to differ\n",				\
				(tc), #actual, #unexpected, l_);		\
			fail();							\
		}								\
	} while (0)

#endif /* SLUICE_TEST_CHECK_H */
