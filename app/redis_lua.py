"""The Lua scripts of :class:`app.redis_store.RedisStore`: each change to the store is one script, atomic.

Keys (``P`` is the prefix, ``linclass:``; an id is 32 characters of ``[A-Za-z0-9_-]``, so no id can name a key
of another kind):

* ``P s:{id}``, a hash: ``core`` (the record as JSON, without the data and the history) and ``data``;
  ``P h:{id}`` the loss history as float64 bytes; ``P l:{id}`` the lock, a token with a short lease.
* ``P meta:used``, a sorted set of ids by last use (Redis's clock, ms): expiry and the session count.
* ``P meta:owner`` and ``P meta:size``, hashes: each live session's owner (client address) and accounted
  bytes; ``P meta:total`` the bytes of all; ``P meta:obytes`` a hash of each owner's bytes.
* ``P meta:o:{owner}``, a sorted set of that owner's ids by last use.
* ``P meta:rank:n`` and ``P meta:rank:b``: owners by their number of sessions, resp. bytes in 64 KB steps
  (the heaviest gives way first).
* ``P meta:rate:{owner}``, a hash: the owner's creation tokens and when they were counted.
"""

COMMON = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function rerank(P, owner)
  local n = redis.call('ZCARD', P .. 'meta:o:' .. owner)
  if n == 0 then
    redis.call('ZREM', P .. 'meta:rank:n', owner)
    redis.call('ZREM', P .. 'meta:rank:b', owner)
    redis.call('HDEL', P .. 'meta:obytes', owner)
    return
  end
  local bytes = tonumber(redis.call('HGET', P .. 'meta:obytes', owner) or '0')
  redis.call('ZADD', P .. 'meta:rank:n', n, owner)
  redis.call('ZADD', P .. 'meta:rank:b', string.format('%.0f', math.floor(bytes / 65536)), owner)
end

-- forget a session: its keys (not its lock, whose holder then finds the session gone) and its accounting
local function remove(P, sid)
  redis.call('DEL', P .. 's:' .. sid, P .. 'h:' .. sid)
  redis.call('ZREM', P .. 'meta:used', sid)
  local owner = redis.call('HGET', P .. 'meta:owner', sid)
  local size = tonumber(redis.call('HGET', P .. 'meta:size', sid) or '0')
  redis.call('HDEL', P .. 'meta:owner', sid)
  redis.call('HDEL', P .. 'meta:size', sid)
  redis.call('DECRBY', P .. 'meta:total', size)
  if owner then
    redis.call('ZREM', P .. 'meta:o:' .. owner, sid)
    redis.call('HINCRBY', P .. 'meta:obytes', owner, -size)
    rerank(P, owner)
  end
end

local function forget_expired(P, ttl)
  local old = redis.call('ZRANGEBYSCORE', P .. 'meta:used', '-inf', now_ms() - ttl, 'LIMIT', 0, 1000)
  for _, sid in ipairs(old) do remove(P, sid) end
end

local function touch(P, sid, ttl)
  local now = now_ms()
  redis.call('PEXPIRE', P .. 's:' .. sid, ttl)
  redis.call('PEXPIRE', P .. 'h:' .. sid, ttl)
  redis.call('ZADD', P .. 'meta:used', now, sid)
  local owner = redis.call('HGET', P .. 'meta:owner', sid)
  if owner then redis.call('ZADD', P .. 'meta:o:' .. owner, now, sid) end  -- (no weight changes: no rerank)
end

-- the session's accounted bytes, and its owner's weights (after it was first touched: its count is in them)
local function resize(P, sid, size)
  local old = tonumber(redis.call('HGET', P .. 'meta:size', sid) or '0')
  local owner = redis.call('HGET', P .. 'meta:owner', sid)
  local moved = old == 0  -- a new session: its owner's count changed
  if old ~= size then
    redis.call('HSET', P .. 'meta:size', sid, size)
    redis.call('INCRBY', P .. 'meta:total', size - old)
    if owner then
      local now = redis.call('HINCRBY', P .. 'meta:obytes', owner, size - old)
      moved = moved or math.floor((now - size + old) / 65536) ~= math.floor(now / 65536)
    end
  end
  if owner and moved then rerank(P, owner) end
end

-- the least recently used session of `owner` with no request in flight (no lock), other than `keep`
local function oldest_idle(P, owner, keep)
  for _, sid in ipairs(redis.call('ZRANGE', P .. 'meta:o:' .. owner, 0, 31)) do
    if sid ~= keep and redis.call('EXISTS', P .. 'l:' .. sid) == 0 then return sid end
  end
  return nil
end

local function head(P, owner)
  return tonumber(redis.call('ZRANGE', P .. 'meta:o:' .. owner, 0, 0, 'WITHSCORES')[2] or '0')
end

