/*
 * Plain-typed calls into Debian's libsrtp2. srtp2_bridge.c is the only file
 * that includes libsrtp2's header, whose names clash with libsrtp 3's; the
 * adapter includes this instead. Statuses are libsrtp2 srtp_err_status_t values.
 */
#ifndef DESKCAST_SRTP2_BRIDGE_H
#define DESKCAST_SRTP2_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

enum deskcast_srtp2_op {
  DESKCAST_SRTP2_PROTECT,
  DESKCAST_SRTP2_UNPROTECT,
  DESKCAST_SRTP2_PROTECT_RTCP,
  DESKCAST_SRTP2_UNPROTECT_RTCP
};

typedef void deskcast_srtp2_event_cb(void *session, uint32_t ssrc, int event);

int deskcast_srtp2_init(void);
int deskcast_srtp2_shutdown(void);
const char *deskcast_srtp2_version_string(void);
int deskcast_srtp2_install_event_handler(deskcast_srtp2_event_cb *cb);

/* 0 (both lengths 0) for profiles libsrtp2 does not know. */
void deskcast_srtp2_profile_lengths(int profile, size_t *key_len, size_t *salt_len);

/* key_salt: master key immediately followed by master salt, as libsrtp2 wants.
 * On success also returns the auth tag lengths the profile gives RTP and RTCP. */
int deskcast_srtp2_create(void **session, int ssrc_type, uint32_t ssrc_value, int profile,
                          const uint8_t *key_salt, unsigned long window_size,
                          int allow_repeat_tx, size_t *rtp_tag_len, size_t *rtcp_tag_len);
int deskcast_srtp2_dealloc(void *session);
int deskcast_srtp2_stream_remove(void *session, uint32_t ssrc_network_order);
void deskcast_srtp2_set_user_data(void *session, void *data);
void *deskcast_srtp2_get_user_data(void *session);

/* In place, libsrtp2 style: buf must have room for the trailer when protecting. */
int deskcast_srtp2_transform(void *session, enum deskcast_srtp2_op op, uint8_t *buf, int *len);

#endif
