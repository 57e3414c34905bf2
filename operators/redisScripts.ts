/**
 * Lua script of the Redis store. Every key belongs to one hash tag (an account, a phone, a device, or
 * one tap's index entry) and every operation touches the keys of one tag and is idempotent by itself;
 * they mirror operators/entityState.ts line by line and the conformance suite checks both.
 * Entity state is one JSON string per key (cjson).
 *
 * A batch of operations runs as ONE script call (per group of keys: see redisStore.ts): each key is
 * read and decoded once, every operation on it is applied in order, and it is written once at the
 * end. Operations on different keys commute, so this equals applying them one call each.
 */
/** Shared helpers: trim a state (cjson turns an empty array into an object: callers fix `e`). */
const prelude = `
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
    end
  end
end
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

/**
 * KEYS: every key the batch touches. ARGV: the operations one after the other, each a code and its
 * fields (flat arguments: cheaper to send and to read than one JSON document to decode):
 *   1 claimTap        index, decision, entry JSON, ttl                 → 1 | [0, entry, decision|null]
 *   2 insertEvent     entity, retention, ttl, month key|'', amount, hold window|'', adjustment
 *                     keep|'', then the event by entity type: a: tap_id, time, flags, device,
 *                     country|'', lat|'', lon|''; m: tap_id, time, account, amount, currency;
 *                     d: tap_id, time, account                        → [inserted 0|1, prevMax, state]
 *   3 adjustTap       index, adjustment id, expected version, entry JSON, ttl → "ok"|"unknown"|...
 *   4 adjustPhone     phone, adjustment id, kind, tap_id, amount, month key, time, ttl → 1 | 0
 *   5 removeEvent     entity, tap_id, month key|'', amount            → 1 | 0
 *   6 undoAdjustPhone phone, adjustment id, kind, tap_id, amount, month key, time → 1 | 0
 *   7 recordDecision  decision key, decision JSON, ttl                → 1 | 0 (SET NX)
 * Key fields are indexes into KEYS. Returns the JSON array of the results, in order.
 */
export const batch = `${prelude}${phoneEffect}
local A = ARGV
local states, exists, dirty, ttls, encs = {}, {}, {}, {}, {}
local order = {}
local null = cjson.null
local function get(ki)
  local s = states[ki]
  if s == nil then
    local raw = redis.call('GET', KEYS[ki])
    if raw then
      s = cjson.decode(raw)
      if type(s.e) ~= 'table' then s.e = {} end
      exists[ki] = true
      encs[ki] = raw
    else
      s = { m = -1, e = {} }
      exists[ki] = false
    end
    states[ki] = s
  end
  return s
