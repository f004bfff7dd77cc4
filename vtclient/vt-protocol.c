/* vt-protocol.c: the protocol, without I/O
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#include "vt-error.h"
#include "vt-protocol-private.h"

/* Checks @base_url and appends @path (already escaped) to it. */
GUri *
vt_protocol_build_uri (const char  *base_url,
                       const char  *path,
                       GError     **error)
{
  g_autoptr(GUri) base = NULL;
  g_autofree char *url = NULL;
  const char *scheme;
  gsize len;

  if (base_url == NULL || *base_url == '\0')
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL,
                           "No base URL is set");
      return NULL;
    }

  base = g_uri_parse (base_url, G_URI_FLAGS_ENCODED, NULL);
  scheme = base ? g_uri_get_scheme (base) : NULL;
  if (base == NULL ||
      (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) ||
      g_uri_get_host (base) == NULL || *g_uri_get_host (base) == '\0' ||
      g_uri_get_query (base) != NULL || g_uri_get_fragment (base) != NULL)
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL,
                   "“%s” is not an http or https base URL", base_url);
      return NULL;
    }

  len = strlen (base_url);
  while (len > 0 && base_url[len - 1] == '/')
    len--;
  url = g_strdup_printf ("%.*s%s", (int) len, base_url, path);

  return g_uri_parse (url, G_URI_FLAGS_ENCODED, error);
}

/* /status for the server's classic job (@job_id %NULL), /jobs/{id}
 * otherwise. */
GUri *
vt_protocol_job_uri (const char  *base_url,
                     const char  *job_id,
                     GError     **error)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (job_id == NULL)
    return vt_protocol_build_uri (base_url, "/status", error);

  if (*job_id == '\0')
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT,
                           "The job id is empty");
      return NULL;
    }

  escaped = g_uri_escape_string (job_id, NULL, FALSE);
  path = g_strconcat ("/jobs/", escaped, NULL);

  return vt_protocol_build_uri (base_url, path, error);
}

/* The job's own event stream; %NULL for the classic job, which has none. */
GUri *
vt_protocol_job_events_uri (const char *base_url,
                            const char *job_id)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (job_id == NULL)
    return NULL;

  escaped = g_uri_escape_string (job_id, NULL, FALSE);
  path = g_strconcat ("/jobs/", escaped, "/events", NULL);

  return vt_protocol_build_uri (base_url, path, NULL);
}

/* @uri with its query replaced by @query (encoded, nullable). */
GUri *
vt_protocol_with_query (GUri       *uri,
                        const char *query)
{
  return g_uri_build (G_URI_FLAGS_ENCODED,
                      g_uri_get_scheme (uri), g_uri_get_userinfo (uri),
                      g_uri_get_host (uri), g_uri_get_port (uri),
                      g_uri_get_path (uri), query, NULL);
}

/* @uri asking the server to hold the answer up to @wait seconds. */
GUri *
vt_protocol_long_poll_uri (GUri   *uri,
                           double  wait)
{
  char query[G_ASCII_DTOSTR_BUF_SIZE + 8];

  g_snprintf (query, sizeof query, "wait=%.3f", CLAMP (wait, 0.0, VT_PROTOCOL_MAX_WAIT));

  return vt_protocol_with_query (uri, query);
}

/* /feeds, or /feeds/{fid} followed by @tail ("/jobs", "/events", ""). */
GUri *
vt_protocol_feed_uri (const char *base_url,
                      const char *feed_id,
                      const char *tail)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (feed_id == NULL)
    return vt_protocol_build_uri (base_url, "/feeds", NULL);

  escaped = g_uri_escape_string (feed_id, NULL, FALSE);
  path = g_strconcat ("/feeds/", escaped, tail, NULL);

  return vt_protocol_build_uri (base_url, path, NULL);
}

