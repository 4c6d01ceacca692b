-- wrk script for bench/serve: POSTs one recorded iris request to the classic
-- /run/ route, with a fresh id on every request so that the classic app's
-- unique (id, request_time) holds across the whole run.
--   wrk -t1 -c64 -d10s --latency -s bench/serve/post_run.lua http://127.0.0.1:8080/run/
-- IRIS_REQUEST names the request file (default: request_56.json, a versicolor).

local path = os.getenv("IRIS_REQUEST") or "examples/iris/requests/request_56.json"
local file = assert(io.open(path, "r"), "cannot open " .. path .. " (run wrk from the repository root)")
local inputs = assert(file:read("*a"):match('"inputs"%s*:%s*(%b{})'), "no inputs object in " .. path)
inputs = inputs:gsub("%s+", "")
file:close()

-- One request_time per wrk run and an id range per wrk thread: ids never repeat
-- within a run, and two runs (warm-up, measurement) differ in request_time.
math.randomseed(os.time())
local request_time = os.date("%Y-%m-%d %H:%M:%S")
local run_base = math.random(0, 999) * 1000000000
local threads = 0

function setup(thread)
  thread:set("next_id", run_base + threads * 100000000)
  thread:set("request_time", request_time)
  threads = threads + 1
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  next_id = next_id + 1
  local body = string.format('{"id": %d, "request_time": "%s", "inputs": %s}', next_id, request_time, inputs)
  return wrk.format("POST", nil, headers, body)
end
