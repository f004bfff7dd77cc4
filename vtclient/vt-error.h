/* vt-error.h: the VT_CLIENT_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__VTCLIENT_INSIDE__) && !defined(VTCLIENT_COMPILATION)
#error "Only <vtclient.h> can be included directly."
#endif

#include <glib.h>

#include "vt-version-macros.h"

G_BEGIN_DECLS

/**
 * VT_CLIENT_ERROR:
 *
 * Error domain for #VtClient. Errors in this domain are from the
 * #VtClientError enumeration. See #GError for details on error domains.
 */
#define VT_CLIENT_ERROR (vt_client_error_quark ())

/**
 * VtClientError:
 * @VT_CLIENT_ERROR_INVALID_URL: the base URL is missing or is not an absolute
 *   http(s) URL
 * @VT_CLIENT_ERROR_INVALID_ARGUMENT: an argument was refused before any request
 *   (an empty job id, say)
 * @VT_CLIENT_ERROR_NOT_FOUND: the server does not know the job (HTTP 404)
 * @VT_CLIENT_ERROR_PROTOCOL: the server answered with something that is not the
 *   expected JSON: a body that does not parse, a missing or unknown status, an
 *   oversized body
 * @VT_CLIENT_ERROR_UNREACHABLE: the server stayed unreachable (network errors,
 *   5xx, 429) until the budget ran out
 * @VT_CLIENT_ERROR_UNAUTHORIZED: the server refused the credentials (HTTP 401
 *   or 403)
 * @VT_CLIENT_ERROR_HTTP: the server answered with another HTTP error status
 *
 * Error codes of the %VT_CLIENT_ERROR domain.
 */
typedef enum {
  VT_CLIENT_ERROR_INVALID_URL,
  VT_CLIENT_ERROR_INVALID_ARGUMENT,
  VT_CLIENT_ERROR_NOT_FOUND,
  VT_CLIENT_ERROR_PROTOCOL,
  VT_CLIENT_ERROR_UNREACHABLE,
  VT_CLIENT_ERROR_UNAUTHORIZED,
  VT_CLIENT_ERROR_HTTP,
} VtClientError;

VT_AVAILABLE_IN_ALL
GQuark vt_client_error_quark (void);

G_END_DECLS
