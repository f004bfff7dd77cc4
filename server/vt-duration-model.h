/* vt-duration-model.h: how long simulated jobs take
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VT_DURATION_FIXED,      /* a: seconds */
  VT_DURATION_UNIFORM,    /* [a, b) seconds */
  VT_DURATION_LOGNORMAL,  /* exp (N (a, b)) seconds */
} VtDurationKind;

typedef struct
{
  VtDurationKind kind;
  double         a;
  double         b;
} VtDurationModel;

/* The longest job the server accepts, in seconds: a year keeps every
 * ready time far from overflowing the monotonic clock. */
#define VT_DURATION_MAX (365.0 * 24 * 3600)

gboolean vt_duration_model_parse      (VtDurationModel       *model,
                                       const char            *spec,
                                       GError               **error);
double   vt_duration_model_sample     (const VtDurationModel *model,
                                       GRand                 *rand);

G_END_DECLS
