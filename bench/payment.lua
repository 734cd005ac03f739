-- wrk script: POST one valid FT PAYMENT event per request, each with a unique payment_id.
-- Usage: wrk -s bench/payment.lua URL -- <run-tag> <api-key>
-- The run tag keeps payment ids unique across runs against the same journal, so every request
-- takes the mock's first-sighting path (no duplicates).

local counter = 0
local tag = "run"
local api_key = "mock-ft-local-key"

function init(args)
    if args[1] then tag = args[1] end
    if args[2] then api_key = args[2] end
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local template = '{"user_id":"7001","payment_id":"%s-%d","amount":25.5,"currency":"EUR",'
    .. '"exchange_rate":1.0,"fee_amount":0,"status":"Approved","type":"Credit",'
    .. '"vendor_id":"12","vendor_name":"Skrill","origin":"sub.example.com","timestamp":"%s"}'

function request()
    counter = counter + 1
    -- Lua's clock has whole seconds; stamping mid-second keeps the delivery-latency error within
    -- +/-500 ms, inside the mock's 1,000 ms freshness target, so no late/future warnings.
    local stamp = os.date("!%Y-%m-%dT%H:%M:%S.500Z")
    local body = string.format(template, tag, counter, stamp)
    wrk.headers["X-API-Key"] = api_key
    return wrk.format(nil, nil, nil, body)
end
