-- sqbench_peer: the "peer" `make bench` compares the SmartlyQ module with.
--
-- It is what a typical OpenResty API-key gate does, written with Debian's
-- libnginx-mod-http-lua (access_by_lua_block) and lua-nginx-redis (Debian's
-- packaging of lua-resty-redis, required as "nginx.redis"):
--
--   1. take the key from "Authorization: Bearer <key>";
--   2. HMGET peer:key:<raw key> user_id status   (one Redis round trip;
--      the record is keyed by the raw key, no digest: BLAKE2b is not
--      available to Lua here, and skipping any hashing favours the peer);
--   3. when workspace_id is in the query, SISMEMBER sq:ws:{w<id>}:members
--      <user_id>   (a second, dependent round trip);
--   4. allow: drop Authorization, pass X-User-Id upstream (no signature);
--      refuse with the same JSON envelopes as the module (401/403/503).
--
-- Redis wants a password, as it does for the module: AUTH once per new
-- connection (the password file is read at init, in the master).
--
-- Redis connections come from the cosocket pool (set_keepalive).  With a
-- cache (a lua_shared_dict), the decision per key+workspace is kept for
-- 10 s, so a warm cache answers with no Redis trip at all and a revoked
-- key keeps working for up to 10 s.  No scopes, modes, expiry, rotation
-- or body parsing: the peer does strictly less work than the module.

local redis = require "nginx.redis"

local M = {}

local host, port, password = "127.0.0.1", 6379, nil
local CACHE_TTL = 10

function M.init(h, p, password_file)
    host, port = h, p
    if password_file then
        local f = assert(io.open(password_file))
        password = f:read("*a"):match("([0-9a-fA-F]+)%s*$")
        f:close()
    end
end

-- msg goes out as it is: callers pass only plain text without quotes
local function refuse(status, code, msg)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.print('{"success": false, "error": {"code": "', code,
              '", "message": "', msg, '"}}')
    return ngx.exit(status)
end

M.refuse = refuse

-- a pooled connection, authenticated once; or nil, err.  timeout_ms:
-- per operation, 100 (the module's smartlyq_redis_timeout) when nil
function M.connect(timeout_ms)
    local red = redis:new()
    red:set_timeout(timeout_ms or 100)

    local ok, err = red:connect(host, port)
    if not ok then
        return nil, err
    end

    if password and red:get_reused_times() == 0 then
        ok, err = red:auth(password)
        if not ok then
            red:close()
            return nil, err
        end
    end

    return red
end

-- the key of "Authorization: Bearer <key>", or nil
function M.bearer()
    local auth = ngx.var.http_authorization
    return auth and auth:match("^[Bb][Ee][Aa][Rr][Ee][Rr] +(%S+)$")
end

-- returns decision ("allow" | "unknown" | "forbidden"), user id; or nil, err
local function lookup(key, ws)
    local red, err = M.connect()
    if not red then
        return nil, err
    end

    local rec
    rec, err = red:hmget("peer:key:" .. key, "user_id", "status")
    if not rec then
        red:close()
        return nil, err
    end

    local uid, status = rec[1], rec[2]
    if uid == ngx.null or status ~= "active" then
        red:set_keepalive(10000, 64)
        return "unknown"
    end

    if ws then
        local member
        member, err = red:sismember("sq:ws:{w" .. ws .. "}:members", uid)
        if not member then
            red:close()
            return nil, err
        end
        red:set_keepalive(10000, 64)
        if member ~= 1 then
            return "forbidden", uid
        end
        return "allow", uid
    end

    red:set_keepalive(10000, 64)
    return "allow", uid
end

function M.check(cache)
    local key = M.bearer()
    if not key then
        return refuse(401, "UNAUTHORIZED", "Missing API key.")
    end

    local ws = ngx.var.arg_workspace_id
    if ws and not ws:match("^[1-9]%d*$") then
        return refuse(400, "VALIDATION_ERROR",
                      "workspace_id must be a positive integer.")
    end

    local decision, uid
    local ck = key .. "|" .. (ws or "")
    if cache then
        local v = cache:get(ck)
        if v then
            decision, uid = v:match("^(%a+):(%d*)$")
        end
    end

    if not decision then
        local err
        decision, uid = lookup(key, ws)
        if not decision then
            err = uid
            ngx.log(ngx.ERR, "peer: redis: ", err)
            return refuse(503, "SERVICE_UNAVAILABLE",
                          "Service unavailable. Retry shortly.")
        end
        if cache then
            cache:set(ck, decision .. ":" .. (uid or ""), CACHE_TTL)
        end
    end

    if decision == "allow" then
        ngx.req.clear_header("Authorization")
        ngx.req.set_header("X-User-Id", uid)
        return
    end

    if decision == "forbidden" then
        return refuse(403, "FORBIDDEN",
                      "You do not have access to this workspace.")
    end

    return refuse(401, "UNAUTHORIZED", "Invalid API key.")
end

return M
