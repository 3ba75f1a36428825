-- wrk script for bench/throughput.py, one connection per thread (-t N -c N): thread i steps the session on line
-- i of the ids file (created beforehand, so that only steps are measured), one request in flight at a time:
--   wrk -t N -c N -s bench/wrk_throughput.lua URL -- IDS_FILE step|health [full|summary]
-- done() prints one machine-readable line for bench/throughput.py.
local threads = {}
local count = 0
ok, bad = 0, 0

function setup(thread)
  count = count + 1
  thread:set("index", count)
  table.insert(threads, thread)
end

function init(args)
  if args[2] == "health" then
    req = wrk.format("GET", "/api/health")
    return
  end
  local ids = {}
  for line in io.lines(args[1]) do
    table.insert(ids, line)
  end
  req = wrk.format("POST", "/api/sessions/" .. ids[index] .. "/step?detail=" .. (args[3] or "full"),
                   {["Content-Type"] = "application/json"}, '{"steps":1}')
end

function request()
  return req
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local rates = {}
  for _, thread in ipairs(threads) do
    table.insert(rates, string.format("%d", thread:get("ok")))
  end
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.6f p50_us=%d p99_us=%d max_us=%d non200=%d errors=%d ok=%s\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.max,
    bad_total, e.connect + e.read + e.write + e.timeout, table.concat(rates, ",")))
end
