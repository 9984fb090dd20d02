/*
 * The part of the libsrtp 3 API that mediasoup 3.27 calls (src/DepLibSRTP.cpp,
 * src/RTC/SrtpSession.cpp), implemented by srtp3_adapter.c over Debian's
 * libsrtp2: libsrtp 3 is not packaged, and mediasoup's wrap downloads a fork.
 *
 * libsrtp2 exports functions with these very names but other signatures, so
 * each one here is bound to a "deskcast_"-prefixed symbol (asm label): callers
 * keep the libsrtp 3 names, the linker never mixes the two libraries up.
 * Enum values are libsrtp 3's (equal to libsrtp2's where both define them).
 */
#ifndef DESKCAST_SRTP3_SRTP_H
#define DESKCAST_SRTP3_SRTP_H

#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define SRTP_MAX_TAG_LEN 16
#define SRTP_MAX_MKI_LEN 128
#define SRTP_MAX_TRAILER_LEN (SRTP_MAX_TAG_LEN + SRTP_MAX_MKI_LEN)

typedef enum {
  srtp_err_status_ok = 0,
  srtp_err_status_fail = 1,
  srtp_err_status_bad_param = 2,
  srtp_err_status_alloc_fail = 3,
  srtp_err_status_dealloc_fail = 4,
  srtp_err_status_init_fail = 5,
  srtp_err_status_terminus = 6,
  srtp_err_status_auth_fail = 7,
  srtp_err_status_cipher_fail = 8,
  srtp_err_status_replay_fail = 9,
  srtp_err_status_replay_old = 10,
  srtp_err_status_algo_fail = 11,
  srtp_err_status_no_such_op = 12,
  srtp_err_status_no_ctx = 13,
  srtp_err_status_cant_check = 14,
  srtp_err_status_key_expired = 15,
  srtp_err_status_socket_err = 16,
  srtp_err_status_signal_err = 17,
  srtp_err_status_nonce_bad = 18,
  srtp_err_status_read_fail = 19,
  srtp_err_status_write_fail = 20,
  srtp_err_status_parse_err = 21,
  srtp_err_status_encode_err = 22,
  srtp_err_status_semaphore_err = 23,
  srtp_err_status_pfkey_err = 24,
  srtp_err_status_bad_mki = 25,
  srtp_err_status_pkt_idx_old = 26,
  srtp_err_status_pkt_idx_adv = 27,
  srtp_err_status_buffer_small = 28, /* libsrtp 3 only */
  srtp_err_status_cryptex_err = 29   /* libsrtp 3 only; never returned here */
} srtp_err_status_t;

typedef enum {
  srtp_profile_reserved = 0,
  srtp_profile_aes128_cm_sha1_80 = 1,
  srtp_profile_aes128_cm_sha1_32 = 2,
  srtp_profile_null_sha1_80 = 5,
  srtp_profile_null_sha1_32 = 6,
  srtp_profile_aead_aes_128_gcm = 7,
  srtp_profile_aead_aes_256_gcm = 8
} srtp_profile_t;

typedef enum {
  ssrc_undefined = 0,
  ssrc_specific = 1,
  ssrc_any_inbound = 2,
  ssrc_any_outbound = 3
} srtp_ssrc_type_t;

typedef struct {
  srtp_ssrc_type_t type;
  uint32_t value;
} srtp_ssrc_t;

typedef struct srtp_ctx_t_ srtp_ctx_t;
typedef srtp_ctx_t *srtp_t;
typedef struct srtp_policy_ctx_t_ *srtp_policy_t;

typedef enum {
  event_ssrc_collision,
  event_key_soft_limit,
  event_key_hard_limit,
  event_packet_index_limit
} srtp_event_t;

typedef struct srtp_event_data_t {
  srtp_t session;
  uint32_t ssrc;
  srtp_event_t event;
} srtp_event_data_t;

typedef void(srtp_event_handler_func_t)(srtp_event_data_t *data);