/* The feed's long-poll: every event after @after, held up to @wait s. */
GUri *
vt_protocol_feed_wait_uri (const char *base_url,
                           const char *feed_id,
                           gint64      after,
                           double      wait)
{
  g_autoptr(GUri) uri = vt_protocol_feed_uri (base_url, feed_id, "");
  g_autofree char *query = NULL;

  if (uri == NULL)
    return NULL;

  query = g_strdup_printf ("after=%" G_GINT64_FORMAT "&wait=%.3f", after,
                           CLAMP (wait, 0.0, VT_PROTOCOL_MAX_WAIT));

  return vt_protocol_with_query (uri, query);
}

VtCapabilities
vt_protocol_parse_capabilities (const char *header)
{
  g_auto(GStrv) tokens = NULL;
  VtCapabilities caps = VT_CAPABILITY_NONE;

  if (header == NULL)
    return caps;

  tokens = g_strsplit (header, ",", -1);
  for (guint i = 0; tokens[i] != NULL; i++)
    {
      const char *token = g_strstrip (tokens[i]);

      if (g_ascii_strcasecmp (token, "hints") == 0)
        caps |= VT_CAPABILITY_HINTS;
      else if (g_ascii_strcasecmp (token, "long-poll") == 0)
        caps |= VT_CAPABILITY_LONG_POLL;
      else if (g_ascii_strcasecmp (token, "events") == 0)
        caps |= VT_CAPABILITY_EVENTS;
      else if (g_ascii_strcasecmp (token, "feeds") == 0)
        caps |= VT_CAPABILITY_FEEDS;
      else if (g_ascii_strcasecmp (token, "conditional") == 0)
        caps |= VT_CAPABILITY_CONDITIONAL;
    }

  return caps;
}

/*
 * vt_protocol_parse_retry_after:
 * @value: (nullable): a Retry-After header
 * @now: the current time, for the HTTP-date form
 *
 * Returns: the seconds to wait (>= 0), or -1 when absent or unreadable.
 */
double
vt_protocol_parse_retry_after (const char *value,
                               GDateTime  *now)
{
  g_autoptr(GDateTime) date = NULL;
  guint64 seconds;

  if (value == NULL)
    return -1.0;

  while (g_ascii_isspace (*value))
    value++;

  if (g_ascii_isdigit (*value))
    {
      char *end;

      seconds = g_ascii_strtoull (value, &end, 10);
      while (g_ascii_isspace (*end))
        end++;
      if (*end != '\0' || seconds > 86400)
        return -1.0;
      return (double) seconds;
    }

  date = soup_date_time_new_from_http_string (value);
  if (date == NULL)
    return -1.0;

  return MAX (0.0, g_date_time_difference (date, now) / (double) G_TIME_SPAN_SECOND);
}

/* The parameters of the first member of a structured-field list (RFC
 * 8941), `item;key=number;key=number`, as the rate-limit fields send
 * them: @n_keys keys looked up, their values set when found and
 * numbers >= 0. Returns %FALSE when the value is no such list. */
static gboolean
parse_first_member_params (const char         *value,
                           const char * const *keys,
                           double             *values,
                           guint               n_keys)
{
  const char *p = value;

  if (value == NULL)
    return FALSE;

  while (*p == ' ' || *p == '\t')
    p++;
  /* The item: a string or a token. */
  if (*p == '"')
    {
      for (p++; *p != '\0' && *p != '"'; p++)
        if (*p == '\\' && p[1] != '\0')
          p++;
      if (*p != '"')
        return FALSE;
      p++;
    }
  else
    /* strchr() finds the terminator too: test for it first. */
    while (*p != '\0' && (g_ascii_isalnum (*p) || strchr ("*_-.:/%", *p) != NULL))
      p++;

  while (*p == ';')
    {
      const char *key = ++p;
      gsize key_len;
      char *end;
      double number;

      while (*p == ' ')
        key = ++p;
      while (g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_' || *p == '-' ||
             *p == '.' || *p == '*')
        p++;
      key_len = p - key;
      if (*p != '=')
        continue;
      number = g_ascii_strtod (++p, &end);
      if (end == p)
        {
          /* Not a number (a string, a token): skip it. */
          while (*p != '\0' && *p != ';' && *p != ',')
            p++;
          continue;
        }
      p = end;
      for (guint i = 0; i < n_keys; i++)
        if (strlen (keys[i]) == key_len && strncmp (keys[i], key, key_len) == 0 &&
            isfinite (number) && number >= 0)
          values[i] = number;
    }

  return TRUE;
}

