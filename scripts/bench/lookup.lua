-- wrk script: POST /v1/features/online for the fraud_detection service with random
-- users and merchants; BATCH entities per request (from the environment, default 1).
local batch = tonumber(os.getenv("BATCH") or "1")
local users = tonumber(os.getenv("USERS") or "10000")
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
request = function()
  local u, m = {}, {}
  for i = 1, batch do
    u[i] = tostring(math.random(1, users))
    m[i] = tostring(math.random(1, 1000))
  end
  local body = '{"service":"fraud_detection","entities":{"user_id":[' .. table.concat(u, ",") .. '],"merchant_id":[' .. table.concat(m, ",") .. ']}}'
  return wrk.format(nil, "/v1/features/online", nil, body)
end
