/*
 * Test harness for the libsrtp 3 adapter (test/unit/srtp-adapter.test.ts).
 * Drives one SRTP session the way mediasoup's worker does (DepLibSRTP.cpp,
 * RTC/SrtpSession.cpp): same calls, same order, same arguments.
 *
 *   srtp_check [-p PROFILE] [-n OUT_CAPACITY] OP KEY_SALT_HEX PACKET_HEX...
 *
 * OP: protect | unprotect | protect_rtcp | unprotect_rtcp. protect* use an
 * outbound session writing into a separate buffer (65536 bytes, like
 * mediasoup's EncryptBuffer, or OUT_CAPACITY); unprotect* an inbound one,
 * in place. Packets go through one session in order, one output line each:
 * "ok <hex>" or "err <srtp_err_status_t>".
 */
#include <srtp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENCRYPT_BUFFER_SIZE 65536

static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
  size_t len = strlen(hex), i;
  unsigned int byte;

  if (len % 2 || len / 2 > cap) {
    fprintf(stderr, "bad hex argument: %s\n", hex);
    exit(2);
  }
  for (i = 0; i < len / 2; i++) {
    if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
      fprintf(stderr, "bad hex argument: %s\n", hex);
      exit(2);
    }
    out[i] = (uint8_t)byte;
  }
  return len / 2;
}

static void print_result(srtp_err_status_t err, const uint8_t *data, size_t len)
{
  size_t i;

  if (err != srtp_err_status_ok) {
    printf("err %d\n", (int)err);
    return;
  }
  printf("ok ");
  for (i = 0; i < len; i++)
    printf("%02x", data[i]);
  printf("\n");
}

static void check(srtp_err_status_t err, const char *what)
{
  if (err != srtp_err_status_ok) {
    fprintf(stderr, "%s() failed: %d\n", what, (int)err);
    exit(3);
  }
}

static void on_event(srtp_event_data_t *data)
{
  fprintf(stderr, "srtp event %d for ssrc %u\n", (int)data->event, (unsigned)data->ssrc);
}

static srtp_profile_t parse_profile(const char *name)
{
  if (!strcmp(name, "AES_CM_128_HMAC_SHA1_80")) return srtp_profile_aes128_cm_sha1_80;
  if (!strcmp(name, "AES_CM_128_HMAC_SHA1_32")) return srtp_profile_aes128_cm_sha1_32;
  if (!strcmp(name, "AEAD_AES_128_GCM")) return srtp_profile_aead_aes_128_gcm;
  if (!strcmp(name, "AEAD_AES_256_GCM")) return srtp_profile_aead_aes_256_gcm;
  fprintf(stderr, "unknown profile %s\n", name);
  exit(2);
}

int main(int argc, char **argv)
{
  static uint8_t encrypt_buffer[ENCRYPT_BUFFER_SIZE];
  static uint8_t packet[ENCRYPT_BUFFER_SIZE];
  srtp_profile_t profile = srtp_profile_aes128_cm_sha1_80;
  size_t out_capacity = ENCRYPT_BUFFER_SIZE;
  uint8_t key[64];
  size_t key_len, master_key_len, master_salt_len;
  const char *op;
  int protect, rtcp, i = 1;
  srtp_policy_t policy = NULL;
  srtp_ssrc_t ssrc;
  srtp_t session = NULL;

  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (!strcmp(argv[i], "-p"))
      profile = parse_profile(argv[i + 1]);
    else if (!strcmp(argv[i], "-n"))
      out_capacity = (size_t)strtoul(argv[i + 1], NULL, 10);
    else
      break; /* reported by the usage check below */
  }
  if (argc - i < 3 || argv[i][0] == '-' || out_capacity > ENCRYPT_BUFFER_SIZE) {
    fprintf(stderr, "usage: %s [-p PROFILE] [-n OUT_CAPACITY] OP KEY_SALT_HEX PACKET_HEX...\n", argv[0]);
    return 2;
  }
  op = argv[i++];
  protect = !strncmp(op, "protect", 7);
  rtcp = strstr(op, "_rtcp") != NULL;
  key_len = from_hex(argv[i++], key, sizeof key);

  /* DepLibSRTP::ClassInit() and SrtpSession::ClassInit(). */
  check(srtp_init(), "srtp_init");
  check(srtp_install_event_handler(on_event), "srtp_install_event_handler");
  fprintf(stderr, "libsrtp version: %s\n", srtp_get_version_string());

  /* SrtpSession::SrtpSession(). */
  check(srtp_policy_create(&policy), "srtp_policy_create");
  ssrc.type = protect ? ssrc_any_outbound : ssrc_any_inbound;
  ssrc.value = 0;
  check(srtp_policy_set_ssrc(policy, ssrc), "srtp_policy_set_ssrc");
  check(srtp_policy_set_profile(policy, profile), "srtp_policy_set_profile");
  master_key_len = srtp_profile_get_master_key_length(profile);
  master_salt_len = srtp_profile_get_master_salt_length(profile);
  if (key_len != master_key_len + master_salt_len) {
    fprintf(stderr, "key+salt must be %zu bytes\n", master_key_len + master_salt_len);
    return 2;
  }
  check(srtp_policy_add_key(policy, key, master_key_len, key + master_key_len, master_salt_len, NULL, 0),
        "srtp_policy_add_key");
  check(srtp_policy_set_allow_repeat_tx(policy, true), "srtp_policy_set_allow_repeat_tx");
  check(srtp_policy_set_window_size(policy, 1024), "srtp_policy_set_window_size");
  check(srtp_create(&session, policy), "srtp_create");
  srtp_policy_destroy(policy);

  for (; i < argc; i++) {
    size_t len = from_hex(argv[i], packet, sizeof packet);
    srtp_err_status_t err;

    if (protect) {
      /* SrtpSession::EncryptRtp() / EncryptRtcp(). */
      size_t encrypt_len = out_capacity;

      err = rtcp ? srtp_protect_rtcp(session, packet, len, encrypt_buffer, &encrypt_len, 0)
                 : srtp_protect(session, packet, len, encrypt_buffer, &encrypt_len, 0);
      print_result(err, encrypt_buffer, encrypt_len);
    } else {
      /* SrtpSession::DecryptSrtp() / DecryptSrtcp(): in place. */
      size_t decrypt_len = len;

      err = rtcp ? srtp_unprotect_rtcp(session, packet, len, packet, &decrypt_len)
                 : srtp_unprotect(session, packet, len, packet, &decrypt_len);
      print_result(err, packet, decrypt_len);
    }
  }

  check(srtp_dealloc(session), "srtp_dealloc");
  check(srtp_shutdown(), "srtp_shutdown");
  return 0;
}
