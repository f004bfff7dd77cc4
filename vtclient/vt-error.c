/* vt-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vt-error.h"

/**
 * vt_client_error_quark:
 *
 * The error domain of #VtClient.
 *
 * Returns: the #GQuark of %VT_CLIENT_ERROR
 */
G_DEFINE_QUARK (vt-client-error-quark, vt_client_error)
