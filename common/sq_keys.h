/*
 * sq_keys: every Redis key name SmartlyQ uses, and the limits the module
 * and the backend share.  The one place to change a key's layout (a hash
 * tag for Redis Cluster, say); redis/SCHEMA.md says what each key holds
 * and who writes it.
 *
 * Formats are printf's, which hiredis's command formatting passes on:
 * use them with snprintf(), or spliced into a command,
 *     sq_cmd(c, &r, "HGETALL " SQ_K_KEY, digest_hex);
 * Ids are unsigned long long (%llu); digests and days are strings.
 */

#ifndef SQ_KEYS_H
#define SQ_KEYS_H

/*
 * Hash tags (redis/SCHEMA.md "Hash tags"): the part of a name between
 * '{' and '}' is what Redis Cluster hashes, so one key's names share
 * {<digest>}, one workspace's {w<id>}, one user's {u<id>}, one app's
 * {a<id>}.  On one Redis the braces are only characters of the name.
 */
#define SQ_K_TAG_END            "}"

/* a key record: hash, by the key's digest (hex) */
#define SQ_K_KEY_PREFIX         "sq:key:{"
#define SQ_K_KEY                SQ_K_KEY_PREFIX "%s" SQ_K_TAG_END
/* a key id -> its digest: string */
#define SQ_K_KEYID              "sq:keyid:%llu"
/* a key's last use (time, IP), written by the edge: hash, by digest */
#define SQ_K_KEYUSE_PREFIX      "sq:keyuse:{"
#define SQ_K_KEYUSE             SQ_K_KEYUSE_PREFIX "%s" SQ_K_TAG_END
/* a key's daily counts, written by the edge: hash, key id and YYYYMMDD */
#define SQ_K_USAGE              "sq:usage:%llu:%s"

/* a user: hash; its workspaces: zset; its keys: set */
#define SQ_K_USER               "sq:user:{u%llu}"
#define SQ_K_USER_WORKSPACES    SQ_K_USER ":workspaces"
#define SQ_K_USER_KEYS          SQ_K_USER ":keys"

/*
 * a workspace: hash; its members: set; its indexes and records:
 * "sq:ws:{w<id>}:<name>"
 */
#define SQ_K_WS_PREFIX          "sq:ws:{w"
#define SQ_K_WS                 SQ_K_WS_PREFIX "%llu" SQ_K_TAG_END
#define SQ_K_MEMBERS_SUFFIX     ":members"
#define SQ_K_WS_MEMBERS         SQ_K_WS SQ_K_MEMBERS_SUFFIX
/* a workspace id the edge holds as text (length, bytes): %.*s */
#define SQ_K_WS_MEMBERS_TEXT    SQ_K_WS_PREFIX "%.*s" SQ_K_TAG_END           \
                                SQ_K_MEMBERS_SUFFIX
#define SQ_K_WS_INDEX           SQ_K_WS ":%s%s"
/* an index's stored renderings: hash, record id -> its JSON */
#define SQ_K_WS_RENDERINGS      SQ_K_WS ":%s%s:json"

/*
 * a resource record: hash, in its workspace's group,
 * "sq:ws:{w<wid>}:rec:<resource>:<id>"; and the directory record ->
 * workspace id (string, written with the record, never changed), by
 * which a record is found from its id alone.  The Redis functions take
 * the directory's name where a record is known by id only and build the
 * record's name in the workspace.
 */
#define SQ_K_WS_RECORD          SQ_K_WS ":rec:%s:%llu"
#define SQ_K_RECWS              "sq:recws:%s:%llu"
/* id counters: string, "sq:seq:<user|ws|key|resource>" */
#define SQ_K_SEQ                "sq:seq:%s"

/* a write's identity nonce, claimed once by the backend: string */
#define SQ_K_NONCE              "sq:nonce:%s"
/*
 * the layout's version: hash, field "names" = SQ_NAMES_VERSION once
 * `sqctl init` renamed a database from before the hash tags
 */
#define SQ_K_SCHEMA             "sq:schema"
#define SQ_NAMES_VERSION        "2"

/* the random marker whose change tells the edge Redis was flushed */
#define SQ_K_EPOCH              "sq:epoch"

/* the keyspace notifications the edge's cache listens to (db 0) */
#define SQ_K_NOTIFY_DB          "__keyspace@0__:"
#define SQ_K_NOTIFY_KEY_PREFIX  SQ_K_NOTIFY_DB SQ_K_KEY_PREFIX
#define SQ_K_NOTIFY_WS_PREFIX   SQ_K_NOTIFY_DB SQ_K_WS_PREFIX
/* what follows a members set's workspace id in its name */
#define SQ_K_WS_MEMBERS_TAIL    SQ_K_TAG_END SQ_K_MEMBERS_SUFFIX

/*
 * API Applications (OAuth 2 clients, redis/SCHEMA.md "API Applications").
 * An access token (sqo_) is a key record, SQ_K_KEY with type "oauth".
 */
/* an app: hash; client_id -> app id: string; a workspace's apps: zset */
#define SQ_K_APP                "sq:app:{a%llu}"
#define SQ_K_APP_CLIENT         "sq:appclient:%s"
#define SQ_K_WS_APPS            SQ_K_WS ":apps"
/* an app's grants: zset; its authorize outcomes: stream and counts */
#define SQ_K_APP_GRANTS         SQ_K_APP ":grants"
#define SQ_K_APP_OUTCOMES       SQ_K_APP ":outcomes"
#define SQ_K_APP_OUTCOME_COUNTS SQ_K_APP ":outcome_counts"
/* a grant (one consent, one token family) and its tokens' digests */
#define SQ_K_GRANT              "sq:grant:%llu"
#define SQ_K_GRANT_ACCESS       "sq:grant:%llu:access"
#define SQ_K_GRANT_REFRESH      "sq:grant:%llu:refresh"
#define SQ_K_USER_GRANTS        SQ_K_USER ":grants"
/* an authorization code and a refresh token: hash, by digest */
#define SQ_K_OAUTH_CODE         "sq:oauthcode:%s"
#define SQ_K_REFRESH            "sq:refresh:%s"
/* sign-in: email -> user id; a session by its cookie's digest; limits */
#define SQ_K_USER_EMAIL         "sq:useremail:%s"
#define SQ_K_SESSION            "sq:session:%s"
#define SQ_K_RATE_SIGNIN_ACCT   "sq:rl:signin:acct:%s"
#define SQ_K_RATE_SIGNIN_IP     "sq:rl:signin:ip:%s"

/* === act (issue 16): key activity, written by the edge === */
/* a key's activity: stream, by key id (redis/SCHEMA.md "Key activity") */
#define SQ_K_ACT                "sq:act:%llu"
/* refusals of unknown keys on a UTC day (yyyymmdd): hash, ip -> count */
#define SQ_K_ACT_UNKNOWN        "sq:act:unknown:%s"
/* === end act === */

/*
 * jansson 2.14's lexer ignores a failed allocation and overflows its
 * buffer; both sides give it memory that cannot fail for a body within
 * their limit: SQ_JSON_BYTES_PER_BYTE per input byte (measured need:
 * under 80, on arrays of empty objects) plus SQ_JSON_SLACK.
 */
#define SQ_JSON_BYTES_PER_BYTE  96
#define SQ_JSON_SLACK           (512 * 1024)

/* === keyops (issue 16) === */
/* a user's notices, newest first, capped: list of JSON strings */
#define SQ_K_USER_NOTIFICATIONS SQ_K_USER ":notifications"
/* the id counter of notices is SQ_K_SEQ "notice" */
/* === end keyops === */

#endif /* SQ_KEYS_H */
