#!lua name=smartlyq

--[[
  SmartlyQ Redis function library.

  Loaded with FUNCTION LOAD REPLACE by the backend at start-up and by
  `sqctl init`; functions survive restarts through AOF/RDB and replicate
  to replicas, so an edge reading from a replica can call them with
  FCALL_RO.

  The data layout, and which function touches which keys: redis/SCHEMA.md.
]]

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
--   KEYS[1] sq:key:<digest>
--   KEYS[2] sq:ws:<workspace_id>:members, or "" when no workspace_id
--   ARGV[1] now
--   ARGV[2] the workspace id, or ""
-- Returns {'UNKNOWN'}, or
--   {code, user_id, key_id, mode, type, scopes, workspaces, rotated_at,
--    sunset_at, expires_at}
-- with code, first that applies: DELETED, DISABLED, EXPIRED, ROTATED
-- (grace over), FORBIDDEN (not a member, or outside the key's workspace
-- list), OK.  FORBIDDEN still carries scopes: the edge checks scopes
-- before membership.  The times go back as stored (sq_time): a value
-- that is not digits makes the edge refuse the reply (503), not read it
-- as "never".
local function sq_authz(keys, args)
    local rec = redis.call('HMGET', keys[1], 'id', 'user_id', 'status',
                           'expires_at', 'mode', 'type', 'scopes',
                           'workspaces', 'rotated_at', 'sunset_at')
    local id, uid, status = rec[1], rec[2], rec[3]

    if not id or not uid then
        return {'UNKNOWN'}
    end

    local now = tonumber(args[1]) or 0
    local exp, sunset = sq_time(rec[4]), sq_time(rec[10])
    local e = exp ~= '0' and tonumber(exp) or 0
    local s = sunset ~= '0' and tonumber(sunset) or 0

    -- expires_at lets the edge's cache end an entry when the key does
    local out = {'OK', uid, id, rec[5] or 'live', rec[6] or 'secret',
                 rec[7] or '', rec[8] or '', rec[9] or '0', sunset, exp}

    if status == 'deleted' then
        out[1] = 'DELETED'
    elseif status ~= 'active' then
        out[1] = 'DISABLED'
    elseif e > 0 and now >= e then
        out[1] = 'EXPIRED'
    elseif s > 0 and now >= s then
        out[1] = 'ROTATED'
    elseif keys[2] ~= nil and keys[2] ~= '' then
        if not sq_in_list(rec[8], args[2])
           or redis.call('SISMEMBER', keys[2], uid) == 0
        then
            out[1] = 'FORBIDDEN'
        end
    end

    return out
end

redis.register_function{
    function_name = 'sq_authz',
    callback = sq_authz,
    flags = {'no-writes'}
}

--[[
  Records of the backend's workspace-scoped resources (sq_store_resource.c
  in the backend; their layout: redis/SCHEMA.md).
  Each write below is one atomic call.  Replies: 'OK', 'NOTFOUND' (no such
  record in that workspace), 'TAKEN' (unique value in use) or 'BADREF'
  (the referenced record is not in the workspace).
]]

-- sq_res_create:
--   KEYS[1] sq:<res>:<id>, KEYS[2] sq:ws:<wid>:<res>s,
--   KEYS[3] the unique index or '', KEYS[4] a referenced record or ''
--   ARGV[1] id, ARGV[2] workspace id, ARGV[3] unique value,
--   ARGV[4..] field value pairs of the record
local function sq_res_create(keys, args)
    if keys[4] ~= '' then
        if redis.call('HGET', keys[4], 'workspace_id') ~= args[2] then
            return 'BADREF'
        end
    end

    if keys[3] ~= '' then
        if redis.call('HSETNX', keys[3], args[3], args[1]) == 0 then
            return 'TAKEN'
        end
    end

    redis.call('HSET', keys[1], unpack(args, 4))
    redis.call('ZADD', keys[2], args[1], args[1])
    return 'OK'
end

-- sq_res_update: the record must still be in the workspace.
--   KEYS[1] sq:<res>:<id>, KEYS[2] the unique index or '',
--   KEYS[3] a referenced record or ''
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

    local n = tonumber(args[5])
    if n > 0 then
        redis.call('HDEL', keys[1], unpack(args, 6, 5 + n))
    end
    if #args > 5 + n then
        redis.call('HSET', keys[1], unpack(args, 6 + n))
    end
    return 'OK'
end

-- sq_res_delete: the record must be in the workspace.
--   KEYS[1] sq:<res>:<id>, KEYS[2] sq:ws:<wid>:<res>s,
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
    return 'OK'
end

redis.register_function('sq_res_create', sq_res_create)
redis.register_function('sq_res_update', sq_res_update)
redis.register_function('sq_res_delete', sq_res_delete)


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
            local rec = 'sq:key:' .. digest

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
