/*
 * libsrtp 3 API (srtp3/srtp.h) over Debian's libsrtp2, through srtp2_bridge.c.
 * Covers what mediasoup uses: one master key, no MKI, no cryptex, any-SSRC
 * templates. libsrtp 3 writes into a separate output buffer with size_t
 * lengths; libsrtp2 works in place with int lengths: so copy, then transform.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "srtp3/srtp.h"
#include "srtp2_bridge.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY_SALT_LEN 64 /* AES-256 key (32) + salt (14) fits */
#define SRTCP_INDEX_LEN 4   /* E flag + 31-bit SRTCP index */

struct srtp_policy_ctx_t_ {
  srtp_ssrc_t ssrc;
  srtp_profile_t profile;
  size_t key_len, salt_len; /* expected by the profile */
  uint8_t key_salt[MAX_KEY_SALT_LEN];
  bool has_key;
  size_t window_size;
  bool allow_repeat_tx;
};

/* Per session, kept in libsrtp2's user data: what the output needs beyond the input. */
struct session_info {
  size_t rtp_trailer_len, rtcp_trailer_len;
};

static srtp_event_handler_func_t *user_event_handler;

static void on_event(void *session, uint32_t ssrc, int event)
{
  srtp_event_data_t data;

  data.session = (srtp_t)session;
  data.ssrc = ssrc;
  data.event = (srtp_event_t)event;
  if (user_event_handler)
    user_event_handler(&data);
}

srtp_err_status_t srtp_init(void) { return (srtp_err_status_t)deskcast_srtp2_init(); }
srtp_err_status_t srtp_shutdown(void) { return (srtp_err_status_t)deskcast_srtp2_shutdown(); }
const char *srtp_get_version_string(void) { return deskcast_srtp2_version_string(); }

srtp_err_status_t srtp_install_event_handler(srtp_event_handler_func_t func)
{
  user_event_handler = func;
  return (srtp_err_status_t)deskcast_srtp2_install_event_handler(func ? on_event : NULL);
}

size_t srtp_profile_get_master_key_length(srtp_profile_t profile)
{
  size_t key_len, salt_len;

  deskcast_srtp2_profile_lengths((int)profile, &key_len, &salt_len);
  return key_len;
}

size_t srtp_profile_get_master_salt_length(srtp_profile_t profile)
{
  size_t key_len, salt_len;

  deskcast_srtp2_profile_lengths((int)profile, &key_len, &salt_len);
  return salt_len;
}

srtp_err_status_t srtp_policy_create(srtp_policy_t *policy)
{
  if (!policy)
    return srtp_err_status_bad_param;
  *policy = calloc(1, sizeof **policy);
  if (!*policy)
    return srtp_err_status_alloc_fail;
  (*policy)->window_size = 128; /* libsrtp's default */
  return srtp_err_status_ok;
}

void srtp_policy_destroy(srtp_policy_t policy)
{
  if (!policy)
    return;
  explicit_bzero(policy->key_salt, sizeof policy->key_salt); /* no keys left in freed memory */
  free(policy);
}

srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc)
{
  if (!policy)
    return srtp_err_status_bad_param;
  policy->ssrc = ssrc;
  return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile)
{
  size_t key_len, salt_len;

  if (!policy)
    return srtp_err_status_bad_param;
  deskcast_srtp2_profile_lengths((int)profile, &key_len, &salt_len);
  if (key_len == 0 || key_len + salt_len > MAX_KEY_SALT_LEN)
    return srtp_err_status_bad_param;
  policy->profile = profile;
  policy->key_len = key_len;
  policy->salt_len = salt_len;
  return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_add_key(srtp_policy_t policy,
                                      const uint8_t *key, size_t key_len,
                                      const uint8_t *salt, size_t salt_len,
                                      const uint8_t *mki, size_t mki_len)
{
  /* The profile must be set first: it fixes the lengths. */
  if (!policy || policy->key_len == 0 || policy->has_key || !key || !salt)
    return srtp_err_status_bad_param;
  if (mki || mki_len)
    return srtp_err_status_bad_mki; /* MKI: not supported by this adapter */
  if (key_len != policy->key_len || salt_len != policy->salt_len)
    return srtp_err_status_bad_param;
  memcpy(policy->key_salt, key, key_len);
  memcpy(policy->key_salt + key_len, salt, salt_len);
  policy->has_key = true;
  return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy, size_t window_size)
{
  if (!policy)
    return srtp_err_status_bad_param;
  policy->window_size = window_size; /* libsrtp2 checks the range in srtp_create */
  return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow)
{
  if (!policy)
    return srtp_err_status_bad_param;
  policy->allow_repeat_tx = allow;
  return srtp_err_status_ok;
}

srtp_err_status_t srtp_create(srtp_t *session, const srtp_policy_t policy)
{
  struct session_info *info;
  size_t rtp_tag_len = 0, rtcp_tag_len = 0;
  void *ctx = NULL;
  int err;

  if (!session || !policy || !policy->has_key)
    return srtp_err_status_bad_param;
  info = calloc(1, sizeof *info);
  if (!info)
    return srtp_err_status_alloc_fail;
  err = deskcast_srtp2_create(&ctx, (int)policy->ssrc.type, policy->ssrc.value, (int)policy->profile,
                              policy->key_salt, (unsigned long)policy->window_size,
                              policy->allow_repeat_tx ? 1 : 0, &rtp_tag_len, &rtcp_tag_len);
  if (err != srtp_err_status_ok) {
    free(info);
    return (srtp_err_status_t)err;
  }
  info->rtp_trailer_len = rtp_tag_len;
  info->rtcp_trailer_len = SRTCP_INDEX_LEN + rtcp_tag_len;
  deskcast_srtp2_set_user_data(ctx, info);
  *session = (srtp_t)ctx;
  return srtp_err_status_ok;
}

srtp_err_status_t srtp_dealloc(srtp_t session)
{
  if (!session)
    return srtp_err_status_bad_param;
  free(deskcast_srtp2_get_user_data(session));
  deskcast_srtp2_set_user_data(session, NULL);
  return (srtp_err_status_t)deskcast_srtp2_dealloc(session);
}

srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
  if (!session)
    return srtp_err_status_bad_param;
  return (srtp_err_status_t)deskcast_srtp2_stream_remove(session, ssrc);
}

/* Copy `in` into `out` (capacity *out_len), transform it there in place. */
static srtp_err_status_t transform(srtp_t session, enum deskcast_srtp2_op op,
                                   const uint8_t *in, size_t in_len,
                                   uint8_t *out, size_t *out_len)
{
  const struct session_info *info;
  size_t trailer_len = 0;
  int len;
  int err;

  if (!session || !in || !out || !out_len)
    return srtp_err_status_bad_param;
  info = deskcast_srtp2_get_user_data(session);
  if (!info)
    return srtp_err_status_bad_param;
  if (op == DESKCAST_SRTP2_PROTECT)
    trailer_len = info->rtp_trailer_len;
  else if (op == DESKCAST_SRTP2_PROTECT_RTCP)
    trailer_len = info->rtcp_trailer_len;
  if (in_len > (size_t)INT_MAX - trailer_len)
    return srtp_err_status_bad_param;
  /* Unprotecting also needs room for the whole input: libsrtp2 works in place. */
  if (*out_len < in_len + trailer_len)
    return srtp_err_status_buffer_small;

  if (out != in)
    memmove(out, in, in_len);
  len = (int)in_len;
  err = deskcast_srtp2_transform(session, op, out, &len);
  if (err != srtp_err_status_ok)
    return (srtp_err_status_t)err;
  *out_len = (size_t)len;
  return srtp_err_status_ok;
}

srtp_err_status_t srtp_protect(srtp_t ctx, const uint8_t *rtp, size_t rtp_len,
                               uint8_t *srtp, size_t *srtp_len, size_t mki_index)
{
  (void)mki_index;
  return transform(ctx, DESKCAST_SRTP2_PROTECT, rtp, rtp_len, srtp, srtp_len);
}

srtp_err_status_t srtp_unprotect(srtp_t ctx, const uint8_t *srtp, size_t srtp_len,
                                 uint8_t *rtp, size_t *rtp_len)
{
  return transform(ctx, DESKCAST_SRTP2_UNPROTECT, srtp, srtp_len, rtp, rtp_len);
}

srtp_err_status_t srtp_protect_rtcp(srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len,
                                    uint8_t *srtcp, size_t *srtcp_len, size_t mki_index)
{
  (void)mki_index;
  return transform(ctx, DESKCAST_SRTP2_PROTECT_RTCP, rtcp, rtcp_len, srtcp, srtcp_len);
}

srtp_err_status_t srtp_unprotect_rtcp(srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len,
                                      uint8_t *rtcp, size_t *rtcp_len)
{
  return transform(ctx, DESKCAST_SRTP2_UNPROTECT_RTCP, srtcp, srtcp_len, rtcp, rtcp_len);
}
