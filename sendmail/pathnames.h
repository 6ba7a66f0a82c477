/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/* Default paths; SYSCONFDIR comes from configure (--sysconfdir). */
#ifndef PATHNAMES_H
#define PATHNAMES_H

#define _PATH_SES_CONF	SYSCONFDIR "/ses-sendmail.conf"
#define _PATH_SES_TMP	"/tmp"

#endif
