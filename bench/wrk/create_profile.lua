-- POST a new customer as create.lua does, plus a phone and a postal address (validated with
-- libphonenumber and Google's address data): issue 16's "create with a phone and an address".
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local run = os.time()

function init(args)
  seed_random()
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"firstname": "Load", "lastname": "Test %d", "email": "load-p-%d-%d-%d@writes.bench.example", ' ..
    '"company": "Bench Co", "phone": "020 7946 %04d", "address_country": "GBR", ' ..
    '"address": {"line1": "%d Downing Street", "city": "London", "postal_code": "sw1a 2aa"}, ' ..
    '"options": {"custom_fields": [' ..
    '{"name": "tier", "type": "string", "value": "gold"}, ' ..
    '{"name": "points", "type": "integer", "value": "%d"}]}}',
    counter, run, thread_id or 0, counter, math.random(0, 999), counter,
    math.random(0, 100000))
  return wrk.format(nil, "/api/v1/customers", nil, body)
end
