/* See srtp2_bridge.h: thin forwarding to Debian's libsrtp2. */
#include "srtp2_bridge.h"

#include <srtp2/srtp.h>
#include <string.h>

static deskcast_srtp2_event_cb *event_cb;

static void on_srtp2_event(srtp_event_data_t *data)
{
  if (event_cb)
    event_cb(data->session, data->ssrc, (int)data->event);
}

int deskcast_srtp2_init(void) { return srtp_init(); }
int deskcast_srtp2_shutdown(void) { return srtp_shutdown(); }
const char *deskcast_srtp2_version_string(void) { return srtp_get_version_string(); }

int deskcast_srtp2_install_event_handler(deskcast_srtp2_event_cb *cb)
{
  event_cb = cb;
  return srtp_install_event_handler(cb ? on_srtp2_event : NULL);
}

void deskcast_srtp2_profile_lengths(int profile, size_t *key_len, size_t *salt_len)
{
  *key_len = srtp_profile_get_master_key_length((srtp_profile_t)profile);
  *salt_len = srtp_profile_get_master_salt_length((srtp_profile_t)profile);
  if (*key_len == 0 || *salt_len == 0)
    *key_len = *salt_len = 0;
}

int deskcast_srtp2_create(void **session, int ssrc_type, uint32_t ssrc_value, int profile,
                          const uint8_t *key_salt, unsigned long window_size,
                          int allow_repeat_tx, size_t *rtp_tag_len, size_t *rtcp_tag_len)
{
  srtp_policy_t policy;
  srtp_err_status_t err;
  srtp_t ctx = NULL;

  memset(&policy, 0, sizeof policy);
  policy.ssrc.type = (srtp_ssrc_type_t)ssrc_type;
  policy.ssrc.value = ssrc_value;
  err = srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, (srtp_profile_t)profile);
  if (err == srtp_err_status_ok)
    err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, (srtp_profile_t)profile);
  if (err != srtp_err_status_ok)
    return err;
  policy.key = (unsigned char *)key_salt; /* libsrtp2 copies the key material */
  policy.window_size = window_size;
  policy.allow_repeat_tx = allow_repeat_tx;
  policy.next = NULL;

  err = srtp_create(&ctx, &policy);
  if (err != srtp_err_status_ok)
    return err;
  *session = ctx;
  *rtp_tag_len = (size_t)policy.rtp.auth_tag_len;
  *rtcp_tag_len = (size_t)policy.rtcp.auth_tag_len;
  return srtp_err_status_ok;
}

int deskcast_srtp2_dealloc(void *session) { return srtp_dealloc((srtp_t)session); }

int deskcast_srtp2_stream_remove(void *session, uint32_t ssrc_network_order)
{
  return srtp_remove_stream((srtp_t)session, ssrc_network_order); /* libsrtp 3 renamed it */
}

void deskcast_srtp2_set_user_data(void *session, void *data) { srtp_set_user_data((srtp_t)session, data); }
void *deskcast_srtp2_get_user_data(void *session) { return srtp_get_user_data((srtp_t)session); }

int deskcast_srtp2_transform(void *session, enum deskcast_srtp2_op op, uint8_t *buf, int *len)
{
  srtp_t ctx = (srtp_t)session;

  switch (op) {
  case DESKCAST_SRTP2_PROTECT: return srtp_protect(ctx, buf, len);
  case DESKCAST_SRTP2_UNPROTECT: return srtp_unprotect(ctx, buf, len);
  case DESKCAST_SRTP2_PROTECT_RTCP: return srtp_protect_rtcp(ctx, buf, len);
  case DESKCAST_SRTP2_UNPROTECT_RTCP: return srtp_unprotect_rtcp(ctx, buf, len);
  }
  return srtp_err_status_bad_param;
}
