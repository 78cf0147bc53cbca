#!lua name=smartlyq

--[[
  SmartlyQ Redis function library.

  Loaded with FUNCTION LOAD REPLACE by the backend at start-up and by
  `sqctl init`; functions survive restarts through AOF/RDB and replicate
  to replicas, so an edge reading from a replica can call them with
  FCALL_RO.

  The data layout, and which function touches which keys: redis/SCHEMA.md.
]]

-- Key names (redis/SCHEMA.md; common/sq_keys.h spells the same for C).
-- The braces are Redis Cluster hash tags: one key's names share
-- {<digest>}, one workspace's {w<id>}, one user's {u<id>}, one app's
-- {a<id>} (SCHEMA.md "Hash tags").
local function k_key(d) return 'sq:key:{' .. d .. '}' end
local function k_keyuse(d) return 'sq:keyuse:{' .. d .. '}' end
local function k_ws(w) return 'sq:ws:{w' .. w .. '}' end
local function k_members(w) return 'sq:ws:{w' .. w .. '}:members' end
local function k_user(u) return 'sq:user:{u' .. u .. '}' end
local function k_app(a) return 'sq:app:{a' .. a .. '}' end
-- a resource record, in its workspace's group
local function k_rec(w, res, id)
    return 'sq:ws:{w' .. w .. '}:rec:' .. res .. ':' .. id
end
-- the directory record -> workspace id, by which a record known by id
-- alone is found (written with the record, never changed)
local function k_recws(res, id) return 'sq:recws:' .. res .. ':' .. id end

local function sq_in_list(list, item)
    if not list or list == '' then
        return true
    end

    for v in string.gmatch(list, '[^,]+') do
        if v == item then
            return true
        end
    end

    return false
end

-- A time field as the edge reads it: its digits as stored, '0' when
-- absent or empty (no number is parsed or printed on the way).
local function sq_time(v)
    if not v or v == '' then
        return '0'
    end
    return v
end

-- sq_authz: the edge's one round trip per uncached request.
--   KEYS[1] sq:key:{<digest>}
--   KEYS[2] sq:ws:{w<workspace_id>}:members, or "" when no workspace_id
--   ARGV[1] now
--   ARGV[2] the workspace id, or ""
-- Returns 'UNKNOWN', or one string of eleven fields joined by '|':
--   code|user_id|key_id|mode|type|scopes|workspaces|rotated_at|
--   sunset_at|expires_at|app_id
-- (one bulk string: the edge's hiredis makes one reply object instead
-- of twelve).  app_id is empty for a key and the app's id for an OAuth
-- access token (type 'oauth', issue 14).  No field may hold a '|': the
-- edge refuses any reply that does not split into exactly eleven (or,
-- from a library before app_id, ten) fields, each in its charset.
-- code, first that applies: DELETED, DISABLED, EXPIRED, ROTATED (grace
-- over), FORBIDDEN (not a member, or outside the key's workspace list),
-- OK.  FORBIDDEN still carries scopes: the edge checks scopes before
-- membership.  The times go back as stored (sq_time): a value that is
-- not digits makes the edge refuse the reply (503), not read it as
-- "never".
local function sq_authz(keys, args)
    local rec = redis.call('HMGET', keys[1], 'id', 'user_id', 'status',
                           'expires_at', 'mode', 'type', 'scopes',
                           'workspaces', 'rotated_at', 'sunset_at',
                           'app_id')
    local id, uid, status = rec[1], rec[2], rec[3]

    if not id or not uid then
        return 'UNKNOWN'
    end

    local exp, sunset = sq_time(rec[4]), sq_time(rec[10])
    local code = 'OK'

    if status == 'deleted' then
        code = 'DELETED'
    elseif status ~= 'active' then
        code = 'DISABLED'
    else
        local now = tonumber(args[1]) or 0
        local e = exp ~= '0' and tonumber(exp) or 0
        local s = sunset ~= '0' and tonumber(sunset) or 0

        if e > 0 and now >= e then
            code = 'EXPIRED'
        elseif s > 0 and now >= s then
            code = 'ROTATED'
        elseif keys[2] ~= nil and keys[2] ~= '' then
            if not sq_in_list(rec[8], args[2])
               or redis.call('SISMEMBER', keys[2], uid) == 0
            then
                code = 'FORBIDDEN'
            end
        end
    end

    -- expires_at lets the edge's cache end an entry when the key does
    return code .. '|' .. uid .. '|' .. id .. '|' .. (rec[5] or 'live')
           .. '|' .. (rec[6] or 'secret') .. '|' .. (rec[7] or '')
           .. '|' .. (rec[8] or '') .. '|' .. (rec[9] or '0') .. '|'
           .. sunset .. '|' .. exp .. '|' .. (rec[11] or '')
end

redis.register_function{
    function_name = 'sq_authz',
    callback = sq_authz,
    flags = {'no-writes'}
}

--[[
  Records of the backend's workspace-scoped resources (their layout:
  redis/SCHEMA.md).  The two helpers below run inside sq_res_modify and
  sq_res_remove; sq_res_update is also registered, for the unit tests.  Replies: 'OK', 'NOTFOUND' (no
  such record in that workspace), 'TAKEN' (unique value in use) or
  'BADREF' (the referenced record is not in the workspace).
]]