#define DESKCAST_SRTP3_SYMBOL(name) __asm__("deskcast_" #name)

srtp_err_status_t srtp_init(void) DESKCAST_SRTP3_SYMBOL(srtp_init);
srtp_err_status_t srtp_shutdown(void) DESKCAST_SRTP3_SYMBOL(srtp_shutdown);
const char *srtp_get_version_string(void) DESKCAST_SRTP3_SYMBOL(srtp_get_version_string);
srtp_err_status_t srtp_install_event_handler(srtp_event_handler_func_t func)
    DESKCAST_SRTP3_SYMBOL(srtp_install_event_handler);

size_t srtp_profile_get_master_key_length(srtp_profile_t profile)
    DESKCAST_SRTP3_SYMBOL(srtp_profile_get_master_key_length);
size_t srtp_profile_get_master_salt_length(srtp_profile_t profile)
    DESKCAST_SRTP3_SYMBOL(srtp_profile_get_master_salt_length);

srtp_err_status_t srtp_policy_create(srtp_policy_t *policy) DESKCAST_SRTP3_SYMBOL(srtp_policy_create);
void srtp_policy_destroy(srtp_policy_t policy) DESKCAST_SRTP3_SYMBOL(srtp_policy_destroy);
srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc)
    DESKCAST_SRTP3_SYMBOL(srtp_policy_set_ssrc);
srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile)
    DESKCAST_SRTP3_SYMBOL(srtp_policy_set_profile);
/* One master key only: mki must be NULL and mki_len 0 (mediasoup uses no MKI). */
srtp_err_status_t srtp_policy_add_key(srtp_policy_t policy,
                                      const uint8_t *key, size_t key_len,
                                      const uint8_t *salt, size_t salt_len,
                                      const uint8_t *mki, size_t mki_len)
    DESKCAST_SRTP3_SYMBOL(srtp_policy_add_key);
srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy, size_t window_size)
    DESKCAST_SRTP3_SYMBOL(srtp_policy_set_window_size);
srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy, bool allow)
    DESKCAST_SRTP3_SYMBOL(srtp_policy_set_allow_repeat_tx);

srtp_err_status_t srtp_create(srtp_t *session, const srtp_policy_t policy)
    DESKCAST_SRTP3_SYMBOL(srtp_create);
srtp_err_status_t srtp_dealloc(srtp_t session) DESKCAST_SRTP3_SYMBOL(srtp_dealloc);
/* ssrc in network byte order, as in libsrtp. */
srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
    DESKCAST_SRTP3_SYMBOL(srtp_stream_remove);

/*
 * libsrtp 3 semantics: read `len` bytes from the input, write the result to
 * the output buffer, whose capacity is passed in *out_len and whose used
 * length is returned there. Too small an output buffer gives
 * srtp_err_status_buffer_small. Input and output may be the same buffer.
 * mki_index is ignored (no MKI).
 */
srtp_err_status_t srtp_protect(srtp_t ctx, const uint8_t *rtp, size_t rtp_len,
                               uint8_t *srtp, size_t *srtp_len, size_t mki_index)
    DESKCAST_SRTP3_SYMBOL(srtp_protect);
srtp_err_status_t srtp_unprotect(srtp_t ctx, const uint8_t *srtp, size_t srtp_len,
                                 uint8_t *rtp, size_t *rtp_len)
    DESKCAST_SRTP3_SYMBOL(srtp_unprotect);
srtp_err_status_t srtp_protect_rtcp(srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len,
                                    uint8_t *srtcp, size_t *srtcp_len, size_t mki_index)
    DESKCAST_SRTP3_SYMBOL(srtp_protect_rtcp);
srtp_err_status_t srtp_unprotect_rtcp(srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len,
                                      uint8_t *rtcp, size_t *rtcp_len)
    DESKCAST_SRTP3_SYMBOL(srtp_unprotect_rtcp);

#ifdef __cplusplus
}
#endif

#endif
