/**
 * Lua scripts of the Redis store. Each touches the keys of one hash tag (an account, a phone, a
 * device, or one tap's index entry), so Redis Cluster can shard by entity, and is idempotent by
 * itself. They mirror operators/entityState.ts line by line; the conformance suite checks both.
 * Entity state is one JSON string per key (cjson): compact, one GET and one SET per script.
 */

/** Shared helpers: decode a state (cjson turns an empty array into an object), trim it. */
const prelude = `
local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return { m = -1, e = {} } end
  local s = cjson.decode(raw)
  if type(s.e) ~= 'table' then s.e = {} end
  return s
end
local function save(key, s, ttl)
  redis.call('SET', key, cjson.encode(s), 'PX', ttl)
end
local function trim(s, retention, holdWindow, adjKeep)
  local cut = s.m - retention
  local kept = {}
  for i = 1, #s.e do
    if s.e[i][2] > cut then kept[#kept + 1] = s.e[i] end
  end
  s.e = kept
  if s.h and holdWindow then
    local holdCut = s.m - holdWindow
    for tap, hold in pairs(s.h) do
      if hold[1] <= holdCut or hold[2] <= hold[3] then s.h[tap] = nil end
    end
  end
  if s.ad and adjKeep then
    local adjCut = s.m - adjKeep
    for id, t in pairs(s.ad) do
      if t <= adjCut then s.ad[id] = nil end
    end
  end
  if s.mo then
    local seen, months = {}, {}
    for k in pairs(s.mo) do
      local mon = string.sub(k, 1, 7)
      if not seen[mon] then seen[mon] = true; months[#months + 1] = mon end
    end
    table.sort(months, function(a, b) return a > b end)
    local oldest = months[3]
    if oldest then
      for k in pairs(s.mo) do
        if string.sub(k, 1, 7) < oldest then s.mo[k] = nil end
      end
      if type(s.mt) == 'table' then
        for id, k in pairs(s.mt) do
          if string.sub(k[1], 1, 7) < oldest then s.mt[id] = nil end
        end
      end
    end
  end
end
`;

/** KEYS: index, decision. ARGV: entry JSON, ttl. → {1} new | {0, entry, decision|nil} */
export const claimTap = `
local cur = redis.call('GET', KEYS[1])
if cur then return { 0, cur, redis.call('GET', KEYS[2]) or false } end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return { 1 }
`;

/**
 * KEYS: entity. ARGV: event JSON, tap_id, event time, retention, ttl, month key|'', month amount,
 * hold window|'', adjustment keep|''. → {inserted 0|1, prevMax, state JSON}
 */
export const insertEvent = `${prelude}
local s = load(KEYS[1])
local prev = s.m
local id = ARGV[2]
local found = false
for i = 1, #s.e do
  if s.e[i][1] == id then found = true; break end
end
if type(s.mt) == 'table' and s.mt[id] then found = true end
local inserted = 0
if not found then
  inserted = 1
  s.e[#s.e + 1] = cjson.decode(ARGV[1])
  local t = tonumber(ARGV[3])
  if t > s.m then s.m = t end
  local amount = tonumber(ARGV[7])
  if ARGV[6] ~= '' and amount ~= 0 then
    if type(s.mo) ~= 'table' then s.mo = {} end
    s.mo[ARGV[6]] = (s.mo[ARGV[6]] or 0) + amount
    if type(s.mt) ~= 'table' then s.mt = {} end
    s.mt[id] = { ARGV[6], t, amount }
  end
end
trim(s, tonumber(ARGV[4]), tonumber(ARGV[8]), tonumber(ARGV[9]))
local enc = cjson.encode(s)
redis.call('SET', KEYS[1], enc, 'PX', ARGV[5])
return { inserted, tostring(prev), enc }
`;

/** KEYS: entity. ARGV: tap_id, month key|'', amount. */
export const removeEvent = `${prelude}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = load(KEYS[1])
local kept, removed = {}, false
for i = 1, #s.e do
  if s.e[i][1] == ARGV[1] then removed = true else kept[#kept + 1] = s.e[i] end
end
local counted = type(s.mt) == 'table' and s.mt[ARGV[1]] ~= nil
if counted then s.mt[ARGV[1]] = nil end
if not removed and not counted then return 0 end
s.e = kept
if ARGV[2] ~= '' and type(s.mo) == 'table' and s.mo[ARGV[2]] then
  s.mo[ARGV[2]] = s.mo[ARGV[2]] - tonumber(ARGV[3])
end
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return 1
`;

/** KEYS: index. ARGV: adjustment id, expected version, entry JSON, ttl. → ok|unknown|duplicate|conflict */
export const adjustTap = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 'unknown' end
local e = cjson.decode(cur)
if type(e.adj) == 'table' and e.adj[ARGV[1]] then return 'duplicate' end
if e.v ~= tonumber(ARGV[2]) then return 'conflict' end
local ttl = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[4]))
redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
return 'ok'
`;

const phoneEffect = `
local function effect(s, kind, tap, amount, month, t, sign)
  if kind == 'REFUND' or kind == 'CHARGEBACK' then
    if type(s.mo) ~= 'table' then s.mo = {} end
    s.mo[month] = (s.mo[month] or 0) - sign * amount
  elseif kind == 'UNPAID' then
    if type(s.h) ~= 'table' then s.h = {} end
    local hold = s.h[tap] or { t, 0, 0 }
    if sign == 1 and t > hold[1] then hold[1] = t end
    hold[2] = hold[2] + sign * amount
    s.h[tap] = hold
  elseif kind == 'COLLECTED' then
    if type(s.h) == 'table' and s.h[tap] then
      s.h[tap][3] = s.h[tap][3] + sign * amount
    end
  end
end
`;

/** KEYS: phone. ARGV: adjustment id, kind, tap_id, amount, month key, event time, ttl. → 1 applied | 0 */
export const adjustPhone = `${prelude}${phoneEffect}
local s = load(KEYS[1])
if type(s.ad) ~= 'table' then s.ad = {} end
if s.ad[ARGV[1]] then return 0 end
local t = tonumber(ARGV[6])
s.ad[ARGV[1]] = t
effect(s, ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], t, 1)
local ttl = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[7]))
save(KEYS[1], s, ttl)
return 1
`;

/** KEYS: phone. ARGV: adjustment id, kind, tap_id, amount, month key, event time. */
export const undoAdjustPhone = `${prelude}${phoneEffect}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = load(KEYS[1])
if type(s.ad) ~= 'table' or not s.ad[ARGV[1]] then return 0 end
s.ad[ARGV[1]] = nil
effect(s, ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), -1)
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return 1
`;
