/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * String-literal lengths, for every layer (proxy/, auth/, conf/ may all
 * include it; it includes nothing).  A length written by hand next to a
 * literal drifts when the text is edited: conn_respond() bodies were sent
 * cut short twice that way (issue 11).  LIT_LEN() takes the length from
 * the literal itself, and the "" pasting makes anything but a string
 * literal a compile error, so a pointer can never slip in and yield
 * sizeof(char *) - 1.
 */

#ifndef BASE_LIT_H
#define BASE_LIT_H

/* Length of string literal s, without its NUL. */
#define LIT_LEN(s)	(sizeof("" s "") - 1)

#endif /* BASE_LIT_H */
