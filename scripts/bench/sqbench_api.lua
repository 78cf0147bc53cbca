-- sqbench_api: the Lua peer of the backend's /v1/articles for `make bench`
-- (cases peer_list and peer_create), in the same nginx as the module, with
-- Debian's libnginx-mod-http-lua, lua-nginx-redis ("nginx.redis") and
-- lua-cjson.  It reads and writes the backend's own Redis layout
-- (redis/SCHEMA.md), so its records are real articles the backend serves.
--
-- Authorization is the Lua peer's (sqbench_peer.lua): HMGET peer:key:<raw
-- key> user_id status, the decision per key + workspace cached in a
-- lua_shared_dict for 10 s, like the module's cache in front of the
-- backend.  The workspace's members set is read on every request, like
-- the backend's own re-check, but pipelined with the first data command,
-- so it costs no round trip of its own.
--
-- GET ?workspace_id=W[&limit=N][&cursor=C], as the backend's list:
--   trip 1 (cache miss only): HMGET of the key record;
--   trip 2: SISMEMBER sq:ws:{wW}:members uid + ZRANGEBYSCORE
--           sq:ws:{wW}:articles (after +inf LIMIT 0 limit+1, pipelined;
--   trip 3: one HMGET sq:ws:{wW}:rec:article:<id> of the record's fields per id,
--           pipelined (HMGET with the known fields, not HGETALL: the reply
--           comes in render order).
--   The body is the backend's, byte for byte: cjson encodes each string,
--   the envelope is written in the backend's key order with jansson's
--   separators (", " and ": "), and cjson's "\/" becomes "/" as jansson
--   writes it.  next_cursor: base64url("c1:<last id>"), no padding.
--
-- POST ?workspace_id=W with a JSON body, as the backend's create:
--   the body is parsed with cjson and validated by the article schema
--   (backend/src/sq_res_articles.c: title 1..200 characters, body up to
--   60000, no control characters but newline and tab in body, status
--   draft | published, defaults "" and draft; workspace_id only as W;
--   id, created_at, updated_at read-only; nothing else); then
--   trip 1 (cache miss only): HMGET of the key record;
--   trip 2: SISMEMBER + INCR sq:seq:article, pipelined (a refused request
--           leaves a gap in the ids; redis/SCHEMA.md allows gaps);
--   trip 3: MULTI, SET sq:recws:article:<id> W NX, HSET
--           sq:ws:{wW}:rec:article:<id> with the fields the backend
--           writes (id, workspace_id, mode, created_at, updated_at, title,
--           body, status), ZADD sq:ws:{wW}:articles, EXEC, pipelined: one
--           atomic write, acknowledged after Redis's AOF fsync like the
--           backend's.  Not the backend's Redis functions: the peer needs
--           only the data layout (redis/SCHEMA.md), which stays, while the
--           functions the backend calls change with it (MULTI is how sqctl
--           writes records too).
--   201 with the record as the backend renders it.
--
-- Redis operations time out after 200 ms, the backend's own limit
-- (answered 503, as the backend does).
--
-- Less than the backend: live keys only, workspace_id required in the
-- query, no signed identity, nonce or scopes; cjson keeps the last of
-- duplicate JSON members where the backend refuses them.

local cjson = require "cjson"
local peer = require "sqbench_peer"

-- the names of redis/SCHEMA.md (hash tags: a workspace's are {w<id>})
local function k_ws(ws) return "sq:ws:{w" .. ws .. "}" end
local function k_rec(ws, id) return k_ws(ws) .. ":rec:article:" .. id end

local M = {}

local CACHE_TTL = 10
local REDIS_TIMEOUT_MS = 200      -- the backend's SQ_REDIS_TIMEOUT_MS
local PAGE_DEFAULT, PAGE_MAX = 20, 100
local BODY_MAX = 64 * 1024
local WS_ID_MAX = 999999999999999999      -- 18 digits, as the backend

local FIELDS = { "id", "workspace_id", "mode", "created_at", "updated_at",
                 "title", "body", "status" }
local STATUS = { draft = true, published = true }
local READONLY = { id = true, created_at = true, updated_at = true }

-- C0, DEL and C1 controls; the body allows newline and tab
local CTL_TITLE = [=[[\x00-\x1f\x7f\x{80}-\x{9f}]]=]
local CTL_BODY = [=[[\x00-\x08\x0b-\x1f\x7f\x{80}-\x{9f}]]=]

local null = ngx.null
local concat = table.concat

local function unavailable(err)
    ngx.log(ngx.ERR, "peer api: redis: ", err)
    ngx.header["Retry-After"] = "1"
    return peer.refuse(503, "SERVICE_UNAVAILABLE",
                       "Service unavailable. Retry shortly.")
end

local function internal(what)
    ngx.log(ngx.ERR, "peer api: ", what)
    return peer.refuse(500, "INTERNAL_ERROR", "An internal error occurred.")
end

-- a JSON string as jansson writes it (cjson escapes "/", jansson not)
local function jstr(s)
    local e = cjson.encode(s)
    if e:find("\\/", 1, true) then
        e = e:gsub("\\/", "/")
    end
    return e
end

local function invalid(msg)
    ngx.status = 400
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.header["X-Content-Type-Options"] = "nosniff"
    ngx.print('{"success": false, "error": {"code": "VALIDATION_ERROR", ',
              '"message": ', jstr(msg), '}}')
    return ngx.exit(400)
end

-- unix seconds as the backend writes them; the last one is remembered
-- (a page's records mostly share their created_at and updated_at)
local iso_t, iso_s

local function iso(t)
    if t ~= iso_t then
        iso_t, iso_s = t, os.date("!%Y-%m-%dT%H:%M:%SZ", t)
    end
    return iso_s
end

-- the digits of a positive id, or nil
local function id_of(s)
    if type(s) == "string" and #s <= 18 and s:match("^[1-9]%d*$") then
        return s
    end
    return nil
end

local function b64url_encode(s)
    return (ngx.encode_base64(s, true):gsub("[+/]", { ["+"] = "-",
                                                      ["/"] = "_" }))
end

local function cursor_decode(c)
    if type(c) ~= "string" or #c == 0 or #c > 64 or c:find("[^%w_-]") then
        return nil
    end
    local s = c:gsub("[-_]", { ["-"] = "+", ["_"] = "/" })
    s = s .. ("="):rep((4 - #s % 4) % 4)
    local raw = ngx.decode_base64(s)
    return raw and id_of(raw:match("^c1:(.*)$"))
end

-- the checked workspace id of the query and the key, or refused
local function caller(args)
    local key = peer.bearer()
    if not key then
        return peer.refuse(401, "UNAUTHORIZED", "Missing API key.")
    end
    local ws = id_of(args.workspace_id)
    if not ws then
        return invalid("workspace_id must be a positive integer.")
    end
    return key, ws
end

-- The user id of an allowed key: from the cache, else one HMGET.  Returns
-- uid, cached; or refuses (401), or nil, err on a Redis failure.
local function decide(red, cache, key, ws)
    local v = cache and cache:get(key .. "|" .. ws)
    if v then
        local d, uid = v:match("^(%a+):(%d*)$")
        if d == "allow" then
            return uid, true
        end
        if d == "forbidden" then
            red:set_keepalive(10000, 64)
            return peer.refuse(403, "FORBIDDEN",
                               "You do not have access to this workspace.")
        end
        red:set_keepalive(10000, 64)
        return peer.refuse(401, "UNAUTHORIZED", "Invalid API key.")
    end

    local rec, err = red:hmget("peer:key:" .. key, "user_id", "status")
    if not rec then
        red:close()
        return nil, err
    end
    if rec[1] == null or rec[2] ~= "active" then
        if cache then
            cache:set(key .. "|" .. ws, "unknown:", CACHE_TTL)
        end
        red:set_keepalive(10000, 64)
        return peer.refuse(401, "UNAUTHORIZED", "Invalid API key.")
    end
    return rec[1], false
end

-- the reply of SISMEMBER in a pipeline: refuses (403) when not a member
local function member_or_refuse(red, cache, key, ws, uid, cached, m)
    if type(m) ~= "number" then
        red:close()
        return unavailable(type(m) == "table" and m[2] or "SISMEMBER")
    end
    if cache and not cached then
        cache:set(key .. "|" .. ws, (m == 1 and "allow:" or "forbidden:")
                  .. uid, CACHE_TTL)
    end
    if m ~= 1 then
        red:set_keepalive(10000, 64)
        return peer.refuse(403, "FORBIDDEN",
                           "You do not have access to this workspace.")
    end
end

-- one record as the backend renders it, into out[]; false if corrupt
local function render(out, n, r, id, ws)
    if r[1] ~= id or r[2] ~= ws or (r[3] ~= null and r[3] ~= "live")
       or type(r[6]) ~= "string" or type(r[7]) ~= "string"
       or type(r[8]) ~= "string"
    then
        return false
    end
    local c, u = tonumber(r[4]), tonumber(r[5])
    if not c or not u then
        return false
    end
    out[n + 1] = '{"id": '
    out[n + 2] = id
    out[n + 3] = ', "workspace_id": '
    out[n + 4] = ws
    out[n + 5] = ', "title": '
    out[n + 6] = jstr(r[6])
    out[n + 7] = ', "body": '
    out[n + 8] = jstr(r[7])
    out[n + 9] = ', "status": '
    out[n + 10] = jstr(r[8])
    out[n + 11] = ', "created_at": "'
    out[n + 12] = iso(c)
    out[n + 13] = '", "updated_at": "'
    out[n + 14] = iso(u)
    out[n + 15] = '"}'
    return true
end

local function send(status, out)
    local len = 0
    for i = 1, #out do
        len = len + #out[i]
    end
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.header["X-Content-Type-Options"] = "nosniff"
    ngx.header["Content-Length"] = len
    ngx.print(out)
    return ngx.exit(status)
end

local function list(cache)
    local args = ngx.req.get_uri_args(16)
    local key, ws = caller(args)

    local limit, after = PAGE_DEFAULT, "0"
    if args.limit ~= nil then
        local l = id_of(args.limit)
        limit = l and tonumber(l)
        if not limit or limit > PAGE_MAX then
            return invalid("limit must be an integer from 1 to "
                           .. PAGE_MAX .. ".")
        end
    end
    if args.cursor ~= nil then
        after = cursor_decode(args.cursor)
        if not after then
            return invalid("cursor is not valid; use the next_cursor of "
                           .. "a previous page.")
        end
    end

    local red, err = peer.connect(REDIS_TIMEOUT_MS)
    if not red then
        return unavailable(err)
    end
    local uid, cached = decide(red, cache, key, ws)
    if not uid then
        return unavailable(cached)
    end

    red:init_pipeline(2)
    red:sismember(k_ws(ws) .. ":members", uid)
    red:zrangebyscore(k_ws(ws) .. ":articles", "(" .. after, "+inf",
                      "LIMIT", 0, limit + 1)
    local res
    res, err = red:commit_pipeline()
    if not res then
        red:close()
        return unavailable(err)
    end
    member_or_refuse(red, cache, key, ws, uid, cached, res[1])

    local ids = res[2]
    if type(ids) ~= "table" or ids[1] == false then
        red:close()
        return unavailable(type(ids) == "table" and ids[2] or "ZRANGEBYSCORE")
    end
    local n = #ids
    local next_id
    if n > limit then
        n = limit
        next_id = ids[limit]
    end

    local recs
    if n > 0 then
        red:init_pipeline(n)
        for i = 1, n do
            red:hmget(k_rec(ws, ids[i]), unpack(FIELDS))
        end
        recs, err = red:commit_pipeline()
        if not recs then
            red:close()
            return unavailable(err)
        end
    end
    red:set_keepalive(10000, 64)

    local out = { '{"success": true, "data": [' }
    local k = 1
    for i = 1, n do
        local r = recs[i]
        if type(r) ~= "table" or r[1] == false then
            return internal("HMGET " .. k_rec(ws, ids[i]))
        end
        if r[1] ~= null or r[2] ~= null then    -- else deleted meanwhile
            if k > 1 then
                k = k + 1
                out[k] = ", "
            end
            if not render(out, k, r, ids[i], ws) then
                return internal("corrupt " .. k_rec(ws, ids[i]))
            end
            k = k + 15
        end
    end
    out[k + 1] = '], "pagination": {"limit": '
    out[k + 2] = tostring(limit)
    out[k + 3] = next_id and ', "next_cursor": "'
                 .. b64url_encode("c1:" .. next_id) .. '"}}'
                 or ', "next_cursor": null}}'
    return send(200, out)
end

-- 1 when s is text of min..max characters without the controls ctl
local function text_ok(s, min, max, ctl)
    if type(s) ~= "string" or #s > max * 4 then
        return false
    end
    -- "u": PCRE refuses malformed UTF-8 (overlong, surrogates) with an error
    local from, _, err = ngx.re.find(s, ctl, "jou")
    if from or err then
        return false
    end
    local _, chars = s:gsub("[^\128-\191]", "")
    return chars >= min and chars <= max
end

local function ws_value(v)
    if type(v) == "number" then
        if v >= 1 and v <= WS_ID_MAX and v == math.floor(v) then
            return string.format("%d", v)
        end
        return nil
    end
    return id_of(v)
end

local function unknown_field(k)
    if #k == 0 or #k > 64 or k:find('[^\33-\126]') or k:find('["\\]') then
        return "The request body has an unknown field."
    end
    return k .. " is not a known field."
end

-- the validated fields of a create body; or refuses (400)
local function parse(ws)
    local ct = ngx.var.content_type
    local tail = ct and ct:sub(1, 16):lower() == "application/json"
                 and ct:sub(17):match("^[ \t]*(.?)")
    if tail ~= "" and tail ~= ";" then
        return invalid("Content-Type must be application/json.")
    end

    ngx.req.read_body()
    local body = ngx.req.get_body_data()
    if not body or #body > BODY_MAX then
        return invalid("The request body must be a valid JSON object.")
    end
    local ok, obj = pcall(cjson.decode, body)
    if not ok then
        return invalid("The request body must be a valid JSON object.")
    end
    if type(obj) ~= "table" or not body:find("^[ \t\r\n]*{") then
        return invalid("The request body must be a JSON object.")
    end

    for k, v in pairs(obj) do
        if type(k) ~= "string" then
            return invalid("The request body has an unknown field.")
        end
        if k == "workspace_id" then
            local w = ws_value(v)
            if not w then
                return invalid("workspace_id must be a positive integer.")
            end
            if w ~= ws then
                return invalid("workspace_id must match the workspace of "
                               .. "the request.")
            end
        elseif k == "title" then
            if not text_ok(v, 1, 200, CTL_TITLE) then
                return invalid("title must be a string of 1 to 200 "
                               .. "characters without control characters.")
            end
        elseif k == "body" then
            if not text_ok(v, 0, 60000, CTL_BODY) then
                return invalid("body must be a string of at most 60000 "
                               .. "characters without control characters "
                               .. "other than newline and tab.")
            end
        elseif k == "status" then
            if not STATUS[v] then
                return invalid("status must be one of: draft, published.")
            end
        elseif READONLY[k] then
            return invalid(k .. " is read-only.")
        else
            return invalid(unknown_field(k))
        end
    end

    if obj.title == nil then
        return invalid("title is required.")
    end
    return obj.title, obj.body or "", obj.status or "draft"
end

local function create(cache)
    local args = ngx.req.get_uri_args(16)
    local key, ws = caller(args)
    local title, body, status = parse(ws)

    local red, err = peer.connect(REDIS_TIMEOUT_MS)
    if not red then
        return unavailable(err)
    end
    local uid, cached = decide(red, cache, key, ws)
    if not uid then
        return unavailable(cached)
    end

    red:init_pipeline(2)
    red:sismember(k_ws(ws) .. ":members", uid)
    red:incr("sq:seq:article")
    local res
    res, err = red:commit_pipeline()
    if not res then
        red:close()
        return unavailable(err)
    end
    member_or_refuse(red, cache, key, ws, uid, cached, res[1])

    local id = type(res[2]) == "number" and res[2] >= 1
               and res[2] <= WS_ID_MAX and string.format("%d", res[2])
    if not id then
        red:close()
        return unavailable("INCR sq:seq:article")
    end

    local now = tostring(ngx.time())
    red:init_pipeline(5)
    red:multi()
    red:set("sq:recws:article:" .. id, ws, "NX")
    red:hset(k_rec(ws, id), "id", id, "workspace_id", ws,
             "mode", "live", "created_at", now, "updated_at", now,
             "title", title, "body", body, "status", status)
    red:zadd(k_ws(ws) .. ":articles", id, id)
    red:exec()
    res, err = red:commit_pipeline()
    if not res then
        red:close()
        return unavailable(err)
    end
    local done = res[5]
    if type(done) ~= "table" or done[1] == false or #done ~= 3 then
        red:close()
        return internal("MULTI: " .. tostring(type(done) == "table"
                                              and done[2] or done))
    end
    red:set_keepalive(10000, 64)

    local out = { '{"success": true, "data": ' }
    render(out, 1, { id, ws, "live", now, now, title, body, status }, id, ws)
    out[17] = '}'
    return send(201, out)
end

-- content_by_lua: GET lists, POST creates
function M.articles(cache)
    local m = ngx.req.get_method()
    if m == "GET" then
        return list(cache)
    end
    if m == "POST" then
        return create(cache)
    end
    ngx.header["Allow"] = "GET, POST"
    return peer.refuse(405, "METHOD_NOT_ALLOWED", "Method not allowed.")
end

return M