-- evict the least recently used idle session of the heaviest owner by `rank`: between equals, of the one whose
-- least recently used session is oldest; if none of them has an idle session, of the next heavier ones
local function evict_heaviest(P, rank, keep)
  local top = redis.call('ZREVRANGE', P .. rank, 0, 0, 'WITHSCORES')
  if #top == 0 then return false end
  local weight = top[2]
  if redis.call('ZCOUNT', P .. rank, weight, weight) > 16 then
    -- many as heavy (every one with one session, say): the first of them in the global order of last use
    for _, sid in ipairs(redis.call('ZRANGE', P .. 'meta:used', 0, 63)) do
      local owner = redis.call('HGET', P .. 'meta:owner', sid)
      if sid ~= keep and owner and redis.call('ZSCORE', P .. rank, owner) == weight
         and redis.call('EXISTS', P .. 'l:' .. sid) == 0 then
        remove(P, sid)
        return true
      end
    end
  end
  local tied = redis.call('ZREVRANGEBYSCORE', P .. rank, weight, weight, 'LIMIT', 0, 16)
  local heads = {}
  for _, owner in ipairs(tied) do heads[owner] = head(P, owner) end
  table.sort(tied, function(a, b) return heads[a] < heads[b] end)
  for _, owner in ipairs(redis.call('ZREVRANGEBYSCORE', P .. rank, '(' .. weight, '-inf', 'LIMIT', 0, 8)) do
    table.insert(tied, owner)
  end
  for _, owner in ipairs(tied) do
    local sid = oldest_idle(P, owner, keep)
    if sid then remove(P, sid) return true end
  end
  return false
end

local function shrink(P, keep, per_owner, max_sessions, max_bytes)
  local owner = redis.call('HGET', P .. 'meta:owner', keep)
  if owner then
    while redis.call('ZCARD', P .. 'meta:o:' .. owner) > per_owner do
      local sid = oldest_idle(P, owner, keep)
      if not sid then break end
      remove(P, sid)
    end
  end
  while redis.call('ZCARD', P .. 'meta:used') > max_sessions and evict_heaviest(P, 'meta:rank:n', keep) do end
  while tonumber(redis.call('GET', P .. 'meta:total') or '0') > max_bytes
        and evict_heaviest(P, 'meta:rank:b', keep) do end
end

-- spend one of `owner`'s creation tokens: 0, or the ms to wait for one
local function take_token(P, owner, rate, burst)
  local key = P .. 'meta:rate:' .. owner
  local now = now_ms()
  local v = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = math.min(burst, (tonumber(v[1]) or burst) + (now - (tonumber(v[2]) or now)) * rate / 1000)
  if tokens < 1 then return math.ceil((1 - tokens) * 1000 / rate) end
  redis.call('HSET', key, 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', key, math.ceil((burst - tokens + 1) * 1000 / rate) + 1000)
  return 0
end
"""

SCRIPTS = {
    # ARGV P, sid, owner, ttl, rate, burst, size, per_owner, max_sessions, max_bytes, core, data, history
    # -> 0 created, or the ms until the owner may create again
    "create": """
local P, sid, owner, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
forget_expired(P, ttl)
local wait = take_token(P, owner, tonumber(ARGV[5]), tonumber(ARGV[6]))
if wait > 0 then return wait end
redis.call('HSET', P .. 's:' .. sid, 'core', ARGV[11], 'data', ARGV[12])
redis.call('SET', P .. 'h:' .. sid, ARGV[13])
redis.call('HSET', P .. 'meta:owner', sid, owner)
touch(P, sid, ttl)
resize(P, sid, tonumber(ARGV[7]))
shrink(P, sid, tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]))
return 0""",
    # ARGV P, sid, ttl, token ('' to read without locking), lease ms
    # -> {0} unknown id, {1} locked by another request, {2, core, data, history}
    "open": """
local P, sid = ARGV[1], ARGV[2]
if redis.call('EXISTS', P .. 's:' .. sid) == 0 then return {0} end
local lock = P .. 'l:' .. sid
if ARGV[4] ~= '' and redis.call('GET', lock) ~= ARGV[4]  -- (held by this token already: a repeated call)
   and not redis.call('SET', lock, ARGV[4], 'NX', 'PX', ARGV[5]) then return {1} end
touch(P, sid, tonumber(ARGV[3]))
local v = redis.call('HMGET', P .. 's:' .. sid, 'core', 'data')
return {2, v[1], v[2], redis.call('GET', P .. 'h:' .. sid) or ''}""",
    # ARGV P, sid, ttl, token, core, data ('' if unchanged), 'set'|'append', history, size, per_owner,
    # max_sessions, max_bytes -> 1 saved, 0 the session is gone (evicted or deleted meanwhile), -1 lock lost
    "save": """
local P, sid = ARGV[1], ARGV[2]
local state, history = P .. 's:' .. sid, P .. 'h:' .. sid
if redis.call('GET', P .. 'l:' .. sid) ~= ARGV[4] then return -1 end
redis.call('DEL', P .. 'l:' .. sid)
if redis.call('EXISTS', state) == 0 then return 0 end
redis.call('HSET', state, 'core', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', state, 'data', ARGV[6]) end
if ARGV[7] == 'set' then redis.call('SET', history, ARGV[8]) else redis.call('APPEND', history, ARGV[8]) end
resize(P, sid, tonumber(ARGV[9]))
touch(P, sid, tonumber(ARGV[3]))
shrink(P, sid, tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]))  -- (over while it was busy)
return 1""",
    # ARGV P, sid, token -> 1 deleted, 0 gone already, -1 the lock was lost
    "delete": """
local P, sid = ARGV[1], ARGV[2]
if redis.call('GET', P .. 'l:' .. sid) ~= ARGV[3] then return -1 end
redis.call('DEL', P .. 'l:' .. sid)
if redis.call('EXISTS', P .. 's:' .. sid) == 0 then return 0 end
remove(P, sid)
return 1""",
    # KEYS lock; ARGV token
    "release": "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
    # KEYS lock; ARGV token, lease ms
    "renew": "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
    # ARGV P, ttl
    "count": "forget_expired(ARGV[1], tonumber(ARGV[2])) return redis.call('ZCARD', ARGV[1] .. 'meta:used')",
}
