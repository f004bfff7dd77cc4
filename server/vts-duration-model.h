/* vts-duration-model.h: how long simulated jobs take
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VTS_DURATION_FIXED,      /* a: seconds */
  VTS_DURATION_UNIFORM,    /* [a, b) seconds */
  VTS_DURATION_LOGNORMAL,  /* exp (N (a, b)) seconds */
} VtsDurationKind;

typedef struct
{
  VtsDurationKind kind;
  double         a;
  double         b;
} VtsDurationModel;

/* The longest job the server accepts, in seconds: a year keeps every
 * ready time far from overflowing the monotonic clock. */
#define VTS_DURATION_MAX (365.0 * 24 * 3600)

gboolean vts_duration_model_parse      (VtsDurationModel       *model,
                                       const char            *spec,
                                       GError               **error);
double   vts_duration_model_sample     (const VtsDurationModel *model,
                                       GRand                 *rand);

G_END_DECLS