/* RateLimit-Policy: "default";q=50;w=1 (draft-ietf-httpapi-ratelimit-
 * headers-11): the quota of the first policy and its window. */
gboolean
vt_protocol_parse_ratelimit_policy (const char *value,
                                    double     *quota,
                                    double     *window)
{
  static const char * const keys[] = { "q", "w" };
  double values[] = { -1.0, -1.0 };

  if (!parse_first_member_params (value, keys, values, G_N_ELEMENTS (keys)) ||
      values[0] < 0)
    return FALSE;

  *quota = values[0];
  /* The draft's default window is one second. */
  *window = values[1] > 0 ? values[1] : 1.0;
  return TRUE;
}

/* RateLimit: "default";r=49;t=1: what is left and within what time. */
gboolean
vt_protocol_parse_ratelimit (const char *value,
                             double     *remaining,
                             double     *reset)
{
  static const char * const keys[] = { "r", "t" };
  double values[] = { -1.0, -1.0 };

  if (!parse_first_member_params (value, keys, values, G_N_ELEMENTS (keys)) ||
      values[0] < 0)
    return FALSE;

  *remaining = values[0];
  *reset = values[1];
  return TRUE;
}

/* Vt-Eta: 12.345;elapsed=3.210 (docs/protocol.md), what a 304 says of a
 * pending job's timing instead of the body's eta and elapsed: the eta,
 * >= 0, and the job's age, -1 when absent. */
gboolean
vt_protocol_parse_eta (const char *value,
                       double     *eta,
                       double     *elapsed)
{
  static const char * const keys[] = { "elapsed" };
  double values[] = { -1.0 };
  double number;
  char *end;

  if (value == NULL)
    return FALSE;

  while (*value == ' ' || *value == '\t')
    value++;
  if (!g_ascii_isdigit (*value))
    return FALSE;
  number = g_ascii_strtod (value, &end);
  /* A decimal (RFC 8941): digits and a point, none of strtod's hex or
   * exponents. */
  if (!isfinite (number) || (gsize) (end - value) != strspn (value, "0123456789.") ||
      (*end != '\0' && *end != ';' && *end != ' ' && *end != ','))
    return FALSE;
  if (!parse_first_member_params (value, keys, values, G_N_ELEMENTS (keys)))
    return FALSE;

  *eta = number;
  *elapsed = values[0];
  return TRUE;
}

gboolean
vt_protocol_is_redirect (guint http_status)
{
  return http_status == SOUP_STATUS_MOVED_PERMANENTLY ||
         http_status == SOUP_STATUS_FOUND ||
         http_status == SOUP_STATUS_SEE_OTHER ||
         http_status == SOUP_STATUS_TEMPORARY_REDIRECT ||
         http_status == SOUP_STATUS_PERMANENT_REDIRECT;
}

/* A redirect's Location resolved against the request; %NULL unless it
 * is an absolute http(s) URL with a host once resolved. */
GUri *
vt_protocol_redirect_target (GUri       *request_uri,
                             const char *location)
{
  g_autoptr(GUri) target = NULL;
  const char *scheme;

  if (location == NULL)
    return NULL;

  target = g_uri_parse_relative (request_uri, location, G_URI_FLAGS_ENCODED, NULL);
  scheme = target != NULL ? g_uri_get_scheme (target) : NULL;
  if (target == NULL || g_uri_get_host (target) == NULL || *g_uri_get_host (target) == '\0' ||
      (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0))
    return NULL;

  return g_steal_pointer (&target);
}

