/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Migration from the Go auth-proxy-server: translate its JSON config into
 * gridfront YAML (gridfront --import-aps).  Lives in conf/ as a config
 * translator; includes nothing of the project.
 */

#ifndef CONF_APS_H
#define CONF_APS_H

#include <stdio.h>

/*
 * Read the APS JSON config at path and write the equivalent gridfront
 * YAML to out, with "# TODO" comments where the translation is not exact.
 * Returns 0, or -1 with a "file:line:col: message" reason in err when the
 * file cannot be read or is not an APS config.
 */
int	 aps_import(const char *path, FILE *out, char *err, size_t errlen);

#endif /* CONF_APS_H */
