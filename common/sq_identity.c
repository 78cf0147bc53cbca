/*
 * sq_identity: keyed key digests and identity signatures (libsodium).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sq_identity.h"


/*
 * Hex of a value that is public once sent (a MAC on the wire, a nonce):
 * a table lookup per nibble instead of libsodium's constant-time
 * sodium_bin2hex(), which the edge paid twice on every request.  Secrets
 * (keys, their digests, secret files) keep sodium_bin2hex().
 */
/* "00" "01" ... "ff": two digits per byte, one load each */
static const char  sq_hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";


static void
sq_public_hex(char *out, const uint8_t *bin, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        memcpy(out + 2 * i, sq_hex_pairs + 2 * bin[i], 2);
    }

    out[2 * n] = '\0';
}


int
sq_crypto_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}


int
sq_secret_load(const char *path, uint8_t out[SQ_SECRET_BYTES], char *err,
    size_t errlen)
{
    FILE    *f;
    char     buf[256];
    size_t   n, start, end, bin_len;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';

    start = 0;
    while (start < n && (buf[start] == ' ' || buf[start] == '\n'
                         || buf[start] == '\r' || buf[start] == '\t'))
    {
        start++;
    }

    end = n;
    while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\n'
                           || buf[end - 1] == '\r' || buf[end - 1] == '\t'))
    {
        end--;
    }

    if (end - start != SQ_SECRET_BYTES * 2
        || sodium_hex2bin(out, SQ_SECRET_BYTES, buf + start, end - start,
                          NULL, &bin_len, NULL) != 0
        || bin_len != SQ_SECRET_BYTES)
    {
        sodium_memzero(buf, sizeof(buf));
        snprintf(err, errlen, "\"%s\" must hold exactly %d hex digits",
                 path, SQ_SECRET_BYTES * 2);
        return -1;
    }

    sodium_memzero(buf, sizeof(buf));

    return 0;
}


void
sq_key_digest(const uint8_t pepper[SQ_SECRET_BYTES], const char *key,
    size_t len, uint8_t bin[SQ_DIGEST_BYTES], char out[SQ_DIGEST_HEX_LEN + 1])
{
    crypto_generichash(bin, SQ_DIGEST_BYTES, (const uint8_t *) key, len,
                       pepper, SQ_SECRET_BYTES);
    sodium_bin2hex(out, SQ_DIGEST_HEX_LEN + 1, bin, SQ_DIGEST_BYTES);
}


void
sq_key_digest_hex(const uint8_t pepper[SQ_SECRET_BYTES], const char *key,
    size_t len, char out[SQ_DIGEST_HEX_LEN + 1])
{
    uint8_t  bin[SQ_DIGEST_BYTES];

    sq_key_digest(pepper, key, len, bin, out);
}


void
sq_signer_init(sq_signer_t *signer, const uint8_t secret[SQ_SECRET_BYTES])
{
    crypto_generichash_state  st;

    crypto_generichash_init(&st, secret, SQ_SECRET_BYTES, SQ_MAC_BYTES);
    memcpy(signer->keyed, &st, sizeof(st));
    sodium_memzero(&st, sizeof(st));
}


/*
 * The MAC from a copy of the keyed state.  The message is gathered in a
 * buffer first: one update per block instead of two per field.
 */
static void
sq_identity_mac_with(const sq_signer_t *signer, const sq_identity_t *id,
    uint8_t mac[SQ_MAC_BYTES])
{
    size_t                     i, n, take, off;
    uint8_t                    buf[256];
    const sq_str_t            *part;
    crypto_generichash_state   st;

    /* sq_identity_t is SQ_IDENTITY_FIELDS sq_str_t, in message order */
    part = (const sq_str_t *) id;

    memcpy(&st, signer->keyed, sizeof(st));

    n = sizeof(SQ_IDENTITY_VERSION) - 1;
    memcpy(buf, SQ_IDENTITY_VERSION, n);

    for (i = 0; i < SQ_IDENTITY_FIELDS; i++) {
        if (n == sizeof(buf)) {
            crypto_generichash_update(&st, buf, n);
            n = 0;
        }

        buf[n++] = '\n';

        for (off = 0; off < part[i].len; off += take) {
            if (n == sizeof(buf)) {
                crypto_generichash_update(&st, buf, n);
                n = 0;
            }

            take = part[i].len - off;
            if (take > sizeof(buf) - n) {
                take = sizeof(buf) - n;
            }

            memcpy(buf + n, part[i].data + off, take);
            n += take;
        }
    }

    crypto_generichash_update(&st, buf, n);
    crypto_generichash_final(&st, mac, SQ_MAC_BYTES);
    sodium_memzero(&st, sizeof(st));
    sodium_memzero(buf, sizeof(buf));
}


static void
sq_identity_mac(const uint8_t secret[SQ_SECRET_BYTES],
    const sq_identity_t *id, uint8_t mac[SQ_MAC_BYTES])
{
    sq_signer_t  signer;

    sq_signer_init(&signer, secret);
    sq_identity_mac_with(&signer, id, mac);
    sodium_memzero(&signer, sizeof(signer));
}


