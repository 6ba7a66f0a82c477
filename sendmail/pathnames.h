/*
 * Copyright (c) 2026 The ses-sendmail authors
 * SPDX-License-Identifier: ISC
 */

/*
 * Default paths; SYSCONFDIR and LOCALSTATEDIR come from configure
 * (--sysconfdir, --localstatedir).
 */
#ifndef PATHNAMES_H
#define PATHNAMES_H

#define _PATH_SES_CONF	SYSCONFDIR "/ses-sendmail.conf"
#define _PATH_SES_TMP	"/tmp"
#define _PATH_SES_RATE	LOCALSTATEDIR "/lib/ses-sendmail/rate"

#endif
