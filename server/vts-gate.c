/* vts-gate.c: who may send requests (--token, --rate-limit)
 *
 * Runs before faults and routes: a client without the bearer token gets a
 * 401 with WWW-Authenticate, then one over its rate a 429 with
 * Retry-After. Authentication comes first, so that requests nobody
 * authorized never use up a limit meant for those who are. GET /health
 * passes unconditionally, so that a health check needs no secret and
 * never starves. The token is compared in constant time and never
 * logged.
 *
 * Rate limiting is a token bucket per client address: it holds up to one
 * second's worth of requests (one at least) and refills continuously.
 * Every response of a limited route says so in the structured fields of
 * the IETF httpapi draft (draft-ietf-httpapi-ratelimit-headers-11):
 *
 *   RateLimit-Policy: "default";q=<bucket size>;w=<seconds to refill it>
 *   RateLimit: "default";r=<requests left now>;t=<seconds until one more>
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-gate.h"

#include "vts-response.h"

#include <math.h>
#include <string.h>

/* Past this many addresses, full buckets are forgotten: an address with
 * a full bucket behaves exactly like one never seen. */
#define MAX_IDLE_BUCKETS 1024

typedef struct
{
  double tokens;
  gint64 updated_us;
} Bucket;

struct _VtsGate
{
  GObject     parent_instance;

  char       *token;     /* nullable: no authentication */
  double      rate;      /* requests per second; 0: no limit */
  GHashTable *buckets;   /* client address → Bucket */
};

G_DEFINE_FINAL_TYPE (VtsGate, vts_gate, G_TYPE_OBJECT)

static void
vts_gate_finalize (GObject *object)
{
  VtsGate *self = VTS_GATE (object);

  if (self->token != NULL)
    explicit_bzero (self->token, strlen (self->token));
  g_free (self->token);
  g_hash_table_unref (self->buckets);

  G_OBJECT_CLASS (vts_gate_parent_class)->finalize (object);
}

static void
vts_gate_class_init (VtsGateClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vts_gate_finalize;
}

static void
vts_gate_init (VtsGate *self)
{
  self->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/*
 * vts_gate_new:
 * @token: (nullable): the bearer token every request must carry
 * @requests_per_second: per client address; 0 for no limit
 */
VtsGate *
vts_gate_new (const char *token,
             double      requests_per_second)
{
  VtsGate *self = g_object_new (VTS_TYPE_GATE, NULL);

  self->token = g_strdup (token);
  self->rate = MAX (requests_per_second, 0.0);

  return self;
}

/* "N/s", "N/m" or "N" (per second), N > 0 */
gboolean
vts_gate_parse_rate (const char  *text,
                    double      *requests_per_second,
                    GError     **error)
{
  char *end = NULL;
  double n = g_ascii_strtod (text, &end);
  double per = 1.0;

  if (end != text && g_strcmp0 (end, "/m") == 0)
    per = 60.0;
  else if (end == text || (*end != '\0' && strcmp (end, "/s") != 0))
    n = -1.0;

  if (!(n > 0.0 && isfinite (n)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--rate-limit “%s”: expected N/s or N/m, N > 0", text);
      return FALSE;
    }

  *requests_per_second = n / per;
  return TRUE;
}

/* Compares in time that depends on the lengths only, not on where the
 * first difference is. */
static gboolean
token_equal (const char *expected,
             const char *given,
             gsize       given_length)
{
  gsize length = strlen (expected);
  guchar difference = given_length != length;

  for (gsize i = 0; i < length; i++)
    difference |= (guchar) expected[i] ^ (guchar) (i < given_length ? given[i] : 0);

  return difference == 0;
}

static gboolean
is_authorized (VtsGate            *self,
               SoupServerMessage *msg)
{
  const char *authorization;

  if (self->token == NULL)
    return TRUE;

  authorization = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                "Authorization");
  if (authorization == NULL || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    return FALSE;

  authorization += 7;
  return token_equal (self->token, authorization, strlen (authorization));
}

static void
forget_full_buckets (VtsGate *self,
                     gint64  now_us)
{
  GHashTableIter iter;
  Bucket *bucket;

  g_hash_table_iter_init (&iter, self->buckets);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &bucket))
    {
      if (bucket->tokens + (now_us - bucket->updated_us) * self->rate / G_USEC_PER_SEC >=
          MAX (self->rate, 1.0))
        g_hash_table_iter_remove (&iter);
    }
}

