/*
 * sq_identity: key digests and the signed identity the edge hands to
 * the backend.
 *
 * Plain C over libsodium, shared by the module, the backend and sqctl so
 * that all three hash keys and sign identities byte for byte alike.
 *
 * The identity travels as request headers:
 *   X-SmartlyQ-User-Id, X-SmartlyQ-Key-Id, X-SmartlyQ-Workspace-Id
 *   (empty when the request named no workspace), X-SmartlyQ-Key-Mode
 *   (live|test), X-SmartlyQ-Key-Type (secret|publishable|oauth),
 *   X-SmartlyQ-Key-Scopes (space-separated), X-SmartlyQ-Key-Workspaces
 *   (comma-separated ids the key is limited to; empty: all the user's;
 *   an OAuth token's: its one granted workspace), X-SmartlyQ-App-Id (the
 *   API Application whose OAuth access token this is; empty for a key),
 *   X-SmartlyQ-Timestamp (unix seconds), X-SmartlyQ-Nonce (32 lowercase
 *   hex digits, random per request), X-SmartlyQ-Body-Digest (empty when
 *   the request has no body bytes) and X-SmartlyQ-Signature,
 * the edge leaving out the five optional ones (Workspace-Id, Key-Scopes,
 * Key-Workspaces, App-Id, Body-Digest) when empty, which the backend reads as
 * empty; the signature being
 *   hex(BLAKE2b-256 keyed with secret, over message)
 * (libsodium's crypto_generichash with a key: the key fills one block,
 * then a message of up to 128 bytes is one more) with
 *   message = "smartlyq-v5" then, each after a "\n": method, uri,
 *             user_id, key_id, workspace_id, mode, key_type, scopes,
 *             key_workspaces, app_id, timestamp, nonce, content_type,
 *             body
 * where uri is the request-target as the client sent it; content_type
 * is hex(BLAKE2b-256(Content-Type header value)), empty when the request
 * has no Content-Type header; body is hex(BLAKE2b-256(body bytes)),
 * empty when the body has no bytes (no body, or an empty one).  Both are
 * sq_content_digest_hex(), unkeyed: the MAC is what makes them
 * unforgeable.  No field may hold a "\n" (ids, enums, scopes, digests
 * and the nonce cannot; nginx refuses one in a request-target).
 *
 * The edge reads and digests every request body, whatever the method or
 * Content-Type, up to smartlyq_body_limit, and refuses two Content-Type
 * headers.  The backend recomputes both digests from what it received
 * and refuses a mismatch.  The nonce is a per-process stream id and a
 * counter (sq_nonce_next_hex).  A backend's worker processes remember,
 * in one shared-memory window, the counters seen of each stream
 * (backend/src/sq_replay.h), and the nonce of every write is also
 * claimed in Redis, with the write, for as long as its timestamp is
 * acceptable, so that backend hosts share it (backend/src/sq_nonce.h).
 */

#ifndef SQ_IDENTITY_H
#define SQ_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define SQ_SECRET_BYTES     32
#define SQ_DIGEST_BYTES     32
#define SQ_DIGEST_HEX_LEN   (SQ_DIGEST_BYTES * 2)
#define SQ_MAC_BYTES        32
#define SQ_MAC_HEX_LEN      (SQ_MAC_BYTES * 2)
#define SQ_IDENTITY_SKEW    300     /* seconds a signature stays valid */
#define SQ_NONCE_BYTES      16
#define SQ_NONCE_HEX_LEN    (SQ_NONCE_BYTES * 2)
#define SQ_IDENTITY_VERSION "smartlyq-v5"   /* v4: without app_id;
                                               v3: HMAC-SHA-512-256 */

typedef struct {
    const char  *data;
    size_t       len;
} sq_str_t;

typedef struct {
    sq_str_t     method;
    sq_str_t     uri;
    sq_str_t     user_id;
    sq_str_t     key_id;
    sq_str_t     workspace_id;
    sq_str_t     mode;
    sq_str_t     key_type;
    sq_str_t     scopes;
    sq_str_t     key_workspaces;
    sq_str_t     app_id;            /* empty for a key */
    sq_str_t     timestamp;
    sq_str_t     nonce;
    sq_str_t     content_type;      /* its digest, or empty */
    sq_str_t     body;              /* its digest, or empty */
} sq_identity_t;