end
local function touch(ki, ttl)
  if not dirty[ki] then dirty[ki] = true; order[#order + 1] = ki end
  exists[ki] = true
  encs[ki] = nil
  if ttl then ttls[ki] = ttl end
end
local function opt(v) if v == '' then return nil end return tonumber(v) end
local function orNull(v) if v == '' then return null end return v end
local function numOrNull(v) if v == '' then return null end return tonumber(v) end
local out = {}
local i, n = 1, 0
local argc = #A
while i <= argc do
  local code = A[i]
  n = n + 1
  if code == '2' then
    local ki = tonumber(A[i + 1])
    local retention, ttl, month, amount = tonumber(A[i + 2]), tonumber(A[i + 3]), A[i + 4], tonumber(A[i + 5])
    local holdWindow, adjKeep, kind = opt(A[i + 6]), opt(A[i + 7]), A[i + 8]
    local ev
    if kind == 'a' then
      ev = { A[i + 9], tonumber(A[i + 10]), tonumber(A[i + 11]), A[i + 12], orNull(A[i + 13]),
        numOrNull(A[i + 14]), numOrNull(A[i + 15]) }
      i = i + 16
    elseif kind == 'm' then
      ev = { A[i + 9], tonumber(A[i + 10]), A[i + 11], tonumber(A[i + 12]), A[i + 13] }
      i = i + 14
    else
      ev = { A[i + 9], tonumber(A[i + 10]), A[i + 11] }
      i = i + 12
    end
    local s = get(ki)
    local prev = s.m
    local id = ev[1]
    local found = false
    local e = s.e
    for j = 1, #e do
      if e[j][1] == id then found = true; break end
    end
    local inserted = 0
    if not found then
      inserted = 1
      e[#e + 1] = ev
      local t = ev[2]
      if t > s.m then s.m = t end
      if month ~= '' and amount ~= 0 then
        if type(s.mo) ~= 'table' then s.mo = {} end
        s.mo[month] = (s.mo[month] or 0) + amount
      end
    end
    trim(s, retention, holdWindow, adjKeep)
    touch(ki, ttl)
    local enc = cjson.encode(s)
    encs[ki] = enc
    out[n] = '[' .. inserted .. ',' .. tostring(prev) .. ',' .. enc .. ']'
  elseif code == '1' then
    local ki = tonumber(A[i + 1])
    local cur = redis.call('GET', KEYS[ki])
    if cur then
      out[n] = '[0,' .. cur .. ',' .. (redis.call('GET', KEYS[tonumber(A[i + 2])]) or 'null') .. ']'
    else
      redis.call('SET', KEYS[ki], A[i + 3], 'PX', A[i + 4])
      out[n] = '1'
    end
    i = i + 5
  elseif code == '7' then
    out[n] = redis.call('SET', KEYS[tonumber(A[i + 1])], A[i + 2], 'PX', A[i + 3], 'NX') and '1' or '0'
    i = i + 4
  elseif code == '3' then
    local key = KEYS[tonumber(A[i + 1])]
    local cur = redis.call('GET', key)
    if not cur then out[n] = '"unknown"'
    else
      local e = cjson.decode(cur)
      if type(e.adj) == 'table' and e.adj[A[i + 2]] then out[n] = '"duplicate"'
      elseif e.v ~= tonumber(A[i + 3]) then out[n] = '"conflict"'
      else
        local ttl = math.max(redis.call('PTTL', key), tonumber(A[i + 5]))
        redis.call('SET', key, A[i + 4], 'PX', ttl)
        out[n] = '"ok"'
      end
    end
    i = i + 6
  elseif code == '4' then
    local ki = tonumber(A[i + 1])
    local s = get(ki)
    if type(s.ad) ~= 'table' then s.ad = {} end
    if s.ad[A[i + 2]] then out[n] = '0'
    else
      local t = tonumber(A[i + 7])
      s.ad[A[i + 2]] = t
      effect(s, A[i + 3], A[i + 4], tonumber(A[i + 5]), A[i + 6], t, 1)
      local pttl = ttls[ki]
      if pttl == nil then pttl = redis.call('PTTL', KEYS[ki]) end
      touch(ki, math.max(pttl, tonumber(A[i + 8])))
      out[n] = '1'
    end
    i = i + 9
  elseif code == '5' then
    local ki = tonumber(A[i + 1])
    local s = get(ki)
    out[n] = '0'
    if exists[ki] then
      local kept, removed = {}, false
      for j = 1, #s.e do
        if s.e[j][1] == A[i + 2] then removed = true else kept[#kept + 1] = s.e[j] end
      end
      local month = A[i + 3]
      if removed then
        s.e = kept
        if month ~= '' and type(s.mo) == 'table' and s.mo[month] then
          s.mo[month] = s.mo[month] - tonumber(A[i + 4])
        end
        touch(ki, nil)
        out[n] = '1'
      end
    end
    i = i + 5
  elseif code == '6' then
    local ki = tonumber(A[i + 1])
    local s = get(ki)
    out[n] = '0'
    if exists[ki] and type(s.ad) == 'table' and s.ad[A[i + 2]] then
      s.ad[A[i + 2]] = nil
      effect(s, A[i + 3], A[i + 4], tonumber(A[i + 5]), A[i + 6], tonumber(A[i + 7]), -1)
      touch(ki, nil)
      out[n] = '1'
    end
    i = i + 8
  else
    return redis.error_reply('unknown batch operation ' .. tostring(code))
  end
end
for i = 1, #order do
  local ki = order[i]
  local enc = encs[ki] or cjson.encode(states[ki])
  if ttls[ki] then redis.call('SET', KEYS[ki], enc, 'PX', ttls[ki])
  else redis.call('SET', KEYS[ki], enc, 'KEEPTTL') end
end
return '[' .. table.concat(out, ',') .. ']'
`;
