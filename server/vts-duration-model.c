/* vts-duration-model.c: how long simulated jobs take
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-duration-model.h"

#include <math.h>
#include <string.h>

static gboolean
parse_number (const char  *text,
              double      *value,
              const char  *spec,
              GError     **error)
{
  char *end = NULL;

  *value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (*value))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s”: “%s” is not a number", spec, text);
      return FALSE;
    }

  return TRUE;
}

/* "fixed:S", "uniform:A:B" or "lognormal:MU:SIGMA" */
gboolean
vts_duration_model_parse (VtsDurationModel  *model,
                         const char       *spec,
                         GError          **error)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", -1);
  guint n_parts = g_strv_length (parts);
  VtsDurationModel parsed = { 0, };

  if (n_parts == 2 && strcmp (parts[0], "fixed") == 0)
    {
      parsed.kind = VTS_DURATION_FIXED;
      if (!parse_number (parts[1], &parsed.a, spec, error))
        return FALSE;
    }
  else if (n_parts == 3 &&
           (strcmp (parts[0], "uniform") == 0 || strcmp (parts[0], "lognormal") == 0))
    {
      parsed.kind = parts[0][0] == 'u' ? VTS_DURATION_UNIFORM : VTS_DURATION_LOGNORMAL;
      if (!parse_number (parts[1], &parsed.a, spec, error) ||
          !parse_number (parts[2], &parsed.b, spec, error))
        return FALSE;
    }
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s”: expected fixed:S, uniform:A:B or lognormal:MU:SIGMA", spec);
      return FALSE;
    }

  if ((parsed.kind == VTS_DURATION_FIXED && (parsed.a < 0 || parsed.a > VTS_DURATION_MAX)) ||
      (parsed.kind == VTS_DURATION_UNIFORM &&
       (parsed.a < 0 || parsed.b < parsed.a || parsed.b > VTS_DURATION_MAX)) ||
      (parsed.kind == VTS_DURATION_LOGNORMAL && parsed.b < 0))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s”: durations must lie in [0, %.0f] seconds", spec, VTS_DURATION_MAX);
      return FALSE;
    }

  *model = parsed;
  return TRUE;
}

/* Box–Muller: one standard normal deviate from two uniform ones. */
static double
sample_standard_normal (GRand *rand)
{
  double u1 = 1.0 - g_rand_double (rand);  /* (0, 1]: log() stays finite */
  double u2 = g_rand_double (rand);

  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

/* Always draws the same number of values for a kind, so that with a seed
 * the sequence of jobs is reproducible. */
double
vts_duration_model_sample (const VtsDurationModel *model,
                          GRand                 *rand)
{
  double seconds;

  switch (model->kind)
    {
    case VTS_DURATION_UNIFORM:
      seconds = g_rand_double_range (rand, model->a, model->b);
      break;
    case VTS_DURATION_LOGNORMAL:
      seconds = exp (model->a + model->b * sample_standard_normal (rand));
      break;
    case VTS_DURATION_FIXED:
    default:
      seconds = model->a;
      break;
    }

  return CLAMP (seconds, 0.0, VTS_DURATION_MAX);
}