/* Takes one token from @address's bucket; @left is what remains (a
 * fraction of a token included). */
static gboolean
take_token (VtsGate     *self,
            const char *address,
            double     *left)
{
  gint64 now = g_get_monotonic_time ();
  double capacity = MAX (self->rate, 1.0);
  Bucket *bucket;

  bucket = g_hash_table_lookup (self->buckets, address);
  if (bucket == NULL)
    {
      if (g_hash_table_size (self->buckets) >= MAX_IDLE_BUCKETS)
        forget_full_buckets (self, now);

      bucket = g_new0 (Bucket, 1);
      bucket->tokens = capacity;
      bucket->updated_us = now;
      g_hash_table_insert (self->buckets, g_strdup (address), bucket);
    }

  bucket->tokens = MIN (capacity, bucket->tokens +
                                  (now - bucket->updated_us) * self->rate / G_USEC_PER_SEC);
  bucket->updated_us = now;

  if (bucket->tokens >= 1.0)
    {
      bucket->tokens -= 1.0;
      *left = bucket->tokens;
      return TRUE;
    }

  *left = bucket->tokens;
  return FALSE;
}

/* The seconds until the whole token after @left is there: within them the
 * client can send no more than the floor of @left. */
static guint
seconds_until_next_token (VtsGate *self,
                          double   left)
{
  return (guint) MAX (1.0, ceil ((floor (left) + 1.0 - left) / self->rate));
}

/* The draft's two fields; the policy is the same on every response. */
static void
add_rate_limit_fields (VtsGate            *self,
                       SoupMessageHeaders *headers,
                       double              left,
                       guint               reset)
{
  double capacity = MAX (self->rate, 1.0);
  g_autofree char *policy = NULL;
  g_autofree char *limit = NULL;

  policy = g_strdup_printf ("\"default\";q=%u;w=%u", (guint) floor (capacity),
                            (guint) MAX (1.0, ceil (capacity / self->rate)));
  limit = g_strdup_printf ("\"default\";r=%u;t=%u", (guint) floor (left), reset);
  soup_message_headers_replace (headers, "RateLimit-Policy", policy);
  soup_message_headers_replace (headers, "RateLimit", limit);
}

/*
 * vts_gate_admit:
 *
 * Returns: %TRUE if @msg may go on; else it has been answered (429, 401)
 */
gboolean
vts_gate_admit (VtsGate            *self,
               SoupServerMessage *msg,
               const char        *path)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *address;
  double left = 0.0;
  guint reset;

  g_return_val_if_fail (VTS_IS_GATE (self), FALSE);

  if (g_strcmp0 (path, "/health") == 0)
    return TRUE;

  if (!is_authorized (self, msg))
    {
      vts_response_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                         "This server wants Authorization: Bearer <token>");
      soup_message_headers_replace (headers, "WWW-Authenticate", "Bearer realm=\"vt-server\"");
      return FALSE;
    }

  if (self->rate <= 0)
    return TRUE;

  address = soup_server_message_get_remote_host (msg);
  if (take_token (self, address != NULL ? address : "", &left))
    {
      add_rate_limit_fields (self, headers, left, seconds_until_next_token (self, left));
      return TRUE;
    }

  /* Retry-After is the end of the effective window, as the draft asks. */
  reset = seconds_until_next_token (self, left);
  vts_response_error (msg, VTS_HTTP_TOO_MANY_REQUESTS, "too-many-requests",
                     "Over %g requests per second", self->rate);
  add_rate_limit_fields (self, headers, left, reset);
  {
    g_autofree char *seconds = g_strdup_printf ("%u", reset);

    soup_message_headers_replace (headers, "Retry-After", seconds);
  }
  return FALSE;
}
