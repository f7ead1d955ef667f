/* SPDX-License-Identifier: BSD-2-Clause */
/* Names for the wire layer's parse errors, for logs and counters. */
#include "wire/wire.h"

const char *wire_strerror(int err)
{
	switch (err) {
	case WIRE_OK:
		return "ok";
	case WIRE_ETRUNC:
		return "truncated";
	case WIRE_EBADLEN:
		return "inconsistent length field";
	case WIRE_ECKSUM:
		return "bad checksum";
	case WIRE_EVERSION:
		return "wrong IP version";
	case WIRE_EOPTION:
		return "malformed option";
	case WIRE_EUNSUPP:
		return "unsupported variant";
	case WIRE_EFIELD:
		return "forbidden field value";
	}
	return "unknown wire error";
}
