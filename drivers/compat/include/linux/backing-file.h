/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Found only on kernels without <linux/backing-file.h> (before 6.8), whose
 * include directories come first: the stand-ins are in mmp_compat.h.
 */
#include "mmp_compat.h"
