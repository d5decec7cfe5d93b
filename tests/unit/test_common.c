// SPDX-License-Identifier: MIT OR Apache-2.0
/* The CLI's shared helpers (user/common.c) that need no kernel. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pktspec.h"

struct elem {
	uint32_t a, b;
};

TEST(grow_doubles_from_first_and_keeps_contents)
{
	struct elem *arr = NULL;
	size_t cap = 0;

	/* Nothing to hold: no allocation. */
	CHECK_EQ(pks_grow(&arr, &cap, 0, sizeof(*arr), 4), 0);
	CHECK(arr == NULL && cap == 0);
	/* The first room is `first`, then doubles until it holds what is asked. */
	CHECK_EQ(pks_grow(&arr, &cap, 1, sizeof(*arr), 4), 0);
	CHECK(arr != NULL);
	CHECK_EQ(cap, 4);
	for (uint32_t i = 0; i < 4; i++)
		arr[i] = (struct elem){ i, ~i };
	CHECK_EQ(pks_grow(&arr, &cap, 4, sizeof(*arr), 4), 0);
	CHECK_EQ(cap, 4);
	CHECK_EQ(pks_grow(&arr, &cap, 5, sizeof(*arr), 4), 0);
	CHECK_EQ(cap, 8);
	CHECK_EQ(pks_grow(&arr, &cap, 33, sizeof(*arr), 4), 0);
	CHECK_EQ(cap, 64);
	for (uint32_t i = 0; i < 4; i++)
		CHECK(arr[i].a == i && arr[i].b == ~i);
	arr[63] = (struct elem){ 63, 63 };
	free(arr);
}

TEST(grow_refuses_a_size_that_overflows_and_leaves_the_array)
{
	struct elem *arr = NULL, *was;
	size_t cap = 0;

	CHECK_EQ(pks_grow(&arr, &cap, 2, sizeof(*arr), 2), 0);
	was = arr;
	arr[1] = (struct elem){ 7, 8 };
	CHECK_EQ(pks_grow(&arr, &cap, SIZE_MAX / 4, sizeof(*arr), 2), -ENOMEM);
	CHECK(arr == was && cap == 2 && arr[1].a == 7 && arr[1].b == 8);
	CHECK_EQ(pks_grow(&arr, &cap, SIZE_MAX, 1, 2), -ENOMEM);
	CHECK(arr == was && cap == 2);
	free(arr);
}
