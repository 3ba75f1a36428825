-- wrk script for bench/attack.py --wrk: run with one connection per thread (-t N -c N). Each connection first
-- creates a session of its own, then steps it with one request in flight; done() prints per-client rates.
local threads = {}
local sid = nil
steps = 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  if sid == nil then
    return wrk.format("POST", "/api/sessions")
  end
  return wrk.format("POST", "/api/sessions/" .. sid .. "/step?detail=summary")
end

function response(status, headers, body)
  if sid == nil then
    if status == 201 then
      sid = string.match(body, '"id":"([^"]+)"')
    end
  elseif status == 200 then
    steps = steps + 1
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local rates = {}
  for _, thread in ipairs(threads) do
    table.insert(rates, thread:get("steps") / seconds)
  end
  table.sort(rates)
  io.write(string.format("clients %d, steps/s total %.0f\n", #rates, summary.requests / seconds))
  io.write(string.format("per-client steps/s: min %.1f median %.1f max %.1f\n",
    rates[1], rates[math.floor(#rates / 2) + 1], rates[#rates]))
  io.write(string.format("latency p50 %.1f ms p99 %.1f ms; non-2xx %d, errors %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
