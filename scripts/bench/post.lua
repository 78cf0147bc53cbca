-- wrk script for `make bench`'s create cases: every request is
-- POST <url> with Content-Type application/json and the body read from
-- the file given after "--".  The request is built once per thread (no
-- request() function), so wrk spends no Lua time per request.

function init(args)
    local f = assert(io.open(args[1], "rb"))
    wrk.body = f:read("*a")
    f:close()
    assert(#wrk.body > 0, "empty body in " .. args[1])
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end
