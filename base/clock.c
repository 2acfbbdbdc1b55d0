/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The time helpers of base/clock.h: a monotonic microsecond clock and the
 * one milliseconds-to-timeval conversion.  No state; calls only libc.
 * Wall-clock time (time(NULL)) is not wrapped here: callers that need it
 * for certificate checks take it as a parameter.
 */

#include <sys/time.h>

#include <stdint.h>
#include <time.h>

#include "base/clock.h"

/* Monotonic microseconds.  See clock.h. */
uint64_t
clock_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* Milliseconds to a timeval.  See clock.h. */
void
clock_ms_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	/* Widen before multiplying: at most 999000, but keep it obvious. */
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}