-- sq_res_update: the record must still be in the workspace.
--   KEYS[1] sq:ws:{w<wid>}:rec:<res>:<id>, KEYS[2] the unique index or '',
--   KEYS[3] a referenced record or '', KEYS[4] (optional) the index's
--   rendering hash sq:ws:{w<wid>}:<infix><plural>:json or ''
--   ARGV[1] id, ARGV[2] workspace id, ARGV[3] unique field or '',
--   ARGV[4] its new value, ARGV[5] n, ARGV[6..5+n] fields to delete,
--   then field value pairs
local function sq_res_update(keys, args)
    if redis.call('HGET', keys[1], 'workspace_id') ~= args[2] then
        return 'NOTFOUND'
    end

    if keys[3] ~= '' then
        if redis.call('HGET', keys[3], 'workspace_id') ~= args[2] then
            return 'BADREF'
        end
    end

    if keys[2] ~= '' then
        local old = redis.call('HGET', keys[1], args[3])
        if old ~= args[4] then
            if redis.call('HSETNX', keys[2], args[4], args[1]) == 0 then
                return 'TAKEN'
            end
            if old and redis.call('HGET', keys[2], old) == args[1] then
                redis.call('HDEL', keys[2], old)
            end
        end
    end

    -- the stored rendering (in the index's rendering hash, or from
    -- before it the record's _json) no longer says what the record
    -- holds: readers fall back to the fields (sq_res_modify stores a new
    -- one)
    if keys[4] and keys[4] ~= '' then
        redis.call('HDEL', keys[4], args[1])
    end
    local n = tonumber(args[5])
    redis.call('HDEL', keys[1], '_json', unpack(args, 6, 5 + n))
    if #args > 5 + n then
        redis.call('HSET', keys[1], unpack(args, 6 + n))
    end
    return 'OK'
end

-- sq_res_delete: the record must be in the workspace.
--   KEYS[1] sq:ws:{w<wid>}:rec:<res>:<id>, KEYS[2] sq:ws:{w<wid>}:<res>s,
--   KEYS[3] the unique index or ''
--   ARGV[1] id, ARGV[2] workspace id, ARGV[3] unique field or ''
local function sq_res_delete(keys, args)
    if redis.call('HGET', keys[1], 'workspace_id') ~= args[2] then
        return 'NOTFOUND'
    end

    if keys[3] ~= '' then
        local v = redis.call('HGET', keys[1], args[3])
        if v and redis.call('HGET', keys[3], v) == args[1] then
            redis.call('HDEL', keys[3], v)
        end
    end

    redis.call('DEL', keys[1])
    redis.call('ZREM', keys[2], args[1])
    redis.call('HDEL', keys[2] .. ':json', args[1])
    return 'OK'
end



redis.register_function('sq_res_update', sq_res_update)


-- sq_migrate_keys: keys made before scopes and types existed had full
-- access; they keep it, explicitly: type secret, every scope.  Walks key
-- ids 1..sq:seq:key (no KEYS/SCAN).  Run by `sqctl init`; idempotent.
--   ARGV[1] every scope, space-separated
-- Returns how many keys it migrated.
local function sq_migrate_keys(keys, args)
    local last = tonumber(redis.call('GET', 'sq:seq:key')) or 0
    local n = 0

    for id = 1, last do
        local digest = redis.call('GET', 'sq:keyid:' .. id)

        if digest then
            local rec = k_key(digest)

            if redis.call('EXISTS', rec) == 1
               and redis.call('HEXISTS', rec, 'scopes') == 0
            then
                redis.call('HSET', rec, 'scopes', args[1])
                redis.call('HSETNX', rec, 'type', 'secret')
                n = n + 1
            end
        end
    end

    return n
end

redis.register_function('sq_migrate_keys', sq_migrate_keys)


--[[
  The backend's one round trip per request (sq_res_generic.c in the
  backend, over its asynchronous link).  Each re-checks what the edge
  decided (the identity's workspace membership) and, for writes, claims
  the identity's nonce, so that a request is a single call.

  Common arguments (ARGV[1..5]):
    uid, the identity's workspace id or '', the key's workspace list
    (comma-separated, '' for all the user's), the key's mode ('live' |
    'test'), the nonce's time to live in seconds ('' for reads)
  and KEYS[1] sq:nonce:<nonce> or '', KEYS[2] sq:ws:{w<wid>}:members of the
  identity's workspace or ''.

  Keys these functions compute (a Redis Cluster concern, see SCHEMA.md):
  the records of a page, the indexes and members set of the workspaces of
  a user or of a record, the sequence and a new record's key.

  Replies: a table whose first element is 'OK', 'REPLAY' (the nonce was
  used), 'FORBIDDEN' (not a member of the identity's workspace),
  'NOTFOUND', 'TAKEN', 'BADREF', 'NOPRIMARY' (no workspace given and the
  user has no primary one), 'WSKEY' (the primary workspace is outside
  the key's list).
]]

-- the common checks; nil when they pass, else the refusal
local function sq_req_check(keys, args)
    if keys[1] ~= '' and redis.call('EXISTS', keys[1]) == 1 then
        return {'REPLAY'}
    end

    if keys[2] ~= ''
       and redis.call('SISMEMBER', keys[2], args[1]) == 0
    then
        return {'FORBIDDEN'}
    end

    return nil
end

local function sq_req_claim(keys, args)
    if keys[1] ~= '' then
        redis.call('SET', keys[1], '1', 'EX', args[5])
    end
end

-- a record's mode and workspace are visible to the identity
local function sq_req_sees(args, wid, mode)
    if (mode or 'live') ~= args[4] or not wid then
        return false
    end

    if not sq_in_list(args[3], wid) then
        return false
    end

    if args[2] ~= '' then
        return wid == args[2]
    end

    return redis.call('SISMEMBER', k_members(wid),
                      args[1]) == 1
end

-- HMGET of a record's meta and schema fields
local function sq_rec_fields(key, names)
    return redis.call('HMGET', key, 'id', 'workspace_id', 'mode',
                      'created_at', 'updated_at', unpack(names))
end

-- The record a directory name 'sq:recws:<res>:<id>' (what the backend
-- passes for a record it knows by id) stands for: in workspace w when w
-- is given, else in the workspace the directory holds.  nil when there
-- is none (then no such record).
local function sq_rec_of(dir, w)
    local res, id = string.match(dir, '^sq:recws:([%w_]+):(%d+)$')
    if not res then
        return nil
    end
    if not w or w == '' then
        w = redis.call('GET', dir)
        if not w then
            return nil
        end
    end
    return k_rec(w, res, id)
end

-- The usual page of the identity's one workspace, its index's ids got
-- (at most limit + 1): {'OK', next id or '0', 'EACH', ids, {renderings}},
-- the ids as the index holds them joined by ',' (one string: one reply
-- object, not 20, in the backend) and each one's stored rendering, when
-- every record of the page has one; nil otherwise (and for an empty
-- page).  Nothing here formats, cuts or joins a string: the backend
-- checks that each rendering begins with its id and the workspace, and
-- ends with '}', and joins them (sq_res_page_each in sq_res_generic.c).
-- That string work cost Redis about 360k of 577k instructions a page of
-- 20 (perf4's notes).
local function sq_page_each(got, limit, hash)
    local n, nxt = #got, '0'
    if n > limit then
        nxt, n = got[limit], limit
    end
    if n == 0 then
        return nil
    end

    local json = redis.call('HMGET', hash, unpack(got, 1, n))
    for i = 1, n do
        if not json[i] then
            return nil
        end
    end

    return {'OK', nxt, 'EACH', table.concat(got, ',', 1, n), json}
end

-- sq_res_page: one page of a resource's records, merged by id over the
-- workspaces the identity reaches.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] the identity workspace's
--   index sq:ws:{w<wid>}:<infix><plural>, or the user's sq:user:{u<uid>}:
--   workspaces when the identity names none
--   ARGV[1..5] common, ARGV[6] the resource name (records
--   sq:ws:{w<wid>}:rec:<res>:<id>),
--   ARGV[7] the index suffix '<infix><plural>', ARGV[8] after (id),
--   ARGV[9] limit, ARGV[10..] the schema's field names
-- Returns, with a workspace named, sq_page_each's {'OK', next, 'EACH',
-- ids, renderings} when every record of the page has a rendering; else
-- {'OK', next id or '0', 'JSON', the records' renderings joined
-- by ', '} when every record has one that begins with its id and
-- workspace, else {'OK', next id or '0', then per record {index id, its
-- workspace, R}}, R the record's stored rendering (its JSON as the API
-- writes it, in sq:ws:{w<wid>}:<infix><plural>:json, written by
-- sq_res_insert and sq_res_modify, dropped by sq_res_modify and
-- sq_res_delete; or, from before that hash, the record's field _json,
-- which sq_res_update drops; SCHEMA.md) or, where it has none, {id,
-- workspace_id, mode, created_at, updated_at, fields...}.
local function sq_res_page(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local after, limit = '(' .. args[8], tonumber(args[9])
    local names = {unpack(args, 10)}
    local ids = {}

    if args[2] ~= '' then
        local got = redis.call('ZRANGEBYSCORE', keys[3], after, '+inf',
                               'LIMIT', 0, limit + 1)
        local each = sq_page_each(got, limit,
                                  k_ws(args[2]) .. ':' .. args[7] .. ':json')
        if each then
            return each
        end
        for i = 1, #got do
            ids[i] = {tonumber(got[i]), args[2]}
        end
    else
        local wss = redis.call('ZRANGE', keys[3], 0, 999)
        for _, w in ipairs(wss) do
            if sq_in_list(args[3], w) then
                local got = redis.call('ZRANGEBYSCORE',
                                       k_ws(w) .. ':' .. args[7],
                                       after, '+inf', 'LIMIT', 0, limit + 1)
                for i = 1, #got do
                    ids[#ids + 1] = {tonumber(got[i]), w}
                end
            end
        end
        if #wss > 1 then
            table.sort(ids, function(a, b) return a[1] < b[1] end)
        end
    end

    local out = {'OK', '0'}
    local n = #ids
    if n > limit then
        out[2] = string.format('%d', ids[limit][1])
        n = limit
    end

    -- The usual page: every record has its stored rendering (one HMGET
    -- per workspace's rendering hash), which begins with the id and
    -- workspace the index gave.  They go back joined, one string:
    -- {'OK', next, 'JSON', "{...}, {...}"}, so that the backend's hiredis
    -- makes four reply objects, not eighty.
    local json, byws = {}, {}
    for i = 1, n do
        local w = ids[i][2]
        byws[w] = byws[w] or {}
        table.insert(byws[w], i)
    end
    for w, idx in pairs(byws) do
        local f = {}
        for k, i in ipairs(idx) do
            f[k] = string.format('%d', ids[i][1])
        end
        local got = redis.call('HMGET', k_ws(w) .. ':' .. args[7]
                               .. ':json', unpack(f))
        for k, i in ipairs(idx) do
            json[i] = got[k]
        end
    end

    local parts = {}
    for i = 1, n do
        local head = '{"id": ' .. string.format('%d', ids[i][1])
                     .. ', "workspace_id": ' .. ids[i][2] .. ', '
        local j = json[i]
        if not j or #j <= #head or string.sub(j, 1, #head) ~= head
           or string.sub(j, -1) ~= '}'
        then
            parts = nil
            break
        end
        parts[i] = j
    end

    if parts and n > 0 then
        out[3] = 'JSON'
        out[4] = table.concat(parts, ', ')
        return out
    end

    -- Otherwise per record {id, workspace, rendering or fields}, for the
    -- backend to check and render.  A record gone from under its index
    -- (never, but for a crash between two writes of sqctl) is all nil:
    -- the backend skips it.
    for i = 1, n do
        local id = string.format('%d', ids[i][1])
        local key = k_rec(ids[i][2], args[6], id)
        out[i + 2] = {id, ids[i][2], json[i]
                                     or redis.call('HGET', key, '_json')
                                     or sq_rec_fields(key, names)}
    end

    return out
end

-- sq_res_one: a record, when the identity may see it.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:recws:<res>:<id> (the
--   record is read in the identity's workspace, or the directory's)
--   ARGV[1..5] common, ARGV[6..] the schema's field names
-- Returns {'OK', {id, workspace_id, mode, created_at, updated_at,
-- fields...}} or a refusal.
local function sq_res_one(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local key = sq_rec_of(keys[3], args[2])
    if not key then
        return {'NOTFOUND'}
    end

    local v = sq_rec_fields(key, {unpack(args, 6)})
    if not sq_req_sees(args, v[2], v[3]) then
        return {'NOTFOUND'}
    end

    return {'OK', v}
end

-- sq_res_insert: a new record (its unique value, the record, the index)
-- with the checks, the home workspace, the id draw and the nonce claim in
-- the same call.
--   KEYS[1] nonce, KEYS[2] members or '', KEYS[3] a referenced record's
--   directory sq:recws:<res>:<id> or '' (the reference is looked for in
--   the new record's workspace)
--   ARGV[1..5] common, ARGV[6] the resource name (sequence, record
--   sq:ws:{w<wid>}:rec:<res>:<id> and its directory
--   sq:recws:<res>:<id>), ARGV[7] the index suffix '<infix><plural>',
--   ARGV[8] the unique index suffix '<infix><unique_key>' or '',
--   ARGV[9] the unique value, ARGV[10] now, ARGV[11] the record's JSON
--   after its "workspace_id" member or '' (none stored),
--   ARGV[12..] field value pairs
-- Returns {'OK', id, workspace id} or a refusal.
local function sq_res_insert(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local wid = args[2]
    if wid == '' then
        wid = redis.call('HGET', k_user(args[1]),
                         'primary_workspace_id')
        if not wid or wid == '' or wid == '0' then
            return {'NOPRIMARY'}
        end
        if not sq_in_list(args[3], wid) then
            return {'WSKEY'}
        end
        if redis.call('SISMEMBER', k_members(wid),
                      args[1]) == 0
        then
            return {'FORBIDDEN'}
        end
    end

    if keys[3] ~= '' then
        local rk = sq_rec_of(keys[3], wid)
        local ref = rk and redis.call('HMGET', rk, 'workspace_id', 'mode')
                    or {}
        if ref[1] ~= wid or (ref[2] or 'live') ~= args[4] then
            return {'BADREF'}
        end
    end

    local id = tostring(redis.call('INCR', 'sq:seq:' .. args[6]))
    local ws = k_ws(wid) .. ':'

    if args[8] ~= '' then
        if redis.call('HSETNX', ws .. args[8], args[9], id) == 0 then
            return {'TAKEN'}
        end
    end

    redis.call('SET', k_recws(args[6], id), wid, 'NX')
    redis.call('HSET', k_rec(wid, args[6], id), 'id', id,
               'workspace_id', wid, 'mode', args[4], 'created_at', args[10],
               'updated_at', args[10], unpack(args, 12))
    redis.call('ZADD', ws .. args[7], id, id)
    -- the rendering, in the index's rendering hash (a page's are one HMGET)
    if args[11] ~= '' then
        redis.call('HSET', ws .. args[7] .. ':json', id,
                   '{"id": ' .. id .. ', "workspace_id": ' .. wid .. args[11])
    end
    sq_req_claim(keys, args)

    return {'OK', id, wid}
end

-- sq_res_modify: sq_res_update with the checks and the nonce claim.
--   KEYS[1] nonce, KEYS[2] members or '', KEYS[3] the record
--   sq:ws:{w<wid>}:rec:<res>:<id>, KEYS[4] the unique index or '',
--   KEYS[5] a referenced record's directory sq:recws:<res>:<id> or ''
--   (looked for in the record's workspace),
--   KEYS[6] the workspace index's rendering hash,
--   sq:ws:{w<wid>}:<infix><plural>:json
--   ARGV[1..5] common, ARGV[6] the record's JSON once written or '' (the
--   update writes or deletes every schema field), ARGV[7..]
--   sq_res_update's ARGV
local function sq_res_modify(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local ref = ''
    if keys[5] ~= '' then
        ref = sq_rec_of(keys[5], args[8])
        if not ref
           or (redis.call('HGET', ref, 'mode') or 'live') ~= args[4]
        then
            return {'BADREF'}
        end
    end

    local rh = keys[6] or ''
    local rc = sq_res_update({keys[3], keys[4], ref, rh},
                             {unpack(args, 7)})
    if rc == 'OK' then
        -- the new rendering (sq_res_update dropped the old one)
        if rh ~= '' and args[6] ~= '' then
            redis.call('HSET', rh, args[7], args[6])
        end
        sq_req_claim(keys, args)
    end

    return {rc}
end

-- sq_res_remove: sq_res_delete of a record the identity may see, with
-- the checks and the nonce claim.
--   KEYS[1] nonce, KEYS[2] members or '', KEYS[3] sq:recws:<res>:<id>
--   (the record is read in the identity's workspace, or the
--   directory's; the directory goes with the record)
--   ARGV[1..5] common, ARGV[6] the index suffix '<infix><plural>',
--   ARGV[7] the unique field or '', ARGV[8] the unique index suffix
--   '<infix><unique_key>' or ''
-- Returns {'OK', id, workspace id} or a refusal.
local function sq_res_remove(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local key = sq_rec_of(keys[3], args[2])
    local rec = key and redis.call('HMGET', key, 'id', 'workspace_id',
                                   'mode') or {}
    if not rec[1] or not sq_req_sees(args, rec[2], rec[3]) then
        return {'NOTFOUND'}
    end

    local ws = k_ws(rec[2]) .. ':'
    redis.call('DEL', keys[3])
    sq_res_delete({key, ws .. args[6],
                   args[8] ~= '' and ws .. args[8] or ''},
                  {rec[1], rec[2], args[7]})
    sq_req_claim(keys, args)

    return {'OK', rec[1], rec[2]}
end

redis.register_function{
    function_name = 'sq_res_page',
    callback = sq_res_page,
    flags = {'no-writes'}
}
redis.register_function{
    function_name = 'sq_res_one',
    callback = sq_res_one,
    flags = {'no-writes'}
}
redis.register_function('sq_res_insert', sq_res_insert)
redis.register_function('sq_res_modify', sq_res_modify)
redis.register_function('sq_res_remove', sq_res_remove)


-- sq_me: GET /v1/me in one call: the user and their workspaces' names.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:user:{u<uid>},
--   KEYS[4] sq:user:{u<uid>}:workspaces
--   ARGV[1..5] common (sq_req_check)
-- Returns {'OK', {id, email, name, primary_workspace_id},
-- {wid, name, wid, name, ...}} (the first 1000 workspaces; each
-- workspace's sq:ws:{w<wid>} is computed) or a refusal.
local function sq_me(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local u = redis.call('HMGET', keys[3], 'id', 'email', 'name',
                         'primary_workspace_id')
    local ws = {}

    for _, w in ipairs(redis.call('ZRANGE', keys[4], 0, 999)) do
        ws[#ws + 1] = w
        ws[#ws + 1] = redis.call('HGET', k_ws(w), 'name')
    end

    return {'OK', u, ws}
end

redis.register_function{
    function_name = 'sq_me',
    callback = sq_me,
    flags = {'no-writes'}
}


--[[
  API keys (/v1/keys in the backend, `sqctl key` in the CLI; sq_store_key.c
  builds every call).  Each operation is one atomic call; the backend's
  no-escalation rule (sq_key_reach) is decided in C on a record read with
  sq_key_one, and the write that follows passes that record's version (a
  SHA-1 of the fields C decided on); the write refuses with 'CONFLICT'
  when they changed since, and C reads and decides again.

  KEYS[1], KEYS[2] and ARGV[1..5] are the common ones above; ARGV[1] (the
  uid) is '' for sqctl, which may act on any user's key, and then KEYS[1]
  and KEYS[2] are '' too.  A key of another user, a deleted one and an
  unknown id are all {'NOTFOUND'}.

  A key's entry, as sq_key_one, sq_key_set, sq_key_page and sq_key_usage
  return it: {digest, HGETALL of sq:key:{<digest>}, {last_used_at,
  last_used_ip} of sq:keyuse:{<digest>}, version}.  The backend checks the
  digest's form and the record's fields.
]]

local SQ_KEY_FIELDS = {'type', 'mode', 'scopes', 'workspaces', 'status',
                       'rotated_at', 'sunset_at'}

-- what a no-escalation decision read, hashed: the writes compare it
local function sq_key_version(rec)
    local v = redis.call('HMGET', rec, unpack(SQ_KEY_FIELDS))
    for i = 1, #SQ_KEY_FIELDS do
        v[i] = v[i] or ''
    end
    return redis.sha1hex(table.concat(v, '\n'))
end

local function sq_key_entry(digest)
    local rec = k_key(digest)
    return {digest, redis.call('HGETALL', rec),
            redis.call('HMGET', k_keyuse(digest), 'last_used_at',
                       'last_used_ip'),
            sq_key_version(rec)}
end

-- the digest of a key the caller (ARGV[1], '' for any) may act on, or nil
local function sq_key_find(idkey, uid)
    local digest = redis.call('GET', idkey)
    if not digest then
        return nil
    end

    local rec = redis.call('HMGET', k_key(digest), 'user_id',
                           'status')
    if not rec[1] or rec[2] == 'deleted' or (uid ~= '' and rec[1] ~= uid)
    then
        return nil
    end

    return digest
end

-- a new active key's record at rec, with its id drawn here, the id's
-- digest and the owner's set: what create and rotate both write
local function sq_key_add(rec, digest, f)
    local id = tostring(redis.call('INCR', 'sq:seq:key'))
    redis.call('HSET', rec, 'id', id, 'user_id', f.uid, 'type', f.type,
               'mode', f.mode, 'status', 'active', 'scopes', f.scopes,
               'workspaces', f.workspaces, 'expires_at', f.expires_at,
               'rotated_at', '0', 'sunset_at', '0', 'replaced_by', '0',
               'name', f.name, 'created_at', f.created_at, 'last4', f.last4)
    -- issue 16 (keyops): the owner (default the key's user) and purpose
    redis.call('HSET', rec, 'owner_id', f.owner or f.uid,
               'purpose', f.purpose or '')
    redis.call('SET', 'sq:keyid:' .. id, digest)
    redis.call('SADD', k_user(f.uid) .. ':keys', id)
    return id
end

-- issue 16 (keyops): whether a user may name another as a key's owner;
-- defined in the keyops block at the end
local sq_ko_owner_allowed

-- a time field that is set (not absent, empty or zero)
local function sq_key_set_time(v)
    return (tonumber(v or '0') or 0) ~= 0
end

-- sq_key_one: a key.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:keyid:<id>
--   ARGV[1..5] common
-- Returns {'OK', entry} or a refusal.
local function sq_key_one(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local digest = sq_key_find(keys[3], args[1])
    if not digest then
        return {'NOTFOUND'}
    end

    return {'OK', sq_key_entry(digest)}
end

-- sq_key_create: a new key, its id drawn here.
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:key:{<digest>}
--   ARGV[1..5] common, ARGV[6] the digest, ARGV[7] the owner,
--   ARGV[8] type, ARGV[9] mode, ARGV[10] scopes, ARGV[11] workspaces,
--   ARGV[12] expires_at, ARGV[13] name, ARGV[14] created_at, ARGV[15] last4,
--   ARGV[16] owner_id or '' (the owner, ARGV[7]), ARGV[17] purpose or ''
--   (issue 16; absent from older callers)
-- Returns {'OK', id}, {'NOTFOUND'} (no such user) or {'WSMEMBER'} (a
-- listed workspace is not the calling user's; sqctl checks its own).
local function sq_key_create(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local uid = args[7]
    if redis.call('EXISTS', k_user(uid)) == 0 then
        return {'NOTFOUND'}
    end

    -- a user's own call (the backend): only workspaces they are in
    if args[1] ~= '' then
        for w in string.gmatch(args[11], '[^,]+') do
            if redis.call('SISMEMBER', k_members(w),
                          args[1]) == 0
            then
                return {'WSMEMBER'}
            end
        end
    end

    if (args[16] or '') ~= '' and not sq_ko_owner_allowed(args[1], args[16])
    then
        return {'NOUSER'}
    end

    local id = sq_key_add(keys[3], args[6], {
        uid = uid, type = args[8], mode = args[9], scopes = args[10],
        workspaces = args[11], expires_at = args[12], name = args[13],
        created_at = args[14], last4 = args[15],
        owner = (args[16] or '') ~= '' and args[16] or nil,
        purpose = args[17]})
    sq_req_claim(keys, args)

    return {'OK', id}
end

-- sq_key_rotate: a new key with the old one's settings; the old one gets
-- rotated_at, sunset_at (now + grace) and replaced_by.
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:keyid:<old id>,
--   KEYS[4] sq:key:{<new digest>}
--   ARGV[1..5] common, ARGV[6] the new digest, ARGV[7] grace seconds,
--   ARGV[8] now, ARGV[9] the new key's last4, ARGV[10] the old key's
--   version as C decided on it, or '' (sqctl: no check)
-- Returns {'OK', entry of the new key}, 'NOTFOUND', 'CONFLICT' or
-- 'STATE' (rotated already).
local function sq_key_rotate(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local digest = sq_key_find(keys[3], args[1])
    if not digest then
        return {'NOTFOUND'}
    end

    local old = k_key(digest)
    if args[10] ~= '' and sq_key_version(old) ~= args[10] then
        return {'CONFLICT'}
    end

    local o = redis.call('HMGET', old, 'rotated_at', 'sunset_at', 'user_id',
                         'type', 'mode', 'scopes', 'workspaces',
                         'expires_at', 'name', 'owner_id', 'purpose')
    if sq_key_set_time(o[1]) or sq_key_set_time(o[2]) then
        return {'STATE'}
    end

    local id = sq_key_add(keys[4], args[6], {
        uid = o[3], type = o[4] or 'secret', mode = o[5] or 'live',
        scopes = o[6] or '', workspaces = o[7] or '',
        expires_at = o[8] or '0', name = o[9] or '', created_at = args[8],
        last4 = args[9], owner = o[10], purpose = o[11]})
    local now = tonumber(args[8])
    redis.call('HSET', old, 'rotated_at', args[8],
               'sunset_at', string.format('%d', now + tonumber(args[7])),
               'replaced_by', id)
    sq_req_claim(keys, args)

    return {'OK', sq_key_entry(args[6])}
end

-- sq_key_set: status 'active', 'disabled' or 'deleted' (a tombstone, out
-- of sq:user:{u<uid>}:keys).  Always a write to sq:key:{<digest>}, so the
-- edge's cache drops the key on its keyspace event.
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:keyid:<id>
--   ARGV[1..5] common, ARGV[6] the status, ARGV[7] the version C decided
--   on, or '' (no check: disabling takes power away; sqctl)
-- Returns {'OK', entry after the write}, 'NOTFOUND' or 'CONFLICT'.
local function sq_key_set(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local digest = sq_key_find(keys[3], args[1])
    if not digest then
        return {'NOTFOUND'}
    end

    local rec = k_key(digest)
    if args[7] ~= '' and sq_key_version(rec) ~= args[7] then
        return {'CONFLICT'}
    end

    redis.call('HSET', rec, 'status', args[6])
    if args[6] == 'deleted' then
        local r = redis.call('HMGET', rec, 'user_id', 'id')
        redis.call('SREM', k_user(r[1]) .. ':keys', r[2])
    end
    sq_req_claim(keys, args)

    return {'OK', sq_key_entry(digest)}
end

-- sq_key_page: the owner's keys with id > after, ascending.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:user:{u<uid>}:keys
--   ARGV[1..5] common (ARGV[1] the owner), ARGV[6] after, ARGV[7] limit,
--   ARGV[8] the most ids a user may have
-- Returns {'OK', next id or '0', entry, ...} or {'TOOMANY'}.
local function sq_key_page(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    if redis.call('SCARD', keys[3]) > tonumber(args[8]) then
        return {'TOOMANY'}
    end

    local ids = redis.call('SMEMBERS', keys[3])
    local after, limit = tonumber(args[6]), tonumber(args[7])
    local out, n, last = {'OK', '0'}, 0, nil

    for i = 1, #ids do
        ids[i] = tonumber(ids[i]) or 0
    end
    table.sort(ids)

    for _, id in ipairs(ids) do
        if id > after then
            if n == limit then
                out[2] = last
                break
            end
            local s = string.format('%d', id)
            local digest = sq_key_find('sq:keyid:' .. s, args[1])
            if digest then
                n = n + 1
                out[n + 2] = sq_key_entry(digest)
                last = s
            end
        end
    end

    return out
end

-- sq_key_usage: request counts per UTC day, and the key when asked.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:keyid:<id> or '' (no
--   key check)
--   ARGV[1..5] common, ARGV[6] the key id, ARGV[7] the days,
--   space-separated yyyymmdd
-- Returns {'OK', entry or nil, {allowed, denied, allowed, denied, ...}}.
local function sq_key_usage(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local entry = false
    if keys[3] ~= '' then
        local digest = sq_key_find(keys[3], args[1])
        if not digest then
            return {'NOTFOUND'}
        end
        entry = sq_key_entry(digest)
    end

    local counts = {}
    for day in string.gmatch(args[7], '%d+') do
        local v = redis.call('HMGET', 'sq:usage:' .. args[6] .. ':' .. day,
                             'allowed', 'denied')
        counts[#counts + 1] = v[1]
        counts[#counts + 1] = v[2]
    end

    return {'OK', entry, counts}
end

redis.register_function{
    function_name = 'sq_key_one',
    callback = sq_key_one,
    flags = {'no-writes'}
}
redis.register_function('sq_key_create', sq_key_create)
redis.register_function('sq_key_rotate', sq_key_rotate)
redis.register_function('sq_key_set', sq_key_set)
redis.register_function{
    function_name = 'sq_key_page',
    callback = sq_key_page,
    flags = {'no-writes'}
}
redis.register_function{
    function_name = 'sq_key_usage',
    callback = sq_key_usage,
    flags = {'no-writes'}
}

--[[
  API Applications (OAuth 2 clients): layout in redis/SCHEMA.md, "API
  Applications".  sq_grant_revoke is the one way a token family ends;
  the app functions (sq_app_*) and the flow's (sq_oauth_*) below use it.
]]

-- sq_grant_revoke: ends grant gid, every access token of it (a write to
-- each token's sq:key:{<digest>}, so every edge's cache drops it) and every
-- refresh token.  Returns the number of access tokens it revoked.
local function sq_grant_revoke(gid, now, reason)
    local g = 'sq:grant:' .. gid
    local n = 0

    if redis.call('EXISTS', g) == 0 then
        return 0
    end

    if redis.call('HGET', g, 'status') ~= 'revoked' then
        redis.call('HSET', g, 'status', 'revoked', 'revoked_at', now,
                   'revoke_reason', reason)
    end

    for _, d in ipairs(redis.call('SMEMBERS', g .. ':access')) do
        local rec = k_key(d)
        local st = redis.call('HGET', rec, 'status')
        if st and st ~= 'revoked' then
            redis.call('HSET', rec, 'status', 'revoked')
            n = n + 1
        end
    end

    for _, d in ipairs(redis.call('SMEMBERS', g .. ':refresh')) do
        local rec = 'sq:refresh:' .. d
        if redis.call('EXISTS', rec) == 1 then
            redis.call('HSET', rec, 'status', 'revoked')
        end
    end

    return n
end

-- every grant of app id (disable, delete, secret rotated with revoke)
local function sq_app_revoke_grants(id, now, reason)
    local n = 0
    for _, gid in ipairs(redis.call('ZRANGE', k_app(id) .. ':grants',
                                    0, -1))
    do
        n = n + sq_grant_revoke(gid, now, reason)
    end
    return n
end

-- === managing apps (sq_app_*): issue 14, "apps" ===

--[[
  API Applications management (/v1/apps in the backend, `sqctl app` in
  the CLI; backend/src/sq_store_app.c builds every call).  KEYS[1],
  KEYS[2] and ARGV[1..5] are the common ones above; ARGV[1] '' is sqctl,
  which may act on any app (KEYS[1] and KEYS[2] are '' then).

  The caller of everything but its own authorizations must be a member
  of the app's workspace, the workspace must be in the calling key's
  list and, when the identity names a workspace, be that one
  (sq_app_member).  An app that fails this, an unknown id and a deleted
  app are all {'NOTFOUND'}.  The backend decides the no-escalation rule
  (an app's scopes within the calling key's) before the call: it needs
  no record.

  An app's entry: its fields in SQ_APP_FIELDS order, '' when absent;
  never secret_hash or prev_secret_hash.  A grant's: SQ_GRANT_FIELDS.
]]

local SQ_APP_FIELDS = {'id', 'client_id', 'name', 'type', 'redirect_uris',
                       'scopes', 'workspace_id', 'owner_id', 'status',
                       'secret_last4', 'created_at', 'updated_at',
                       'last_used_at', 'prev_secret_until',
                       'purpose'}   -- issue 16 (keyops)

local SQ_GRANT_FIELDS = {'id', 'app_id', 'user_id', 'workspace_id',
                         'scopes', 'status', 'created_at', 'revoked_at',
                         'revoke_reason'}

local function sq_app_hmget(key, fields)
    local v = redis.call('HMGET', key, unpack(fields))
    for i = 1, #fields do
        v[i] = v[i] or ''
    end
    return v
end

local function sq_app_entry(rec)
    return sq_app_hmget(rec, SQ_APP_FIELDS)
end

-- the caller (ARGV[1], '' for sqctl) may manage apps of workspace wid
local function sq_app_member(args, wid)
    if args[1] == '' then
        return true
    end

    if not wid or not sq_in_list(args[3], wid) then
        return false
    end

    if args[2] ~= '' and wid ~= args[2] then
        return false
    end

    return redis.call('SISMEMBER', k_members(wid),
                      args[1]) == 1
end

-- the workspace of the app at rec when it exists and is not deleted
local function sq_app_live(rec)
    local r = redis.call('HMGET', rec, 'id', 'workspace_id', 'status')
    if not r[1] or not r[2] or r[3] == 'deleted' then
        return nil
    end
    return r[2]
end

-- the app's workspace when the caller may manage it, else nil
local function sq_app_find(rec, args)
    local wid = sq_app_live(rec)
    if not wid or not sq_app_member(args, wid) then
        return nil
    end
    return wid
end

-- every scope of have is one of allowed (both space-separated)
local function sq_app_scopes_within(have, allowed)
    local set = {}
    for s in string.gmatch(allowed, '%S+') do
        set[s] = true
    end
    for s in string.gmatch(have or '', '%S+') do
        if not set[s] then
            return false
        end
    end
    return true
end

-- sq_app_create: a new app, its id drawn here.
--   KEYS[1] nonce or '', KEYS[2] members or '',
--   KEYS[3] sq:appclient:<client_id>
--   ARGV[1..5] common, ARGV[6] the owning workspace, ARGV[7] the owner,
--   ARGV[8] client_id, ARGV[9] name, ARGV[10] type, ARGV[11]
--   redirect_uris (one per line), ARGV[12] scopes, ARGV[13] the secret's
--   digest ('' for a public app), ARGV[14] its last4, ARGV[15] now,
--   ARGV[16] purpose (issue 16; absent from older callers)
-- Returns {'OK', entry}, {'FORBIDDEN'} (the caller or, for sqctl, the
-- owner is not a member of that workspace; or no such workspace) or
-- {'CONFLICT'} (the client_id exists: the backend draws another).
local function sq_app_create(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local wid, owner = args[6], args[7]
    if redis.call('EXISTS', k_ws(wid)) == 0
       or not sq_app_member(args, wid)
       or redis.call('SISMEMBER', k_members(wid),
                     owner) == 0
    then
        return {'FORBIDDEN'}
    end

    if redis.call('EXISTS', keys[3]) == 1 then
        return {'CONFLICT'}
    end

    local id = tostring(redis.call('INCR', 'sq:seq:app'))
    local rec = k_app(id)
    redis.call('HSET', rec, 'id', id, 'client_id', args[8],
               'name', args[9], 'type', args[10],
               'redirect_uris', args[11], 'scopes', args[12],
               'workspace_id', wid, 'owner_id', owner, 'status', 'active',
               'secret_hash', args[13], 'secret_last4', args[14],
               'prev_secret_hash', '', 'prev_secret_until', '0',
               'created_at', args[15], 'updated_at', args[15],
               'last_used_at', '0', 'purpose', args[16] or '')
    redis.call('SET', keys[3], id)
    redis.call('ZADD', k_ws(wid) .. ':apps', id, id)
    sq_req_claim(keys, args)

    return {'OK', sq_app_entry(rec)}
end

-- sq_app_one: an app.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:app:{a<id>}
--   ARGV[1..5] common
-- Returns {'OK', entry} or a refusal.
local function sq_app_one(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    if not sq_app_find(keys[3], args) then
        return {'NOTFOUND'}
    end

    return {'OK', sq_app_entry(keys[3])}
end

-- ids > after of the zset idx, at most limit + 1, into ids
local function sq_app_ids_of(idx, after, limit, ids)
    local got = redis.call('ZRANGEBYSCORE', idx, '(' .. after, '+inf',
                           'LIMIT', 0, limit + 1)
    for i = 1, #got do
        ids[#ids + 1] = tonumber(got[i])
    end
end

-- sq_app_page: the apps the caller may manage with id > after, ascending.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] the index listed:
--   sq:ws:{w<wid>}:apps, sq:user:{u<uid>}:workspaces, or '' (sqctl, all)
--   ARGV[1..5] common, ARGV[6] after, ARGV[7] limit, ARGV[8] the
--   workspace asked for, or '' (every one the caller reaches)
-- Returns {'OK', next id or '0', entry, ...} or a refusal.
local function sq_app_page(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local after, limit = tonumber(args[6]), tonumber(args[7])
    local ids = {}

    if args[8] ~= '' then
        if not sq_app_member(args, args[8]) then
            return {'FORBIDDEN'}
        end
        sq_app_ids_of(k_ws(args[8]) .. ':apps', after, limit, ids)
    elseif args[1] ~= '' then
        for _, w in ipairs(redis.call('ZRANGE', keys[3], 0, 999)) do
            if sq_app_member(args, w) then
                sq_app_ids_of(k_ws(w) .. ':apps', after, limit, ids)
            end
        end
    else
        local last = tonumber(redis.call('GET', 'sq:seq:app') or '0')
        local id = after + 1
        while id <= last and #ids <= limit do
            if sq_app_live(k_app(id)) then
                ids[#ids + 1] = id
            end
            id = id + 1
        end
    end

    table.sort(ids)

    local out = {'OK', '0'}
    local n = #ids
    if n > limit then
        out[2] = string.format('%d', ids[limit])
        n = limit
    end

    for i = 1, n do
        out[i + 2] = sq_app_entry(k_app(string.format('%d', ids[i])))
    end

    return out
end

-- every grant of app id holding a scope outside scopes ends
local function sq_app_narrow_grants(id, scopes, now)
    local n = 0
    for _, gid in ipairs(redis.call('ZRANGE', k_app(id) .. ':grants',
                                    0, -1))
    do
        local g = redis.call('HMGET', 'sq:grant:' .. gid, 'scopes',
                             'status')
        if g[2] == 'active' and not sq_app_scopes_within(g[1], scopes) then
            n = n + sq_grant_revoke(gid, now, 'revoked')
        end
    end
    return n
end

-- sq_app_update: name, redirect_uris and scopes (PATCH).  Narrowed
-- scopes end every grant that holds a scope the app no longer has.
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:app:{a<id>}
--   ARGV[1..5] common, ARGV[6] now, ARGV[7..] field value pairs, fields
--   among name, redirect_uris, scopes, owner_id, purpose (issue 16:
--   'NOUSER' when the owner is no user the caller may name)
-- Returns {'OK', entry, tokens revoked} or a refusal.
local function sq_app_update(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    if not sq_app_find(keys[3], args) then
        return {'NOTFOUND'}
    end

    local scopes = nil
    for i = 7, #args - 1, 2 do
        local f = args[i]
        if f ~= 'name' and f ~= 'redirect_uris' and f ~= 'scopes'
           and f ~= 'owner_id' and f ~= 'purpose'
        then
            return redis.error_reply('sq_app_update: field ' .. f)
        end
        -- issue 16 (keyops): an owner the caller may name
        if f == 'owner_id' and not sq_ko_owner_allowed(args[1], args[i + 1])
        then
            return {'NOUSER'}
        end
    end
    for i = 7, #args - 1, 2 do
        local f = args[i]
        redis.call('HSET', keys[3], f, args[i + 1])
        if f == 'scopes' then
            scopes = args[i + 1]
        end
    end
    redis.call('HSET', keys[3], 'updated_at', args[6])

    local n = 0
    if scopes then
        n = sq_app_narrow_grants(redis.call('HGET', keys[3], 'id'), scopes,
                                 args[6])
    end
    sq_req_claim(keys, args)

    return {'OK', sq_app_entry(keys[3]), n}
end

-- sq_app_set: status 'active', 'disabled' or 'deleted' (the record
-- stays, out of its workspace's index).  Disabling and deleting end
-- every grant of the app (sq_app_revoke_grants) in the same call.
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:app:{a<id>}
--   ARGV[1..5] common, ARGV[6] the status, ARGV[7] now
-- Returns {'OK', entry, tokens revoked} or a refusal.
local function sq_app_set(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local wid = sq_app_find(keys[3], args)
    if not wid then
        return {'NOTFOUND'}
    end

    local id, st, now = redis.call('HGET', keys[3], 'id'), args[6], args[7]
    if st ~= 'active' and st ~= 'disabled' and st ~= 'deleted' then
        return redis.error_reply('sq_app_set: status ' .. st)
    end

    redis.call('HSET', keys[3], 'status', st, 'updated_at', now)

    local n = 0
    if st == 'disabled' then
        n = sq_app_revoke_grants(id, now, 'app_disabled')
    elseif st == 'deleted' then
        n = sq_app_revoke_grants(id, now, 'app_deleted')
        redis.call('ZREM', k_ws(wid) .. ':apps', id)
    end
    sq_req_claim(keys, args)

    return {'OK', sq_app_entry(keys[3]), n}
end

-- sq_app_rotate_secret: a new client secret; the old one authenticates
-- until now + grace (0: not at all).  With revoke, every grant ends.
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:app:{a<id>}
--   ARGV[1..5] common, ARGV[6] the new secret's digest, ARGV[7] its
--   last4, ARGV[8] grace seconds, ARGV[9] '1' to revoke, ARGV[10] now
-- Returns {'OK', entry, tokens revoked}, {'STATE'} (a public app has no
-- secret) or a refusal.
local function sq_app_rotate_secret(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    if not sq_app_find(keys[3], args) then
        return {'NOTFOUND'}
    end

    local a = redis.call('HMGET', keys[3], 'id', 'type', 'secret_hash')
    if a[2] ~= 'confidential' then
        return {'STATE'}
    end

    local now, grace = tonumber(args[10]), tonumber(args[8])
    if grace > 0 then
        redis.call('HSET', keys[3], 'prev_secret_hash', a[3] or '',
                   'prev_secret_until', string.format('%d', now + grace))
    else
        redis.call('HSET', keys[3], 'prev_secret_hash', '',
                   'prev_secret_until', '0')
    end
    redis.call('HSET', keys[3], 'secret_hash', args[6],
               'secret_last4', args[7], 'updated_at', args[10])

    local n = 0
    if args[9] == '1' then
        n = sq_app_revoke_grants(a[1], args[10], 'secret_rotated')
    end
    sq_req_claim(keys, args)

    return {'OK', sq_app_entry(keys[3]), n}
end

-- sq_app_grants: the app's grants with id > after, ascending: all of
-- them for a member of the app's workspace, else the caller's own (none:
-- {'NOTFOUND'}, as for an app the caller cannot see).
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:app:{a<id>}
--   ARGV[1..5] common, ARGV[6] after, ARGV[7] limit, ARGV[8] the most
--   grants read
-- Returns {'OK', next id or '0', grant entry, ...}, {'TOOMANY'} or a
-- refusal.
local function sq_app_grants(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local wid = sq_app_live(keys[3])
    if not wid then
        return {'NOTFOUND'}
    end

    local all = sq_app_member(args, wid)
    local id = redis.call('HGET', keys[3], 'id')
    local idx = k_app(id) .. ':grants'
    if redis.call('ZCARD', idx) > tonumber(args[8]) then
        return {'TOOMANY'}
    end

    local ids, mine = {}, 0
    for _, g in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
        local uid = redis.call('HGET', 'sq:grant:' .. g, 'user_id')
        if all or uid == args[1] then
            ids[#ids + 1] = tonumber(g)
            mine = mine + 1
        end
    end

    if not all and mine == 0 then
        return {'NOTFOUND'}
    end

    table.sort(ids)

    local after, limit = tonumber(args[6]), tonumber(args[7])
    local out, n, last = {'OK', '0'}, 0, nil
    for _, g in ipairs(ids) do
        if g > after then
            if n == limit then
                out[2] = last
                break
            end
            last = string.format('%d', g)
            n = n + 1
            out[n + 2] = sq_app_hmget('sq:grant:' .. last, SQ_GRANT_FIELDS)
        end
    end

    return out
end

-- sq_app_grant_revoke: ends one grant of the app (DELETE of an
-- authorization), for a member of the app's workspace or the grant's
-- user.  A revoked grant stays revoked (the reply is the same).
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:app:{a<id>},
--   KEYS[4] sq:grant:<gid>
--   ARGV[1..5] common, ARGV[6] the grant id, ARGV[7] now
-- Returns {'OK', grant entry, tokens revoked} or a refusal.
local function sq_app_grant_revoke(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local wid = sq_app_live(keys[3])
    if not wid then
        return {'NOTFOUND'}
    end

    local g = redis.call('HMGET', keys[4], 'app_id', 'user_id')
    if not g[1] or g[1] ~= redis.call('HGET', keys[3], 'id')
       or not (sq_app_member(args, wid) or g[2] == args[1])
    then
        return {'NOTFOUND'}
    end

    local n = sq_grant_revoke(args[6], args[7], 'user')
    sq_req_claim(keys, args)

    return {'OK', sq_app_hmget(keys[4], SQ_GRANT_FIELDS), n}
end

-- sq_app_outcomes: the app's authorize outcomes, counted and the latest.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:app:{a<id>}
--   ARGV[1..5] common, ARGV[6] how many recent entries
-- Returns {'OK', {approved, denied, error}, XREVRANGE of the stream} or
-- a refusal.
local function sq_app_outcomes(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    if not sq_app_find(keys[3], args) then
        return {'NOTFOUND'}
    end

    local base = k_app(redis.call('HGET', keys[3], 'id'))
    local c = sq_app_hmget(base .. ':outcome_counts',
                           {'approved', 'denied', 'error'})

    return {'OK', c, redis.call('XREVRANGE', base .. ':outcomes', '+', '-',
                                'COUNT', args[6])}
end

redis.register_function('sq_app_create', sq_app_create)
redis.register_function{
    function_name = 'sq_app_one',
    callback = sq_app_one,
    flags = {'no-writes'}
}
redis.register_function{
    function_name = 'sq_app_page',
    callback = sq_app_page,
    flags = {'no-writes'}
}
redis.register_function('sq_app_update', sq_app_update)
redis.register_function('sq_app_set', sq_app_set)
redis.register_function('sq_app_rotate_secret', sq_app_rotate_secret)
redis.register_function{
    function_name = 'sq_app_grants',
    callback = sq_app_grants,
    flags = {'no-writes'}
}
redis.register_function('sq_app_grant_revoke', sq_app_grant_revoke)
redis.register_function{
    function_name = 'sq_app_outcomes',
    callback = sq_app_outcomes,
    flags = {'no-writes'}
}

-- === the OAuth flow (sq_oauth_*): issue 14, "oauth" ===

--[[
  The authorization server's calls (backend/src/sq_public.c and the
  files it dispatches to).  They take no identity (the endpoints are
  public); the C side checks passwords, client secrets, CSRF tokens and
  redirect URIs (constant-time compares, exact matches) and the
  functions keep what must be atomic: rate-limit counters, a code's
  single use, a refresh token's rotation, a family's revocation.
  Refusals are {'INVALID_GRANT', why}, {'INVALID_SCOPE'}, {'NOTFOUND'},
  {'FORBIDDEN'}; why is a word for the log, never sent to a client.
]]

local SQ_OAUTH_ACCESS_TTL = 3600
local SQ_OAUTH_REFRESH_TTL = 2592000
local SQ_OAUTH_CODE_TTL = 60
local SQ_OAUTH_CODE_KEEP = 120

local SQ_OAUTH_APP_FIELDS = {'id', 'name', 'type', 'redirect_uris',
                             'scopes', 'workspace_id', 'status',
                             'secret_hash', 'prev_secret_hash',
                             'prev_secret_until', 'client_id'}

-- the space-separated words of s as a set
local function sq_oauth_words(s)
    local set = {}
    for w in string.gmatch(s or '', '%S+') do
        set[w] = true
    end
    return set
end

-- one authorize outcome: the stream entry and its count, one call
local function sq_oauth_outcome_add(app_id, outcome, reason, uid, wid,
                                    scopes, at)
    local a = k_app(app_id)
    redis.call('XADD', a .. ':outcomes', 'MAXLEN', '~', '1000', '*',
               'outcome', outcome, 'reason', reason, 'user_id', uid,
               'workspace_id', wid, 'scopes', scopes, 'at', at)
    redis.call('HINCRBY', a .. ':outcome_counts', outcome, 1)
end

-- an access token's key record (SCHEMA.md) and a refresh token's, both
-- in grant gid's family
local function sq_oauth_tokens(g, access, refresh, a)
    local now = tonumber(a.now)
    local id = tostring(redis.call('INCR', 'sq:seq:key'))
    local akey = k_key(access)
    local rkey = 'sq:refresh:' .. refresh
    local rexp = now + SQ_OAUTH_REFRESH_TTL

    redis.call('HSET', akey, 'id', id, 'user_id', g.uid, 'type', 'oauth',
               'mode', 'live', 'status', 'active', 'scopes', g.scopes,
               'workspaces', g.wid,
               'expires_at', string.format('%d', now + SQ_OAUTH_ACCESS_TTL),
               'rotated_at', '0', 'sunset_at', '0', 'replaced_by', '0',
               'name', 'oauth', 'created_at', a.now, 'last4', a.last4,
               'app_id', g.app_id, 'grant_id', g.gid)
    redis.call('SADD', 'sq:grant:' .. g.gid .. ':access', access)

    redis.call('HSET', rkey, 'grant_id', g.gid, 'app_id', g.app_id,
               'user_id', g.uid, 'workspace_id', g.wid,
               'scopes', g.scopes, 'status', 'active',
               'created_at', a.now,
               'expires_at', string.format('%d', rexp))
    redis.call('EXPIREAT', rkey, rexp)
    redis.call('SADD', 'sq:grant:' .. g.gid .. ':refresh', refresh)

    redis.call('HSET', k_app(g.app_id), 'last_used_at', a.now)

    return id
end

-- sq_oauth_read: what authorize, consent and the token endpoint read.
--   KEYS[1] sq:appclient:<client_id>, KEYS[2] sq:session:<digest> or ''
-- Returns {'NOTFOUND'} (no such client) or {'OK', app fields
-- (SQ_OAUTH_APP_FIELDS order), the owner workspace's name, session
-- {user_id, csrf} or {}, the session user's workspaces {id, name, ...}}.
-- A deleted app is NOTFOUND.
local function sq_oauth_read(keys, args)
    local app_id = redis.call('GET', keys[1])
    if not app_id then
        return {'NOTFOUND'}
    end

    local app = redis.call('HMGET', k_app(app_id),
                           unpack(SQ_OAUTH_APP_FIELDS))
    if not app[1] or app[7] == 'deleted' then
        return {'NOTFOUND'}
    end
    for i = 1, #SQ_OAUTH_APP_FIELDS do
        app[i] = app[i] or ''
    end

    local owner = redis.call('HGET', k_ws(app[6]), 'name') or ''
    local sess, wss = {}, {}

    if keys[2] ~= '' then
        local s = redis.call('HMGET', keys[2], 'user_id', 'csrf')
        if s[1] and s[2] then
            sess = s
            for _, w in ipairs(redis.call('ZRANGE', k_user(s[1])
                                          .. ':workspaces', 0, 99))
            do
                wss[#wss + 1] = w
                wss[#wss + 1] = redis.call('HGET', k_ws(w), 'name')
                                or ''
            end
        end
    end

    return {'OK', app, owner, sess, wss}
end

-- sq_oauth_outcome: a denied or failed authorize.
--   KEYS[1] sq:app:{a<id>}:outcomes, KEYS[2] sq:app:{a<id>}:outcome_counts
--   ARGV[1] app id, ARGV[2] 'denied' | 'error', ARGV[3] reason,
--   ARGV[4] user id or '', ARGV[5] workspace id or '', ARGV[6] scopes,
--   ARGV[7] now
local function sq_oauth_outcome(keys, args)
    if args[2] ~= 'denied' and args[2] ~= 'error' then
        return {'INVALID'}
    end
    sq_oauth_outcome_add(args[1], args[2], args[3], args[4], args[5],
                         args[6], args[7])
    return {'OK'}
end

-- sq_oauth_code_issue: an approved consent: the code and its outcome.
--   KEYS[1] sq:oauthcode:<digest>, KEYS[2] outcomes, KEYS[3] counts
--   ARGV[1] app id, ARGV[2] client_id, ARGV[3] redirect_uri,
--   ARGV[4] user id, ARGV[5] workspace id, ARGV[6] scopes,
--   ARGV[7] challenge or '', ARGV[8] now
-- Returns {'OK'}, {'FORBIDDEN'} (the user is not a member of the
-- workspace) or {'NOTFOUND'} (the app is no longer active).
local function sq_oauth_code_issue(keys, args)
    local now = tonumber(args[8])

    if redis.call('HGET', k_app(args[1]), 'status') ~= 'active' then
        return {'NOTFOUND'}
    end
    if redis.call('SISMEMBER', k_members(args[5]),
                  args[4]) == 0
    then
        return {'FORBIDDEN'}
    end

    redis.call('HSET', keys[1], 'app_id', args[1], 'client_id', args[2],
               'redirect_uri', args[3], 'user_id', args[4],
               'workspace_id', args[5], 'scopes', args[6],
               'challenge', args[7], 'created_at', args[8],
               'expires_at', string.format('%d', now + SQ_OAUTH_CODE_TTL),
               'used', '0', 'grant_id', '')
    redis.call('EXPIRE', keys[1], SQ_OAUTH_CODE_KEEP)
    sq_oauth_outcome_add(args[1], 'approved', '', args[4], args[5],
                         args[6], args[8])

    return {'OK'}
end

-- sq_oauth_code_redeem: authorization_code, once the client is
-- authenticated (C).  A second use of a code revokes its grant's family.
--   KEYS[1] sq:oauthcode:<digest>, KEYS[2] sq:key:{<access digest>},
--   KEYS[3] sq:refresh:<refresh digest>
--   ARGV[1] app id, ARGV[2] redirect_uri, ARGV[3] the S256 of the
--   code_verifier or '' (none given), ARGV[4] now, ARGV[5] access digest,
--   ARGV[6] refresh digest, ARGV[7] the access token's last4
-- Returns {'OK', grant id, scopes, access key id} or
-- {'INVALID_GRANT', why}.
local function sq_oauth_code_redeem(keys, args)
    local c = redis.call('HMGET', keys[1], 'app_id', 'redirect_uri',
                         'user_id', 'workspace_id', 'scopes', 'challenge',
                         'expires_at', 'used', 'grant_id')
    local now = tonumber(args[4])

    if not c[1] then
        return {'INVALID_GRANT', 'unknown code'}
    end
    if c[1] ~= args[1] then
        return {'INVALID_GRANT', 'code of another client'}
    end
    if c[8] ~= '0' then
        if c[9] and c[9] ~= '' then
            sq_grant_revoke(c[9], args[4], 'code_reuse')
        end
        return {'INVALID_GRANT', 'code used twice: grant revoked'}
    end
    if now >= (tonumber(c[7]) or 0) then
        return {'INVALID_GRANT', 'code expired'}
    end
    if c[2] ~= args[2] then
        return {'INVALID_GRANT', 'redirect_uri differs'}
    end
    if c[6] ~= '' then
        if args[3] == '' then
            return {'INVALID_GRANT', 'code_verifier missing'}
        end
        if args[3] ~= c[6] then
            return {'INVALID_GRANT', 'code_verifier does not match'}
        end
    elseif args[3] ~= '' then
        return {'INVALID_GRANT', 'code_verifier without a challenge'}
    end
    if redis.call('HGET', k_app(args[1]), 'status') ~= 'active' then
        return {'INVALID_GRANT', 'app not active'}
    end

    local gid = tostring(redis.call('INCR', 'sq:seq:grant'))
    local g = {gid = gid, app_id = args[1], uid = c[3], wid = c[4],
               scopes = c[5]}

    redis.call('HSET', keys[1], 'used', '1', 'grant_id', gid)
    redis.call('HSET', 'sq:grant:' .. gid, 'id', gid, 'app_id', args[1],
               'user_id', c[3], 'workspace_id', c[4], 'scopes', c[5],
               'status', 'active', 'created_at', args[4],
               'revoked_at', '0', 'revoke_reason', '')
    redis.call('ZADD', k_app(args[1]) .. ':grants', now, gid)
    redis.call('ZADD', k_user(c[3]) .. ':grants', now, gid)

    local id = sq_oauth_tokens(g, args[5], args[6],
                               {now = args[4], last4 = args[7]})

    return {'OK', gid, c[5], id}
end

-- sq_oauth_refresh: refresh_token, once the client is authenticated.
-- The token rotates; a used one presented again revokes the family.
--   KEYS[1] sq:refresh:<old digest>, KEYS[2] sq:key:{<new access digest>},
--   KEYS[3] sq:refresh:<new refresh digest>
--   ARGV[1] app id, ARGV[2] scopes asked ('' = the same), ARGV[3] now,
--   ARGV[4] access digest, ARGV[5] refresh digest, ARGV[6] last4
-- Returns {'OK', grant id, scopes, access key id}, {'INVALID_GRANT',
-- why} or {'INVALID_SCOPE'}.
local function sq_oauth_refresh(keys, args)
    local r = redis.call('HMGET', keys[1], 'grant_id', 'app_id', 'user_id',
                         'workspace_id', 'scopes', 'status', 'expires_at')
    local now = tonumber(args[3])

    if not r[1] then
        return {'INVALID_GRANT', 'unknown refresh token'}
    end
    if r[2] ~= args[1] then
        return {'INVALID_GRANT', 'refresh token of another client'}
    end
    if r[6] == 'used' then
        sq_grant_revoke(r[1], args[3], 'refresh_reuse')
        return {'INVALID_GRANT', 'refresh token reused: family revoked'}
    end
    if r[6] ~= 'active'
       or redis.call('HGET', 'sq:grant:' .. r[1], 'status') ~= 'active'
    then
        return {'INVALID_GRANT', 'refresh token revoked'}
    end
    if now >= (tonumber(r[7]) or 0) then
        return {'INVALID_GRANT', 'refresh token expired'}
    end
    if redis.call('HGET', k_app(args[1]), 'status') ~= 'active' then
        return {'INVALID_GRANT', 'app not active'}
    end

    local scopes = r[5]
    if args[2] ~= '' then
        local held = sq_oauth_words(r[5])
        for w in string.gmatch(args[2], '%S+') do
            if not held[w] then
                return {'INVALID_SCOPE'}
            end
        end
        scopes = args[2]
    end

    redis.call('HSET', keys[1], 'status', 'used')

    local g = {gid = r[1], app_id = args[1], uid = r[3], wid = r[4],
               scopes = scopes}
    local id = sq_oauth_tokens(g, args[4], args[5],
                               {now = args[3], last4 = args[6]})

    return {'OK', r[1], scopes, id}
end

-- sq_oauth_revoke: RFC 7009, once the client is authenticated.  An
-- access token ends alone; a refresh token ends its whole family.  A
-- token that is unknown or another client's is left alone: the answer
-- is the same 200 (RFC 7009 2.2).
--   KEYS[1] sq:key:{<digest>} or '', KEYS[2] sq:refresh:<digest> or ''
--   ARGV[1] app id, ARGV[2] now
-- Returns {'OK', n}: the access tokens revoked.
local function sq_oauth_revoke(keys, args)
    if keys[1] ~= '' then
        local k = redis.call('HMGET', keys[1], 'type', 'app_id', 'status')
        if k[1] == 'oauth' and k[2] == args[1] and k[3] ~= 'revoked' then
            redis.call('HSET', keys[1], 'status', 'revoked')
            return {'OK', 1}
        end
    end

    if keys[2] ~= '' then
        local r = redis.call('HMGET', keys[2], 'grant_id', 'app_id')
        if r[1] and r[2] == args[1] then
            return {'OK', sq_grant_revoke(r[1], args[2], 'revoked')}
        end
    end

    return {'OK', 0}
end

-- sq_oauth_signin_read: a sign-in's rate-limit counters and the account.
--   KEYS[1] sq:useremail:<email>, KEYS[2] sq:rl:signin:acct:<email>,
--   KEYS[3] sq:rl:signin:ip:<ip>
-- Returns {'OK', account failures, IP failures, user id or '',
-- password hash or ''}.
local function sq_oauth_signin_read(keys, args)
    local uid = redis.call('GET', keys[1]) or ''
    local hash = ''

    if uid ~= '' then
        hash = redis.call('HGET', k_user(uid), 'password_hash') or ''
    end

    return {'OK', redis.call('GET', keys[2]) or '0',
            redis.call('GET', keys[3]) or '0', uid, hash}
end

-- sq_oauth_signin_fail: one failed sign-in, counted for the account and
-- the IP over a 900 s window from the first failure.
--   KEYS[1] sq:rl:signin:acct:<email>, KEYS[2] sq:rl:signin:ip:<ip>
local function sq_oauth_signin_fail(keys, args)
    for i = 1, 2 do
        if redis.call('INCR', keys[i]) == 1 then
            redis.call('EXPIRE', keys[i], 900)
        end
    end
    return {'OK'}
end

-- sq_oauth_session_new: a signed-in session.
--   KEYS[1] sq:session:<digest>
--   ARGV[1] user id, ARGV[2] csrf, ARGV[3] now, ARGV[4] lifetime (s)
local function sq_oauth_session_new(keys, args)
    redis.call('HSET', keys[1], 'user_id', args[1], 'csrf', args[2],
               'created_at', args[3])
    redis.call('EXPIRE', keys[1], args[4])
    return {'OK'}
end

-- sq_oauth_session_end: sign-out.  KEYS[1] sq:session:<digest>
local function sq_oauth_session_end(keys, args)
    redis.call('DEL', keys[1])
    return {'OK'}
end

-- sq_oauth_user_password: sqctl user password: the hash and the email's
-- index (lower case, as sign-in looks it up).
--   KEYS[1] sq:user:{u<id>}, ARGV[1] the password hash
-- Returns {'OK'} or {'NOTFOUND'}.
local function sq_oauth_user_password(keys, args)
    local email = redis.call('HGET', keys[1], 'email')
    if not email then
        return {'NOTFOUND'}
    end
    redis.call('HSET', keys[1], 'password_hash', args[1])
    redis.call('SET', 'sq:useremail:' .. string.lower(email),
               redis.call('HGET', keys[1], 'id'))
    return {'OK'}
end

redis.register_function{
    function_name = 'sq_oauth_read',
    callback = sq_oauth_read,
    flags = {'no-writes'}
}
redis.register_function('sq_oauth_outcome', sq_oauth_outcome)
redis.register_function('sq_oauth_code_issue', sq_oauth_code_issue)
redis.register_function('sq_oauth_code_redeem', sq_oauth_code_redeem)
redis.register_function('sq_oauth_refresh', sq_oauth_refresh)
redis.register_function('sq_oauth_revoke', sq_oauth_revoke)
redis.register_function{
    function_name = 'sq_oauth_signin_read',
    callback = sq_oauth_signin_read,
    flags = {'no-writes'}
}
redis.register_function('sq_oauth_signin_fail', sq_oauth_signin_fail)
redis.register_function('sq_oauth_session_new', sq_oauth_session_new)
redis.register_function('sq_oauth_session_end', sq_oauth_session_end)
redis.register_function('sq_oauth_user_password', sq_oauth_user_password)

-- === keyops ===
--[[
  Issue 16, "keyops": reading a key's activity (written by the edge into
  sq:act:<key id>, one stream entry per worker, second and tuple, fields
  t ip m r ws s c n), the review of a user's keys, and notices to a key's
  owner (sq:user:{u<uid>}:notifications, a list of JSON strings, newest
  first).  KEYS[1], KEYS[2] and ARGV[1..5] are the common ones; a key of
  another user, a deleted one and an unknown id are {'NOTFOUND'}.
  Replies carry JSON built here (cjson only encodes strings: empty
  arrays must stay arrays).
]]

local function sq_ko_str(s)
    return cjson.encode(s)
end

local function sq_ko_num_or_null(s)
    if s == nil or s == '' or not string.match(s, '^%d+$') then
        return 'null'
    end
    return s
end

-- the sorted keys of set t as a JSON array of strings
local function sq_ko_set_json(t, numbers)
    local a = {}
    for k in pairs(t) do
        a[#a + 1] = k
    end
    if numbers then
        table.sort(a, function(x, y) return tonumber(x) < tonumber(y) end)
    else
        table.sort(a)
    end
    for i = 1, #a do
        a[i] = numbers and a[i] or sq_ko_str(a[i])
    end
    return '[' .. table.concat(a, ',') .. ']'
end

-- a stream entry's fields as a table
local function sq_ko_fields(kv)
    local f = {}
    for i = 1, #kv, 2 do
        f[kv[i]] = kv[i + 1]
    end
    return f
end

-- stream id a is below stream id b ("ms-seq")
local function sq_ko_id_below(a, b)
    local am, as = string.match(a, '^(%d+)-(%d+)$')
    local bm, bs = string.match(b, '^(%d+)-(%d+)$')
    am, bm = tonumber(am), tonumber(bm)
    if am ~= bm then
        return am < bm
    end
    return tonumber(as) < tonumber(bs)
end

local function sq_ko_entry_json(f)
    local code = (f.c and f.c ~= '') and sq_ko_str(f.c) or 'null'
    return '{"time":' .. sq_ko_num_or_null(f.t)
        .. ',"ip":' .. sq_ko_str(f.ip or '')
        .. ',"method":' .. sq_ko_str(f.m or '')
        .. ',"route":' .. sq_ko_str(f.r or '')
        .. ',"workspace_id":' .. sq_ko_num_or_null(f.ws)
        .. ',"status":' .. sq_ko_num_or_null(f.s)
        .. ',"code":' .. code
        .. ',"count":' .. (tonumber(f.n) and f.n or '1') .. '}'
end

-- an entry passes the filters of ARGV[6..9] and [13]
local function sq_ko_match(f, q)
    local t = tonumber(f.t or '')
    if not t then
        return false
    end
    if (q.since and t < q.since) or (q.untl and t > q.untl) then
        return false
    end
    local refused = f.c ~= nil and f.c ~= ''
    if (q.outcome == 'allowed' and refused)
       or (q.outcome == 'refused' and not refused)
    then
        return false
    end
    return q.ws == '' or f.ws == q.ws
end

local function sq_ko_summary_add(s, f)
    local n = tonumber(f.n) or 1
    s.entries = s.entries + 1
    s.requests = s.requests + n
    if f.ip and f.ip ~= '' then
        s.ips[f.ip] = true
    end
    if f.r and f.r ~= '' then
        s.routes[f.r] = true
    end
    if f.ws and string.match(f.ws, '^%d+$') then
        s.workspaces[f.ws] = true
    end
    if f.c and f.c ~= '' then
        s.refused = s.refused + n
        s.codes[f.c] = (s.codes[f.c] or 0) + n
    end
end

local function sq_ko_summary_json(s)
    local codes = {}
    for c, n in pairs(s.codes) do
        codes[#codes + 1] = c
    end
    table.sort(codes)
    for i = 1, #codes do
        codes[i] = sq_ko_str(codes[i]) .. ':'
                   .. string.format('%d', s.codes[codes[i]])
    end
    return '{"entries":' .. string.format('%d', s.entries)
        .. ',"requests":' .. string.format('%d', s.requests)
        .. ',"refused":' .. string.format('%d', s.refused)
        .. ',"ips":' .. sq_ko_set_json(s.ips, false)
        .. ',"routes":' .. sq_ko_set_json(s.routes, false)
        .. ',"workspaces":' .. sq_ko_set_json(s.workspaces, true)
        .. ',"refusals_by_code":{' .. table.concat(codes, ',') .. '}'
        .. ',"scanned":' .. string.format('%d', s.scanned)
        .. ',"truncated":' .. (s.truncated and 'true' or 'false') .. '}'
end

-- sq_key_activity: a key's activity, newest first, and its summary.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:act:<key id>,
--   KEYS[4] sq:keyid:<key id>
--   ARGV[1..5] common, ARGV[6] since or '', ARGV[7] until or '' (unix
--   seconds, inclusive, on the entries' t), ARGV[8] 'allowed', 'refused'
--   or '', ARGV[9] cursor (a stream id: entries below it) or '',
--   ARGV[10] count, ARGV[11] workspace id or '', ARGV[12] the most
--   entries scanned (the retention's bound)
-- Returns {'OK', '{"data":[...],"next_cursor":...,"summary":{...}}'}.
-- The summary covers the whole window and filters, not the page.
local function sq_key_activity(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    if not sq_key_find(keys[4], args[1]) then
        return {'NOTFOUND'}
    end

    local q = {since = tonumber(args[6]), untl = tonumber(args[7]),
               outcome = args[8], ws = args[11]}
    local cursor, count = args[9], tonumber(args[10]) or 50
    local scan = tonumber(args[12]) or 100000
    -- an entry is flushed after its second: none of t >= since is older
    local low = q.since and string.format('%d', q.since * 1000) or '-'
    local s = {entries = 0, requests = 0, refused = 0, ips = {},
               routes = {}, workspaces = {}, codes = {}, scanned = 0,
               truncated = false}
    local page, next_cursor, last = {}, 'null', nil
    local high, batch = '+', 1000

    while s.scanned < scan do
        local n = math.min(batch, scan - s.scanned)
        local xs = redis.call('XREVRANGE', keys[3], high, low, 'COUNT', n)
        for _, x in ipairs(xs) do
            local f = sq_ko_fields(x[2])
            if sq_ko_match(f, q) then
                sq_ko_summary_add(s, f)
                if cursor == '' or sq_ko_id_below(x[1], cursor) then
                    if #page < count then
                        page[#page + 1] = sq_ko_entry_json(f)
                        last = x[1]
                    elseif next_cursor == 'null' then
                        next_cursor = sq_ko_str(last)
                    end
                end
            end
        end
        s.scanned = s.scanned + #xs
        if #xs < n then
            break
        end
        high = '(' .. xs[#xs][1]
        if s.scanned >= scan then
            s.truncated = true
        end
    end

    return {'OK', '{"data":[' .. table.concat(page, ',')
                  .. '],"next_cursor":' .. next_cursor
                  .. ',"summary":' .. sq_ko_summary_json(s) .. '}'}
end

-- the key's owner_id when it names a user, else nil
local function sq_ko_owner(rec)
    local o = redis.call('HGET', rec, 'owner_id')
    if not o or not string.match(o, '^%d+$')
       or redis.call('EXISTS', k_user(o)) == 0
    then
        return nil
    end
    return o
end

-- the key's scopes (distinct known names, as the backend writes them)
-- number every scope there is
local function sq_ko_all_scopes(have, count)
    local set, n = {}, 0
    for s in string.gmatch(have or '', '%S+') do
        if not set[s] then
            set[s] = true
            n = n + 1
        end
    end
    return n >= count
end

-- sq_key_review: the monthly checklist over the user's active keys.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:user:{u<uid>}:keys
--   ARGV[1..5] common, ARGV[6] now, ARGV[7] unused days, ARGV[8] age
--   days, ARGV[9] how many scopes there are, ARGV[10] the most keys
-- Returns {'OK', '{"no_owner":[id...],"unused":[...],"aging":[...],
-- "broad":[...]}', entry, ...}, the entries of the keys named (sq_key_
-- entry; the backend renders them), or {'TOOMANY'}.
local function sq_key_review(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    if redis.call('SCARD', keys[3]) > tonumber(args[10]) then
        return {'TOOMANY'}
    end

    local now = tonumber(args[6])
    local unused_before = now - tonumber(args[7]) * 86400
    local aged_before = now - tonumber(args[8]) * 86400
    local ids = redis.call('SMEMBERS', keys[3])
    local cat = {no_owner = {}, unused = {}, aging = {}, broad = {}}
    local out = {'OK', ''}

    for i = 1, #ids do
        ids[i] = tonumber(ids[i]) or 0
    end
    table.sort(ids)

    for _, id in ipairs(ids) do
        local s = string.format('%d', id)
        local digest = sq_key_find('sq:keyid:' .. s, args[1])
        local rec = digest and k_key(digest)
        local r = rec and redis.call('HMGET', rec, 'status', 'created_at',
                                     'rotated_at', 'scopes',
                                     'last_used_at', 'expires_at',
                                     'sunset_at')
        local exp = r and tonumber(r[6] or '0') or 0
        local sunset = r and tonumber(r[7] or '0') or 0
        -- active: not disabled, expired, or rotated past its grace
        if r and r[1] == 'active' and (exp == 0 or exp > now)
           and (sunset == 0 or sunset > now)
        then
            local used = tonumber(redis.call('HGET', k_keyuse(digest),
                                             'last_used_at') or '')
                         or tonumber(r[5] or '') or 0
            local created = tonumber(r[2] or '0') or 0
            local listed = false
            local function put(c)
                cat[c][#cat[c] + 1] = s
                listed = true
            end
            if not sq_ko_owner(rec) then
                put('no_owner')
            end
            if (used ~= 0 and used or created) < unused_before then
                put('unused')
            end
            if created < aged_before and not sq_key_set_time(r[3]) then
                put('aging')
            end
            if sq_ko_all_scopes(r[4], tonumber(args[9])) then
                put('broad')
            end
            if listed then
                out[#out + 1] = sq_key_entry(digest)
            end
        end
    end

    out[2] = '{"no_owner":[' .. table.concat(cat.no_owner, ',')
             .. '],"unused":[' .. table.concat(cat.unused, ',')
             .. '],"aging":[' .. table.concat(cat.aging, ',')
             .. '],"broad":[' .. table.concat(cat.broad, ',') .. ']}'

    return out
end

-- the owner may be named by uid: themself, or a member of a workspace
-- of theirs; any user for sqctl (uid '')
sq_ko_owner_allowed = function(uid, owner)
    if redis.call('EXISTS', k_user(owner)) == 0 then
        return false
    end
    if uid == '' or uid == owner then
        return true
    end
    for _, w in ipairs(redis.call('ZRANGE', k_user(uid)
                                  .. ':workspaces', 0, 999)) do
        if redis.call('SISMEMBER', k_members(w), owner) == 1
        then
            return true
        end
    end
    return false
end

-- sq_key_own: a key's owner and purpose.  Always a write to
-- sq:key:{<digest>} (the edge drops its cache entries for the key).
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:keyid:<id>
--   ARGV[1..5] common, ARGV[6] owner id or '' (unchanged), ARGV[7] '1'
--   to set the purpose to ARGV[8], else '0'
-- Returns {'OK', entry after the write}, 'NOTFOUND' or 'NOUSER' (the
-- owner is no user the caller shares a workspace with).
local function sq_key_own(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local digest = sq_key_find(keys[3], args[1])
    if not digest then
        return {'NOTFOUND'}
    end

    if args[6] ~= '' and not sq_ko_owner_allowed(args[1], args[6]) then
        return {'NOUSER'}
    end

    local rec = k_key(digest)
    if args[6] ~= '' then
        redis.call('HSET', rec, 'owner_id', args[6])
    end
    if args[7] == '1' then
        redis.call('HSET', rec, 'purpose', args[8])
    end
    sq_req_claim(keys, args)

    return {'OK', sq_key_entry(digest)}
end

-- sq_notify_owner: a notice about a key of the caller to its owner.
--   KEYS[1] nonce or '', KEYS[2] members or '', KEYS[3] sq:keyid:<id>
--   ARGV[1..5] common, ARGV[6] the message, ARGV[7] now, ARGV[8] how
--   many notices a user keeps
-- Returns {'OK', the notice's JSON}, 'NOTFOUND' or 'NO_OWNER'.
local function sq_notify_owner(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local digest = sq_key_find(keys[3], args[1])
    if not digest then
        return {'NOTFOUND'}
    end

    local rec = k_key(digest)
    local owner = sq_ko_owner(rec)
    if not owner then
        return {'NO_OWNER'}
    end

    local id = redis.call('INCR', 'sq:seq:notice')
    local from = args[1] ~= '' and args[1] or 'null'
    local notice = '{"id":' .. string.format('%d', id)
        .. ',"time":' .. args[7]
        .. ',"kind":"key_notice","key_id":'
        .. redis.call('HGET', rec, 'id')
        .. ',"message":' .. sq_ko_str(args[6])
        .. ',"from_user_id":' .. from .. '}'
    local list = k_user(owner) .. ':notifications'
    redis.call('LPUSH', list, notice)
    redis.call('LTRIM', list, 0, tonumber(args[8]) - 1)
    sq_req_claim(keys, args)

    return {'OK', notice, owner}
end

-- sq_notifications: the caller's notices, newest first.
--   KEYS[1] '', KEYS[2] members or '', KEYS[3] sq:user:{u<uid>}:
--   notifications
--   ARGV[1..5] common, ARGV[6] how many
-- Returns {'OK', '[notice, ...]'}.
local function sq_notifications(keys, args)
    local bad = sq_req_check(keys, args)
    if bad then
        return bad
    end

    local l = redis.call('LRANGE', keys[3], 0, tonumber(args[6]) - 1)

    return {'OK', '[' .. table.concat(l, ',') .. ']'}
end

redis.register_function{
    function_name = 'sq_key_activity',
    callback = sq_key_activity,
    flags = {'no-writes'}
}
redis.register_function{
    function_name = 'sq_key_review',
    callback = sq_key_review,
    flags = {'no-writes'}
}
redis.register_function('sq_key_own', sq_key_own)
redis.register_function('sq_notify_owner', sq_notify_owner)
redis.register_function{
    function_name = 'sq_notifications',
    callback = sq_notifications,
    flags = {'no-writes'}
}


-- === console ===
-- sq_con_people: the users a console user may name as a key's owner
-- (sq_ko_owner_allowed's rule): the user first, then the members of the
-- user's workspaces by id, each user once, at most ARGV[2] users.
--   KEYS[1] sq:user:{u<uid>}:workspaces
--   ARGV[1] the user id, ARGV[2] the most users
-- Returns {'OK', id, name, email, id, name, email, ...} (each
-- sq:ws:{w<w>}:members and sq:user:{u<id>} is computed; a member without a
-- user record is left out, as sq_key_own would refuse it).
local function sq_con_people(keys, args)
    local uid, most = args[1], tonumber(args[2]) or 0
    local seen, ids, out = {[args[1]] = true}, {}, {'OK'}

    for _, w in ipairs(redis.call('ZRANGE', keys[1], 0, 999)) do
        for _, m in ipairs(redis.call('SMEMBERS',
                                      k_members(w))) do
            if not seen[m] and string.match(m, '^%d+$') then
                seen[m] = true
                ids[#ids + 1] = m
            end
        end
    end
    table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end)
    table.insert(ids, 1, uid)

    for _, id in ipairs(ids) do
        if (#out - 1) / 3 >= most then
            break
        end
        local rec = k_user(id)
        if redis.call('EXISTS', rec) == 1 then
            local u = redis.call('HMGET', rec, 'name', 'email')
            out[#out + 1] = id
            out[#out + 1] = u[1] or ''
            out[#out + 1] = u[2] or ''
        end
    end

    return out
end

redis.register_function{
    function_name = 'sq_con_people',
    callback = sq_con_people,
    flags = {'no-writes'}
}


-- === tags2 (issue 15): renaming a database to the hash-tagged names ===

--[[
  sq_migrate_names: one batch of the rename of a database written before
  the hash tags (the names of redis/SCHEMA.md, section "Hash tags").  Run
  by `sqctl init`, in SCAN-cursor batches until the cursor comes back
  '0', then sqctl sets the marker (sq:schema names 2) so that later runs
  skip the walk.  Each batch is one call, so atomic; a name is renamed
  only when its new name does not exist (RENAMENX: a second run, or a run
  racing another, never overwrites; but for a key's last use, which an
  edge of this version may have written again under its new name since,
  the newer stays), and RENAME keeps a name's TTL.
    sq:key:<d>, sq:keyuse:<d>     -> sq:key:{<d>}, sq:keyuse:{<d>}
    sq:ws:<w>[:<rest>]            -> sq:ws:{w<w>}[:<rest>]
    sq:user:<u>[:<rest>]          -> sq:user:{u<u>}[:<rest>]
    sq:app:<a>[:<rest>]           -> sq:app:{a<a>}[:<rest>]
    sq:<res>:<id> (res in ARGV)   -> sq:ws:{w<wid>}:rec:<res>:<id>, wid its
                                     workspace_id, with sq:recws:<res>:<id>
  Every other name is the same in both layouts.
    ARGV[1] the SCAN cursor, ARGV[2] its COUNT, ARGV[3..] the resource
    names (sqctl's list: the records are sq:<res>:<id>)
  Returns {next cursor, renamed, taken (old names whose new name exists:
  left as they are, for the operator), unplaced (records without a
  workspace_id, which no reader could serve either: left)}.
]]
local function sq_new_name(name)
    local d = string.match(name, '^sq:key:([^{}:]+)$')
    if d then
        return k_key(d)
    end
    d = string.match(name, '^sq:keyuse:([^{}:]+)$')
    if d then
        return k_keyuse(d)
    end

    for _, g in ipairs({{'ws', k_ws}, {'user', k_user}, {'app', k_app}}) do
        local n, rest = string.match(name, '^sq:' .. g[1] .. ':(%d+)(.*)$')
        if n and (rest == '' or string.sub(rest, 1, 1) == ':') then
            return g[2](n) .. rest
        end
    end

    return nil
end

local function sq_migrate_names(keys, args)
    local res = {}
    for i = 3, #args do
        res[args[i]] = true
    end

    local got = redis.call('SCAN', args[1], 'MATCH', 'sq:*', 'COUNT',
                           args[2])
    local renamed, taken, unplaced = 0, 0, 0

    for _, name in ipairs(got[2]) do
        local new = sq_new_name(name)
        local r, id = string.match(name, '^sq:([%w_]+):(%d+)$')
        local dir

        if not new and r and res[r]
           and redis.call('TYPE', name)['ok'] == 'hash'
        then
            local w = redis.call('HGET', name, 'workspace_id')
            if w and string.match(w, '^%d+$') then
                new = k_rec(w, r, id)
                dir = {k_recws(r, id), w}
            else
                unplaced = unplaced + 1
            end
        end

        if new then
            if redis.call('RENAMENX', name, new) == 1 then
                renamed = renamed + 1
                if dir then
                    redis.call('SET', dir[1], dir[2], 'NX')
                end
            elseif string.sub(name, 1, 10) == 'sq:keyuse:' then
                -- a key's last use, written again under the new name by
                -- an edge of this version since: the newer one stays
                redis.call('DEL', name)
                renamed = renamed + 1
            else
                taken = taken + 1
            end
        end
    end

    return {got[1], renamed, taken, unplaced}
end

redis.register_function('sq_migrate_names', sq_migrate_names)
-- === end tags2 ===
