-- wrk script for scripts/load.sh: a mix of allowed reads, foreign
-- workspace reads (403), creates (201) and a key that sqctl disables and
-- enables (200/401).  Every thread counts statuses, keeps the title and
-- id of each acknowledged create, and counts any 200 that shows the
-- other tenant's workspace (a leak).  done() writes it all to $LOAD_OUT.

local alice = "Bearer " .. os.getenv("LOAD_ALICE_KEY")
local flip = "Bearer " .. os.getenv("LOAD_FLIP_KEY")
local ws1 = os.getenv("LOAD_WS1")
local wsb = os.getenv("LOAD_WSB")
local out = os.getenv("LOAD_OUT")

local threads = {}
local next_id = 0

function setup(thread)
    next_id = next_id + 1
    thread:set("tid", next_id)
    table.insert(threads, thread)
end

local n = 0
counts = {}
acked = {}
leaks = 0

local get_alice = { Authorization = alice }
local get_flip = { Authorization = flip }
local post_alice = { Authorization = alice,
                     ["Content-Type"] = "application/json" }
local leak_pattern = '"workspace_id": ' .. wsb .. '[,}]'

function request()
    n = n + 1
    local k = n % 10
    if k <= 3 then
        return wrk.format("GET", "/v1/me", get_alice)
    elseif k == 4 then
        return wrk.format("GET", "/v1/articles?limit=5&workspace_id=" .. ws1,
                          get_alice)
    elseif k <= 6 then
        return wrk.format("GET", "/v1/articles?workspace_id=" .. wsb,
                          get_alice)
    elseif k <= 8 then
        return wrk.format("POST", "/v1/articles?workspace_id=" .. ws1,
                          post_alice,
                          string.format('{"title": "L-%d-%d"}', tid, n))
    else
        return wrk.format("GET", "/v1/me", get_flip)
    end
end

function response(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
    if status == 201 then
        local id = body:match('"id": (%d+)')
        local title = body:match('"title": "(L%-%d+%-%d+)"')
        acked[#acked + 1] = (title or "?") .. " " .. (id or "?")
    elseif status == 200 and body:find(leak_pattern) then
        leaks = leaks + 1
    end
end

function done(summary, latency, requests)
    local a = assert(io.open(out .. "/acked.txt", "w"))
    local c = assert(io.open(out .. "/counts.txt", "w"))
    for _, t in ipairs(threads) do
        for _, line in ipairs(t:get("acked")) do
            a:write(line, "\n")
        end
        for s, v in pairs(t:get("counts")) do
            c:write(s, " ", v, "\n")
        end
        c:write("leaks ", t:get("leaks"), "\n")
    end
    local e = summary.errors
    c:write("socket_errors ", e.connect + e.read + e.write + e.timeout, "\n")
    c:write(string.format("p50_ms %.2f\n", latency:percentile(50) / 1000))
    c:write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
    a:close()
    c:close()
end