#define SQ_IDENTITY_FIELDS  (sizeof(sq_identity_t) / sizeof(sq_str_t))

/* sodium_init(); returns 0 or -1 */
int sq_crypto_init(void);

/*
 * Reads a secret file: 64 hex digits (32 bytes), surrounding white
 * space allowed.  Returns 0, or -1 with a message in err.
 */
int sq_secret_load(const char *path, uint8_t out[SQ_SECRET_BYTES],
    char *err, size_t errlen);

/* BLAKE2b-256 keyed with pepper, over key: bytes and hex (NUL too) */
void sq_key_digest(const uint8_t pepper[SQ_SECRET_BYTES], const char *key,
    size_t len, uint8_t bin[SQ_DIGEST_BYTES],
    char out[SQ_DIGEST_HEX_LEN + 1]);

/* hex(BLAKE2b-256 keyed with pepper, over key); out gets a NUL too */
void sq_key_digest_hex(const uint8_t pepper[SQ_SECRET_BYTES],
    const char *key, size_t len, char out[SQ_DIGEST_HEX_LEN + 1]);

/*
 * The signing secret, keyed once (BLAKE2b's parameter block and key
 * block laid out), for a signer that signs every request: the edge.
 * Kept as bytes: the state type wants 64-byte alignment, which memory
 * from an allocator (an nginx pool) does not promise; it is copied into
 * an aligned local to be used.
 */
typedef struct {
    unsigned char  keyed[sizeof(crypto_generichash_state)];
} sq_signer_t;

void sq_signer_init(sq_signer_t *signer,
    const uint8_t secret[SQ_SECRET_BYTES]);

/* as sq_identity_sign_hex(), from a prepared signer: the same MAC */
void sq_identity_sign_hex_with(const sq_signer_t *signer,
    const sq_identity_t *id, char out[SQ_MAC_HEX_LEN + 1]);

/* hex of the identity MAC; out gets a NUL too */
void sq_identity_sign_hex(const uint8_t secret[SQ_SECRET_BYTES],
    const sq_identity_t *id, char out[SQ_MAC_HEX_LEN + 1]);

/* constant-time check of a hex signature; returns 0 when it matches */
int sq_identity_verify_hex(const uint8_t secret[SQ_SECRET_BYTES],
    const sq_identity_t *id, const char *sig_hex, size_t sig_len);

/*
 * hex(BLAKE2b-256) of a body or a Content-Type value, in one pass over
 * its parts: init, update for each part, final (out gets a NUL too).
 */
typedef crypto_generichash_state  sq_content_digest_t;

void sq_content_digest_init(sq_content_digest_t *st);
void sq_content_digest_update(sq_content_digest_t *st, const void *data,
    size_t len);
void sq_content_digest_final(sq_content_digest_t *st,
    char out[SQ_DIGEST_HEX_LEN + 1]);

/* the same over one piece of memory */
void sq_content_digest_hex(const void *data, size_t len,
    char out[SQ_DIGEST_HEX_LEN + 1]);

/* a fresh nonce: SQ_NONCE_BYTES random bytes as hex, NUL too */
void sq_nonce_hex(char out[SQ_NONCE_HEX_LEN + 1]);

/*
 * A signer's nonce stream: SQ_NONCE_STREAM_BYTES random bytes chosen
 * once per process, then a 64-bit big-endian counter.  Nonces never
 * repeat within a stream, and a verifier can remember a stream in a
 * fixed window of bits instead of one entry per request
 * (backend/src/sq_replay.h).  The MAC is what makes them unforgeable.
 */
#define SQ_NONCE_STREAM_BYTES  8

typedef struct {
    uint8_t   id[SQ_NONCE_STREAM_BYTES];
    uint64_t  seq;
    int       ready;
} sq_nonce_stream_t;

/* the next nonce of the stream (chosen on first use), as hex, NUL too */
void sq_nonce_next_hex(sq_nonce_stream_t *s, char out[SQ_NONCE_HEX_LEN + 1]);

/* a nonce's stream id and counter; returns 0, or -1 for bad hex */
int sq_nonce_parse(const char *hex, size_t len,
    uint8_t id[SQ_NONCE_STREAM_BYTES], uint64_t *seq);

/* fills buf with n random bytes written as 2n hex digits plus NUL */
void sq_random_hex(char *buf, size_t n);

#endif /* SQ_IDENTITY_H */
