/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging: the core formats a line and hands it to the caller's sink; it
 * never writes anywhere itself. Each vimage has its own level, so a debug
 * trace can be switched on for the one vimage under study.
 */
#include <stdarg.h>
#include <stdio.h>

#include "kern.h"

void vlog_emit(const struct world *w, const struct vimage *vi, int level,
	       const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!w->log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	w->log_fn(w->log_ctx, level, vi, line);
}

void vimage_set_log_level(struct vimage *vi, int level)
{
	if (level < VLOG_ERR)
		level = VLOG_ERR;
	if (level > VLOG_DEBUG)
		level = VLOG_DEBUG;
	vi->log_level = (uint8_t)level;
}
