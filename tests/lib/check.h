/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Table-friendly checks for cmocka tests: each names its case (a table
 * row's label, or CHECK_HERE for file:line) and prints actual vs expected
 * before failing. Include after <cmocka.h>.
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

#define CHECK_U64(tc, actual, expected) do {					\
	unsigned long long a_ = (actual), e_ = (expected);			\
	if (a_ != e_) {								\
		print_error("case \"%s\": %s = %llu, expected %llu\n",		\
			    (tc), #actual, a_, e_);				\
		fail();								\
	}									\
} while (0)

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

#endif /* SLUICE_TEST_CHECK_H */