void
sq_identity_sign_hex(const uint8_t secret[SQ_SECRET_BYTES],
    const sq_identity_t *id, char out[SQ_MAC_HEX_LEN + 1])
{
    uint8_t  mac[SQ_MAC_BYTES];

    sq_identity_mac(secret, id, mac);
    sodium_bin2hex(out, SQ_MAC_HEX_LEN + 1, mac, sizeof(mac));
}


void
sq_identity_sign_hex_with(const sq_signer_t *signer, const sq_identity_t *id,
    char out[SQ_MAC_HEX_LEN + 1])
{
    uint8_t  mac[SQ_MAC_BYTES];

    sq_identity_mac_with(signer, id, mac);
    sq_public_hex(out, mac, sizeof(mac));
}


/*
 * The MAC is compared as hex, in constant time: the expected one written
 * out is cheaper than parsing the given one (libsodium's hex2bin is
 * constant-time too, and slow).  Only lowercase hex, as the edge writes
 * it, can match.
 */
int
sq_identity_verify_hex(const uint8_t secret[SQ_SECRET_BYTES],
    const sq_identity_t *id, const char *sig_hex, size_t sig_len)
{
    int      rc;
    char     want[SQ_MAC_HEX_LEN + 1];
    uint8_t  mac[SQ_MAC_BYTES];

    if (sig_len != SQ_MAC_HEX_LEN) {
        return -1;
    }

    sq_identity_mac(secret, id, mac);
    sq_public_hex(want, mac, sizeof(mac));

    rc = sodium_memcmp(want, sig_hex, SQ_MAC_HEX_LEN) == 0 ? 0 : -1;
    sodium_memzero(want, sizeof(want));

    return rc;
}


void
sq_content_digest_init(sq_content_digest_t *st)
{
    crypto_generichash_init(st, NULL, 0, SQ_DIGEST_BYTES);
}


void
sq_content_digest_update(sq_content_digest_t *st, const void *data,
    size_t len)
{
    crypto_generichash_update(st, (const uint8_t *) data, len);
}


void
sq_content_digest_final(sq_content_digest_t *st,
    char out[SQ_DIGEST_HEX_LEN + 1])
{
    uint8_t  bin[SQ_DIGEST_BYTES];

    crypto_generichash_final(st, bin, sizeof(bin));
    sodium_bin2hex(out, SQ_DIGEST_HEX_LEN + 1, bin, sizeof(bin));
}


void
sq_content_digest_hex(const void *data, size_t len,
    char out[SQ_DIGEST_HEX_LEN + 1])
{
    uint8_t  bin[SQ_DIGEST_BYTES];

    crypto_generichash(bin, sizeof(bin), (const uint8_t *) data, len,
                       NULL, 0);
    sodium_bin2hex(out, SQ_DIGEST_HEX_LEN + 1, bin, sizeof(bin));
}


void
sq_nonce_hex(char out[SQ_NONCE_HEX_LEN + 1])
{
    uint8_t  bin[SQ_NONCE_BYTES];

    randombytes_buf(bin, sizeof(bin));
    sodium_bin2hex(out, SQ_NONCE_HEX_LEN + 1, bin, sizeof(bin));
}


void
sq_nonce_next_hex(sq_nonce_stream_t *s, char out[SQ_NONCE_HEX_LEN + 1])
{
    int       i;
    uint8_t   bin[SQ_NONCE_BYTES];
    uint64_t  seq;

    if (!s->ready) {
        randombytes_buf(s->id, sizeof(s->id));
        s->seq = 0;
        s->ready = 1;
    }

    seq = ++s->seq;

    memcpy(bin, s->id, SQ_NONCE_STREAM_BYTES);

    for (i = SQ_NONCE_BYTES - 1; i >= SQ_NONCE_STREAM_BYTES; i--) {
        bin[i] = (uint8_t) (seq & 0xff);
        seq >>= 8;
    }

    sq_public_hex(out, bin, sizeof(bin));
}


/* a lowercase hex digit's value, or -1 */
static int
sq_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


int
sq_nonce_parse(const char *hex, size_t len,
    uint8_t id[SQ_NONCE_STREAM_BYTES], uint64_t *seq)
{
    int       hi, lo;
    size_t    i;
    uint8_t   bin[SQ_NONCE_BYTES];
    uint64_t  v;

    if (len != SQ_NONCE_HEX_LEN) {
        return -1;
    }

    for (i = 0; i < SQ_NONCE_BYTES; i++) {
        hi = sq_hex_value(hex[2 * i]);
        lo = sq_hex_value(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        bin[i] = (uint8_t) (hi << 4 | lo);
    }

    memcpy(id, bin, SQ_NONCE_STREAM_BYTES);

    v = 0;
    for (i = SQ_NONCE_STREAM_BYTES; i < SQ_NONCE_BYTES; i++) {
        v = (v << 8) | bin[i];
    }

    *seq = v;

    return 0;
}


void
sq_random_hex(char *buf, size_t n)
{
    uint8_t  bytes[64];
    size_t   chunk, done;

    done = 0;

    while (done < n) {
        chunk = n - done > sizeof(bytes) ? sizeof(bytes) : n - done;
        randombytes_buf(bytes, chunk);
        sodium_bin2hex(buf + done * 2, chunk * 2 + 1, bytes, chunk);
        done += chunk;
    }

    buf[n * 2] = '\0';
    sodium_memzero(bytes, sizeof(bytes));
}
