-- wrk script for bench/load.py: GET the paths given after `--` in turn, and print one JSON
-- line of figures at the end, so the benchmark need not parse wrk's human-readable report.
--
--   wrk -t 1 -c 8 -d 20s --timeout 10s -s bench/load_paths.lua http://127.0.0.1:8000 -- / /feeds/alerts.json
--
-- Each wrk thread runs its own copy of this script (init and request); done runs once, in
-- the main state, with the totals of every thread. Latencies are in microseconds.

local paths = {}
local next_index = 0

function init(args)
  for _, path in ipairs(args) do
    paths[#paths + 1] = path
  end
  if #paths == 0 then
    error("give the paths to request after --")
  end
end

function request()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "status_errors": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, errors.status, errors.connect, errors.read, errors.write, errors.timeout
  ))
end
