/* vt-version-macros.h: symbol visibility and availability macros
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__VTCLIENT_INSIDE__) && !defined(VTCLIENT_COMPILATION)
#error "Only <vtclient.h> can be included directly."
#endif

#include <glib.h>

/* Every public symbol carries VT_AVAILABLE_IN_*; the library is built with
 * hidden default visibility, so anything without it stays internal. */
#if defined(_WIN32) || defined(__CYGWIN__)
# ifdef VTCLIENT_COMPILATION
#  define _VT_EXTERN __declspec(dllexport) extern
# else
#  define _VT_EXTERN __declspec(dllimport) extern
# endif
#elif defined(__GNUC__)
# define _VT_EXTERN __attribute__((visibility("default"))) extern
#else
# define _VT_EXTERN extern
#endif

/**
 * VT_MAJOR_VERSION:
 *
 * The major version of vtclient the application was compiled against.
 */
#define VT_MAJOR_VERSION (0)

/**
 * VT_MINOR_VERSION:
 *
 * The minor version of vtclient the application was compiled against.
 */
#define VT_MINOR_VERSION (1)

/**
 * VT_MICRO_VERSION:
 *
 * The micro version of vtclient the application was compiled against.
 */
#define VT_MICRO_VERSION (0)

/**
 * VT_VERSION_0_1:
 *
 * The encoded version number of the 0.1 API.
 */
#define VT_VERSION_0_1 (G_ENCODE_VERSION (0, 1))

/**
 * VT_CHECK_VERSION:
 * @major: required major version
 * @minor: required minor version
 * @micro: required micro version
 *
 * Compile-time check that the vtclient headers are at least the given version.
 *
 * Returns: %TRUE if the version is at least @major.@minor.@micro
 */
#define VT_CHECK_VERSION(major, minor, micro) \
  (VT_MAJOR_VERSION > (major) || \
   (VT_MAJOR_VERSION == (major) && VT_MINOR_VERSION > (minor)) || \
   (VT_MAJOR_VERSION == (major) && VT_MINOR_VERSION == (minor) && \
    VT_MICRO_VERSION >= (micro)))

/**
 * VT_AVAILABLE_IN_ALL:
 *
 * Marks a symbol available in every version of vtclient.
 */
#define VT_AVAILABLE_IN_ALL _VT_EXTERN

/**
 * VT_AVAILABLE_IN_0_1:
 *
 * Marks a symbol available since vtclient 0.1.
 */
#define VT_AVAILABLE_IN_0_1 _VT_EXTERN
