/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Time helpers for every layer: the monotonic clock in microseconds and
 * the milliseconds-to-timeval conversion that timers and timeouts go
 * through.  Includes nothing of the project.
 */

#ifndef BASE_CLOCK_H
#define BASE_CLOCK_H

#include <stdint.h>

struct timeval;

/* Monotonic time in microseconds (CLOCK_MONOTONIC); never fails. */
uint64_t	 clock_now_us(void);

/*
 * Fill tv (owned by the caller) with the duration ms (milliseconds).  Any
 * unsigned value fits.
 */
void		 clock_ms_tv(unsigned ms, struct timeval *tv);

#endif /* BASE_CLOCK_H */
