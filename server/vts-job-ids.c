/* vts-job-ids.c: job ids that tell whether this server issued them
 *
 * Retention deletes old jobs, and a GET on one must then say 410 Gone,
 * not 404: a list of every id ever deleted would grow without end. So
 * the ids carry the proof instead. An id is a UUIDv4 whose first ten
 * bytes are random (74 bits, the version and variant bits aside) and
 * whose last six are the start of HMAC-SHA256 (key, first ten bytes),
 * under a key kept in the database. An id the server does not hold but
 * that bears its mark was issued, and deleted since: gone. Anything
 * else was never a job here: not found. A made-up id passes for one of
 * ours once in 2^48. The ids still read as random UUIDv4 strings, as
 * docs/protocol.md promises; which ones could exist cannot be told
 * without the key.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-job-ids.h"

#include <string.h>

#define UUID_SIZE 16
#define NONCE_SIZE 10
#define TAG_SIZE (UUID_SIZE - NONCE_SIZE)

struct _VtsJobIds
{
  GHmac *hmac;  /* keyed, never updated: copied for each tag */
};

/* A fresh key, drawn from GLib's global generator like the ids
 * themselves (and like g_uuid_string_random()): a harness that seeds it
 * (the fuzzers) gets the same ids every run. */
GBytes *
vts_job_ids_new_key (void)
{
  guint32 key[VTS_JOB_IDS_KEY_SIZE / sizeof (guint32)];

  for (gsize i = 0; i < G_N_ELEMENTS (key); i++)
    key[i] = g_random_int ();

  return g_bytes_new (key, sizeof key);
}

VtsJobIds *
vts_job_ids_new (GBytes *key)
{
  VtsJobIds *self;
  gsize size;
  const guint8 *data = g_bytes_get_data (key, &size);

  g_return_val_if_fail (size == VTS_JOB_IDS_KEY_SIZE, NULL);

  self = g_new0 (VtsJobIds, 1);
  self->hmac = g_hmac_new (G_CHECKSUM_SHA256, data, size);

  return self;
}

void
vts_job_ids_free (VtsJobIds *self)
{
  if (self == NULL)
    return;

  g_hmac_unref (self->hmac);
  g_free (self);
}

static void
compute_tag (VtsJobIds    *self,
             const guint8  nonce[NONCE_SIZE],
             guint8        tag[TAG_SIZE])
{
  g_autoptr(GHmac) hmac = g_hmac_copy (self->hmac);
  guint8 digest[32];
  gsize length = sizeof digest;

  g_hmac_update (hmac, nonce, NONCE_SIZE);
  g_hmac_get_digest (hmac, digest, &length);
  memcpy (tag, digest, TAG_SIZE);
}

/* Returns: (transfer full): a new id, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
char *
vts_job_ids_issue (VtsJobIds *self)
{
  guint8 bytes[UUID_SIZE];
  guint32 random[3] = { g_random_int (), g_random_int (), g_random_int () };

  memcpy (bytes, random, NONCE_SIZE);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  /* version 4 */
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  /* variant 10 */
  compute_tag (self, bytes, bytes + NONCE_SIZE);

  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5],
                          bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
                          bytes[12], bytes[13], bytes[14], bytes[15]);
}

/* The bytes of a UUID written as this module writes them (lower case);
 * FALSE for anything else. */
static gboolean
parse_uuid (const char *id,
            guint8      bytes[UUID_SIZE])
{
  guint n = 0;

  if (id == NULL || !g_uuid_string_is_valid (id))
    return FALSE;

  for (const char *p = id; *p != '\0'; p++)
    {
      if (*p == '-')
        continue;
      if (g_ascii_isupper (*p))
        return FALSE;
      if (n % 2 == 0)
        bytes[n / 2] = (guint8) (g_ascii_xdigit_value (*p) << 4);
      else
        bytes[n / 2] |= (guint8) g_ascii_xdigit_value (*p);
      n++;
    }

  return n == 2 * UUID_SIZE;
}

/* TRUE when @id bears this key's mark: an id vts_job_ids_issue() made. */
gboolean
vts_job_ids_issued (VtsJobIds  *self,
                    const char *id)
{
  guint8 bytes[UUID_SIZE];
  guint8 tag[TAG_SIZE];

  if (!parse_uuid (id, bytes) || (bytes[6] & 0xf0) != 0x40 || (bytes[8] & 0xc0) != 0x80)
    return FALSE;

  compute_tag (self, bytes, tag);
  return memcmp (tag, bytes + NONCE_SIZE, TAG_SIZE) == 0;
}
