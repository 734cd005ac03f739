-- wrk script: POST one valid FT PAYMENT event per request, each with a unique payment_id.
-- Usage: wrk -s bench/payment.lua URL -- <run-tag> <api-key> [<interval-ms>]
-- Without an interval wrk saturates. With one (the paced runs), each wrk thread keeps a schedule
-- of one request per interval: wrk's `delay()` hook, called when a connection has its answer,
-- holds that connection until the thread's next free slot (at once when the thread is behind).
-- The rate then does not depend on the latency, as long as the thread's connections outnumber
-- the requests in flight (wrk counts latency from the send, so the wait is not in it).
-- The run tag keeps payment ids unique across runs against the same journal, so every request
-- takes the mock's first-sighting path (no duplicates).
-- MOCK_FT_BENCH_PORTS="8001,8002" (bench.instances): thread i talks to 127.0.0.1 on the i-th port,
-- round robin, so `-t2` splits the connections evenly over two instances of one journal.

local counter = 0
local tag = "run"
local api_key = "mock-ft-local-key"

local ffi = require("ffi")  -- wrk's LuaJIT: a monotonic clock in ms, which plain Lua lacks
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } mock_ft_timespec;
int clock_gettime(int clock_id, mock_ft_timespec *tp);
]]
local clock = ffi.new("mock_ft_timespec")

local function now_ms()
    ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
    return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local ports = os.getenv("MOCK_FT_BENCH_PORTS")
local threads = 0
thread_no = 0  -- set in each thread by setup(): payment ids stay unique with several threads

function setup(thread)
    thread:set("thread_no", threads)
    if ports then
        local list = {}
        for port in string.gmatch(ports, "%d+") do list[#list + 1] = port end
        thread.addr = wrk.lookup("127.0.0.1", list[threads % #list + 1])[1]
    end
    threads = threads + 1
end

function init(args)
    if args[1] then tag = args[1] end
    if args[2] then api_key = args[2] end
    -- delay() is defined only when pacing: wrk looks for it after init(), and a saturating run
    -- should not pay for a timer per request.
    local interval = tonumber(args[3] or "")
    if interval then
        local next_slot = nil
        delay = function()
            local now = now_ms()
            next_slot = next_slot or now
            local wait = next_slot - now
            next_slot = next_slot + interval
            return wait > 0 and wait or 0
        end
    end
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local template = '{"user_id":"7001","payment_id":"%s-%d-%d","amount":25.5,"currency":"EUR",'
    .. '"exchange_rate":1.0,"fee_amount":0,"status":"Approved","type":"Credit",'
    .. '"vendor_id":"12","vendor_name":"Skrill","origin":"sub.example.com","timestamp":"%s"}'

function request()
    counter = counter + 1
    -- Lua's clock has whole seconds; stamping mid-second keeps the delivery-latency error within
    -- +/-500 ms, inside the mock's 1,000 ms freshness target, so no late/future warnings.
    local stamp = os.date("!%Y-%m-%dT%H:%M:%S.500Z")
    local body = string.format(template, tag, thread_no, counter, stamp)
    wrk.headers["X-API-Key"] = api_key
    return wrk.format(nil, nil, nil, body)
end