static int
effective_port (GUri *uri)
{
  int port = g_uri_get_port (uri);

  if (port != -1)
    return port;
  return g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
}

/* Same scheme, host and port: where a bearer token may go. */
gboolean
vt_protocol_same_origin (GUri *a,
                         GUri *b)
{
  return g_ascii_strcasecmp (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (a), g_uri_get_host (b)) == 0 &&
         effective_port (a) == effective_port (b);
}

static gboolean
is_transient_status (guint status)
{
  return status == SOUP_STATUS_REQUEST_TIMEOUT ||
         status == 425 /* Too Early */ ||
         status == 429 /* Too Many Requests */ ||
         (status >= 500 && status <= 599);
}

static const char *
not_found_message (VtRequestKind request)
{
  switch (request)
    {
    case VT_REQUEST_SUBMISSION:
      return "The server takes no jobs at this URL";
    case VT_REQUEST_FEED:
      return "The server does not know this feed";
    case VT_REQUEST_JOB:
    default:
      return "The server does not know this job";
    }
}

/*
 * vt_protocol_classify_status:
 * @reason: (nullable): the status line's reason phrase
 *
 * What an HTTP status means for @request: 2xx is %VT_EXCHANGE_OK, a
 * redirect status %VT_EXCHANGE_REDIRECT (the caller reads the Location),
 * 408, 425, 429 and 5xx %VT_EXCHANGE_TRANSIENT, any other status
 * %VT_EXCHANGE_FATAL: 404 and 410 as %VT_CLIENT_ERROR_NOT_FOUND, 401 and
 * 403 as %VT_CLIENT_ERROR_UNAUTHORIZED, the rest %VT_CLIENT_ERROR_HTTP.
 * A transient status comes with %VT_CLIENT_ERROR_UNREACHABLE, what a
 * watch reports if its budget runs out on it.
 */
VtExchangeKind
vt_protocol_classify_status (guint           http_status,
                             const char     *reason,
                             VtRequestKind   request,
                             GError        **error)
{
  if (reason == NULL)
    reason = "";

  if (SOUP_STATUS_IS_SUCCESSFUL (http_status))
    return VT_EXCHANGE_OK;

  if (vt_protocol_is_redirect (http_status))
    return VT_EXCHANGE_REDIRECT;

  if (http_status == SOUP_STATUS_NOT_FOUND || http_status == SOUP_STATUS_GONE)
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND,
                   "%s (HTTP %u)", not_found_message (request), http_status);
      return VT_EXCHANGE_FATAL;
    }

  if (http_status == SOUP_STATUS_UNAUTHORIZED || http_status == SOUP_STATUS_FORBIDDEN)
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNAUTHORIZED,
                   "The server refused the credentials (HTTP %u %s)", http_status, reason);
      return VT_EXCHANGE_FATAL;
    }

  if (is_transient_status (http_status))
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE,
                   "The server answered HTTP %u %s", http_status, reason);
      return VT_EXCHANGE_TRANSIENT;
    }

  g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_HTTP,
               request == VT_REQUEST_SUBMISSION ?
               "The server refused the job: HTTP %u %s" : "The server answered HTTP %u %s",
               http_status, reason);
  return VT_EXCHANGE_FATAL;
}

/*
 * vt_protocol_classify_failure:
 *
 * What a request that got no answer means: network trouble is worth
 * another try; a certificate we do not trust is not going to change
 * between two polls; our own refusals of a body (too large, say) are the
 * server's answer. Cancellation is the caller's to tell.
 */
VtExchangeKind
vt_protocol_classify_failure (const GError *error)
{
  if (error->domain == G_TLS_ERROR)
    return VT_EXCHANGE_FATAL;
  if (error->domain == VT_CLIENT_ERROR)
    return VT_EXCHANGE_PROTOCOL;
  return VT_EXCHANGE_TRANSIENT;
}
