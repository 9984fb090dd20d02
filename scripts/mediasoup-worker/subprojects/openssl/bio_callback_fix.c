/*
 * Keeps OpenSSL's own result for post-operation BIO callbacks of mediasoup's DTLS transport.
 *
 * mediasoup's DtlsTransport installs a BIO_set_callback_ex() callback on the memory BIO that
 * carries DTLS records to the network. It sends the record on the BIO_CB_WRITE pre-operation
 * call, and for every other call returns 1 unless `operationType == BIO_CB_RETURN` exactly, so
 * a post-operation call such as BIO_CB_CTRL | BIO_CB_RETURN reports 1 whatever the control
 * operation answered (pending bytes, "MTU exceeded", ...). With Debian's OpenSSL 3.0.x and an
 * MTU set (mediasoup sets one), the server's first handshake flight then writes through a
 * released record buffer and the worker dies with SIGSEGV in do_dtls1_write(): every browser
 * that connects crashes a worker. Reproduced outside mediasoup with the same BIO set-up.
 *
 * The worker is linked with -Wl,--wrap=BIO_set_callback_ex: its call lands here, and OpenSSL
 * gets a callback that forwards pre-operation calls to mediasoup's and passes post-operation
 * results through unchanged. mediasoup's sources stay untouched.
 */
#include <openssl/bio.h>

void __real_BIO_set_callback_ex(BIO *bio, BIO_callback_fn_ex callback);

/* mediasoup installs one callback function (onSslBioOut) on every DTLS transport. */
static BIO_callback_fn_ex mediasoup_callback;

static long deskcast_bio_callback(BIO *bio, int oper, const char *argp, size_t len, int argi, long argl,
                                  int ret, size_t *processed)
{
  if (oper & BIO_CB_RETURN)
    return ret;
  return mediasoup_callback(bio, oper, argp, len, argi, argl, ret, processed);
}

void __wrap_BIO_set_callback_ex(BIO *bio, BIO_callback_fn_ex callback)
{
  if (callback == NULL) {
    __real_BIO_set_callback_ex(bio, NULL);
    return;
  }
  mediasoup_callback = callback;
  __real_BIO_set_callback_ex(bio, deskcast_bio_callback);
}
