-- wrk script: Feast's POST /get-online-features for the driver view's three features,
-- BATCH random drivers per request (from the environment), the same body for Feast and Larder.
local batch = tonumber(os.getenv("BATCH") or "1")
local drivers = tonumber(os.getenv("DRIVERS") or "10000")
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
request = function()
  local d = {}
  for i = 1, batch do
    d[i] = tostring(math.random(1, drivers))
  end
  local body = '{"features":["driver_hourly_stats:conv_rate","driver_hourly_stats:acc_rate","driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[' .. table.concat(d, ",") .. ']}}'
  return wrk.format(nil, "/get-online-features", nil, body)
end
