-- wrk script of "./dev bench das": POST /v1/2fa-tokens, each request with its own pre-signed device token.
--
--   wrk -t1 -cN -dS --latency -s bench/das.lua https://DAS/v1/2fa-tokens -- TOKENS BODY
--
-- TOKENS holds one device token per line (the DAS accepts each jti once), BODY
-- the JSON request body. Every request is built in init(), so request() costs
-- the client nothing but a table lookup. When the tokens run out the thread
-- stops and says so; hotdesk-bench throws that run away (its last requests
-- replay a spent token, a 401) and runs it again with more. done() prints one
-- line, "das-bench {JSON}", that hotdesk-bench reads.

local requests = {}
local next_request = 1
-- Globals, so that done() can read them with thread:get().
sent = 0
exhausted = false

local function read_file(path)
   local file = assert(io.open(path, "rb"))
   local text = file:read("*a")
   file:close()
   return text
end

function init(args)
   local body = read_file(args[2])
   local headers = { ["Content-Type"] = "application/json" }
   for token in read_file(args[1]):gmatch("[^\n]+") do
      headers["Authorization"] = "DeviceToken " .. token
      requests[#requests + 1] = wrk.format("POST", nil, headers, body)
   end
end

function request()
   if next_request > #requests then
      exhausted = true
      wrk.thread:stop()
      -- wrk wants a request string all the same: this one is a replay.
      return requests[#requests]
   end
   local r = requests[next_request]
   next_request = next_request + 1
   sent = next_request - 1
   return r
end

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
end

function done(summary, latency, _)
   local used, ran_out = 0, false
   for _, thread in ipairs(threads) do
      used = used + (thread:get("sent") or 0)
      ran_out = ran_out or thread:get("exhausted")
   end
   local e = summary.errors
   io.write(string.format(
      'das-bench {"requests":%d,"duration_us":%d,"tokens_used":%d,"exhausted":%s,'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"latency_us":{"min":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
      summary.requests, summary.duration, used, tostring(ran_out),
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
