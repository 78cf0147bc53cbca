#!lua name=smartlyq

--[[
  SmartlyQ Redis function library.

  Loaded with FUNCTION LOAD REPLACE by the backend at start-up and by
  `sqctl init`; functions survive restarts through AOF/RDB and replicate
  to replicas, so an edge reading from a replica can call them with
  FCALL_RO.

  Data layout (all ids are decimal integers):
    sq:key:<digest>        hash  id user_id mode status expires_at name
                                 created_at last4
                           digest = hex(BLAKE2b-256 keyed with the pepper,
                                        over the full presented key)
    sq:keyid:<id>          string  <digest>
    sq:user:<id>           hash  id email name primary_workspace_id
                                 created_at
    sq:user:<id>:workspaces zset  workspace ids, score = id
    sq:user:<id>:keys      set   key ids
    sq:ws:<id>             hash  id name owner_id created_at
    sq:ws:<id>:members     set   user ids
    sq:seq:user|ws|key     counters for ids
]]

-- sq_authz: the edge's one round trip per uncached request.
--   KEYS[1] sq:key:<digest>
--   KEYS[2] sq:ws:<workspace_id>:members, or "" when no workspace_id
--   ARGV[1] now, unix seconds
-- Returns {code, user_id, key_id, mode}; code is one of
--   OK, UNKNOWN, DISABLED, EXPIRED, FORBIDDEN.
local function sq_authz(keys, args)
    local rec = redis.call('HMGET', keys[1],
                           'id', 'user_id', 'status', 'expires_at', 'mode')
    local id, uid, status, exp, mode = rec[1], rec[2], rec[3], rec[4], rec[5]

    if not id or not uid then
        return {'UNKNOWN'}
    end

    mode = mode or 'live'

    if status ~= 'active' then
        return {'DISABLED', uid, id, mode}
    end

    exp = tonumber(exp) or 0
    local now = tonumber(args[1]) or 0
    if exp > 0 and now >= exp then
        return {'EXPIRED', uid, id, mode}
    end

    if keys[2] ~= nil and keys[2] ~= '' then
        if redis.call('SISMEMBER', keys[2], uid) == 0 then
            return {'FORBIDDEN', uid, id, mode}
        end
    end

    return {'OK', uid, id, mode}
end

redis.register_function{
    function_name = 'sq_authz',
    callback = sq_authz,
    flags = {'no-writes'}
}
