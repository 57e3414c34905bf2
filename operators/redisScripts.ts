/**
 * Lua scripts of the Redis store. Each touches the keys of one hash tag (an account, a phone, a
 * device, or one tap's index entry), so Redis Cluster can shard by entity, and is idempotent by
 * itself. They mirror operators/entityState.ts; the conformance suite and the store-equivalence
 * property check both stores decide alike.
 *
 * Layout (operators/redis/layout.ts packs and reads it on the Node side):
 *  - entity `{a:…}` `{m:…}` `{d:…}`: one string, a header then the events in the order applied.
 *      header  account/device: m US c        phone: m US c US mo US holds US adjustments
 *      events  RS tap_id US occurred_at US …the rest of the tuple (packed by Node, never parsed here)
 *    m = newest event time, c = the cut of the last trim: only events later than c are the entity's
 *    events. Writes are O(1) amortised: an insert appends one event, and the trim drops dead events
 *    from the front only (each is dropped once); nothing decodes or re-encodes the window. A dead
 *    event behind a live one stays in the string until it reaches the front, invisible (Node filters
 *    by c). A phone's month sums are GS key FS amount entries, changed in place as text; its holds
 *    and adjustment ids (rare) stay cjson, decoded only when an operation needs them. The header's m
 *    and c are written back as text that came in (the tap's time, the cut Node computed, or the
 *    stored header), not formatted by Lua: glibc's number formatting and parsing showed as ~6% of
 *    Redis's CPU in a profile of the state stage.
 *  - phone month taps (`mt` in entityState.ts) beside the phone, same hash tag: `{m:…}:t` hash
 *    tap_id → month key US occurred_at US amount (was the tap counted: O(1)), and `{m:…}:z` sorted
 *    set tap_id by occurred_at (the month's taps dated after a tap: O(log n + later)). Whenever the
 *    phone key is written their TTL is made at least the phone's (up to a day more), so they never
 *    expire before it.
 *  - tap index `{t:…}`: the entry, then NL and the first decision's JSON (the first decision stays,
 *    as SET NX did on the separate decision key this replaces). Written with its decision by one SET
 *    NX GET, no script; a tap an adjustment of its batch names is claimed alone first, and its
 *    decision appended by recordDecision. The entry is a JSON array (layout.ts ENTRY_FIELDS), a third
 *    smaller than the object.
 */

/**
 * Event (RS) and field (US) separators, and a phone's month-sum entries (GS) and their amount (FS): ids
 * and currencies are validated free of control characters.
 */
const helpers = `
local RS, US, GS, FS = '\\30', '\\31', '\\29', '\\28'
local function split(head)
  local f, s = {}, 1
  while true do
    local u = string.find(head, US, s, true)
    if not u then f[#f + 1] = string.sub(head, s); return f end
    f[#f + 1] = string.sub(head, s, u - 1)
    s = u + 1
  end
end
-- where the events start (the first RS, or past the end), and the header fields before it
local function eventsAt(raw)
  return string.find(raw, RS, 1, true) or (#raw + 1)
end
local function loadAt(raw)
  if not raw then return nil, '', 1 end
  local p = eventsAt(raw)
  return split(string.sub(raw, 1, p - 1)), raw, p
end
-- header fields and the events part, or nil when the key is absent (the rarer scripts)
local function load(raw)
  local f, ev, p = loadAt(raw)
  return f, string.sub(ev, p)
end
-- occurred_at of the event starting at p (an RS)
local function timeAt(ev, p)
  local a = string.find(ev, US, p + 1, true)
  local b = string.find(ev, US, a + 1, true)
  return tonumber(string.sub(ev, a + 1, (b or (#ev + 1)) - 1))
end
local function nextAt(ev, p)
  return string.find(ev, RS, p + 1, true) or (#ev + 1)
end
-- an event of this tap later than cut (one of the entity's events), among the events from p
local function findLive(ev, id, cut, p)
  local needle, from = RS .. id .. US, p
  while true do
    local q = string.find(ev, needle, from, true)
    if not q then return false end
    if timeAt(ev, q) > cut then return true end
    from = q + 1
  end
end
-- only the events later than cut (a full pass: when the cut moves back, i.e. retention grew)
local function compact(ev, cut)
  local parts, p, n = {}, 1, #ev
  while p <= n do
    local q = nextAt(ev, p)
    if timeAt(ev, p) > cut then parts[#parts + 1] = string.sub(ev, p, q - 1) end
    p = q
  end
  return table.concat(parts)
end
-- past the dead events at the front of the events from p (each event is dropped once: O(1) amortised)
local function liveFrom(ev, p, cut)
  local n = #ev
  while p <= n and timeAt(ev, p) <= cut do p = nextAt(ev, p) end
  return p
end
-- every event of this tap removed; also says whether one was later than cut
local function without(ev, id, cut)
  local needle, parts, from, live = RS .. id .. US, {}, 1, false
  while true do
    local p = string.find(ev, needle, from, true)
    if not p then break end
    if timeAt(ev, p) > cut then live = true end
    parts[#parts + 1] = string.sub(ev, from, p - 1)
    from = nextAt(ev, p)
  end
  if from == 1 then return ev, false end
  parts[#parts + 1] = string.sub(ev, from)
  return table.concat(parts), live
end
local function decodeMap(s)
  if s == nil or s == '' then return {} end
  return cjson.decode(s)
end
local function encodeMap(t)
  if next(t) == nil then return '' end
  return cjson.encode(t)
end
-- the header's new m and cut as text: the tap's own time and Node's cut when the tap moved m,
-- the stored text when nothing moved, a formatted number only when the retention changed
local function headText(f, moved, cut, tText, cutText)
  if moved then return tText, cutText end
  if f and tonumber(f[2]) == cut then return f[1], f[2] end
  return f and f[1] or '-1', tostring(cut)
end
`;

/**
 * KEYS: account or device. ARGV: packed event (RS…), tap_id, event time, retention, ttl, the cut if
 * this tap moves m (event time − retention, as text). → {inserted 0|1, prevMax, state string}
 */
export const insertEvent = `${helpers}
local f, ev, p = loadAt(redis.call('GET', KEYS[1]))
local m, c = -1, nil
if f then m, c = tonumber(f[1]), tonumber(f[2]) end
local id, t = ARGV[2], tonumber(ARGV[3])
-- a tap later than m was never inserted: inserting one moves m to its time, and nothing lowers m
local found = c ~= nil and t <= m and findLive(ev, id, c, p)
local moved = not found and t > m
if moved then m = t end
local cut = m - tonumber(ARGV[4])
if c ~= nil and cut < c then ev, p = compact(string.sub(ev, p), c), 1 end
local mt, ct = headText(f, moved, cut, ARGV[3], ARGV[6])
local out = mt .. US .. ct .. string.sub(ev, liveFrom(ev, p, cut)) .. ((not found and t > cut) and ARGV[1] or '')
redis.call('SET', KEYS[1], out, 'PX', ARGV[5])
return { found and 0 or 1, f and f[1] or '-1', out }
`;

/** Phone helpers: header fields, TTL of the month-tap keys, month trim. */
const phoneHelpers = `
-- month sums as text: GS key FS amount per month key, in no particular order
local function encodeMonths(mo)
  local parts = {}
  for k, v in pairs(mo) do parts[#parts + 1] = GS .. k .. FS .. tostring(v) end
  return table.concat(parts)
end
local function decodeMonths(s)
  local mo = {}
  for k, v in string.gmatch(s, GS .. '([^' .. FS .. ']*)' .. FS .. '([^' .. GS .. ']*)') do mo[k] = tonumber(v) end
  return mo
end
local function monthCount(s)
  return select(2, string.gsub(s, GS, GS))
end
-- the month's sum plus amount (amountText: the same number as text, for a new month), in place
local function addMonth(mos, mk, amount, amountText)
  local needle = GS .. mk .. FS
  local a = string.find(mos, needle, 1, true)
  if not a then return mos .. needle .. amountText end
  local v = a + #needle
  local b = string.find(mos, GS, v, true) or (#mos + 1)
  return string.sub(mos, 1, v - 1) .. tostring(tonumber(string.sub(mos, v, b - 1)) + amount) .. string.sub(mos, b)
end
-- header fields; month sums written by an earlier version (a cjson object) are read as text
local function phoneHead(f)
  if not f then return -1, nil, '', '', '' end
  local mos = f[3] or ''
  if string.byte(mos, 1) == 123 then mos = encodeMonths(cjson.decode(mos)) end
  return tonumber(f[1]), tonumber(f[2]), mos, f[4] or '', f[5] or ''
end
-- m and c as numbers, or as the text insertPhoneEvent writes back; add: an event appended (one
-- concatenation, so the window is copied once)
local function phoneOut(m, c, mo, h, ad, ev, add)
  return tostring(m) .. US .. tostring(c) .. US .. mo .. US .. h .. US .. ad .. ev .. (add or '')
end
-- The month-tap keys must outlive the phone key, whose TTL this write sets to ttl. They get ttl plus
-- a day once theirs is below ttl (or unset: a key just created), so most taps read one TTL instead of
-- writing two expiries (and their two PEXPIREATs to the AOF). Both are written together and emptied
-- together (one counted tap: one field, one member), so the hash's TTL speaks for the sorted set's.
local AUX_SLACK = 86400000
-- A phone key absent (new, or expired) may leave its month-tap keys behind for up to that day: they
-- belong to the expired phone, so they go before this one counts a tap.
local function clearAux(f)
  if not f then redis.call('DEL', KEYS[2], KEYS[3]) end
end
local function renewAux(ttl)
  if redis.call('PTTL', KEYS[2]) < ttl then
    redis.call('PEXPIRE', KEYS[2], ttl + AUX_SLACK)
    redis.call('PEXPIRE', KEYS[3], ttl + AUX_SLACK)
  end
end
-- month sums of the 3 newest months only, and their counted taps (rare: a month appears)
local function trimMonths(mo)
  local seen, months = {}, {}
  for k in pairs(mo) do
    local mon = string.sub(k, 1, 7)
    if not seen[mon] then seen[mon] = true; months[#months + 1] = mon end
  end
  table.sort(months, function(a, b) return a > b end)
  local oldest = months[3]
  if not oldest then return false end
  local dropped = false
  for k in pairs(mo) do
    if string.sub(k, 1, 7) < oldest then mo[k] = nil; dropped = true end
  end
  if not dropped then return false end
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    if string.sub(all[i + 1], 1, 7) < oldest then
      redis.call('HDEL', KEYS[2], all[i])
      redis.call('ZREM', KEYS[3], all[i])
    end
  end
  return true
end
`;

/**
 * KEYS: phone, its month taps hash, its month taps by time. ARGV: packed event (RS…), tap_id, event
 * time, retention, ttl, month key|'', month amount, hold window|'', adjustment keep|'', the cut if
 * this tap moves m (as insertEvent).
 * → {inserted 0|1, prevMax, state string, later month taps: tap_id, "month US time US amount", …}
 */
export const insertPhoneEvent = `${helpers}${phoneHelpers}
local f, ev, p = loadAt(redis.call('GET', KEYS[1]))
clearAux(f)
local m, c, mos, hs, ads = phoneHead(f)
local prev = m
local id, t = ARGV[2], tonumber(ARGV[3])
local mk, amount = ARGV[6], tonumber(ARGV[7])
-- later than m: neither an event nor counted (inserting moves m to its time; nothing lowers m, and
-- month-tap keys an expired phone left were cleared above)
local found = t <= m and ((c ~= nil and findLive(ev, id, c, p)) or redis.call('HEXISTS', KEYS[2], id) == 1)
local moved = not found and t > m
if moved then m = t end
if not found and mk ~= '' and amount ~= 0 then
  mos = addMonth(mos, mk, amount, ARGV[7])
  redis.call('HSET', KEYS[2], id, mk .. US .. ARGV[3] .. US .. ARGV[7])
  redis.call('ZADD', KEYS[3], ARGV[3], id)
end
local cut = m - tonumber(ARGV[4])
if c ~= nil and cut < c then ev, p = compact(string.sub(ev, p), c), 1 end
local holdWindow, adjKeep = tonumber(ARGV[8]), tonumber(ARGV[9])
if hs ~= '' and holdWindow then
  local h, holdCut, changed = cjson.decode(hs), m - holdWindow, false
  for tap, hold in pairs(h) do
    if hold[1] <= holdCut or hold[2] <= hold[3] then h[tap] = nil; changed = true end
  end
  if changed then hs = encodeMap(h) end
end
if ads ~= '' and adjKeep then
  local ad, adjCut, changed = cjson.decode(ads), m - adjKeep, false
  for aid, at in pairs(ad) do
    if at <= adjCut then ad[aid] = nil; changed = true end
  end
  if changed then ads = encodeMap(ad) end
end
-- more than 3 month keys may mean a month to drop (3 keys are at most 3 months)
if monthCount(mos) > 3 then
  local mo = decodeMonths(mos)
  if trimMonths(mo) then mos = encodeMonths(mo) end
end
local mt, ct = headText(f, moved, cut, ARGV[3], ARGV[10])
local out = phoneOut(mt, ct, mos, hs, ads, string.sub(ev, liveFrom(ev, p, cut)), (not found and t > cut) and ARGV[1])
redis.call('SET', KEYS[1], out, 'PX', ARGV[5])
if mos ~= '' then renewAux(tonumber(ARGV[5])) end
local later = {}
-- Counted taps dated after this one: none when it is at or after the phone's newest time before
-- it (every counted tap is at or before that; removals never lower it), the usual case.
if mk ~= '' and mos ~= '' and not (f ~= nil and t >= prev) then
  local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[3], '+inf')
  for from = 1, #ids, 1000 do
    local chunk = { unpack(ids, from, math.min(from + 999, #ids)) }
    local vals = redis.call('HMGET', KEYS[2], unpack(chunk))
    for i = 1, #chunk do
      if vals[i] and string.sub(vals[i], 1, #mk + 1) == mk .. US then
        later[#later + 1] = chunk[i]
        later[#later + 1] = vals[i]
      end
    end
  end
end
return { found and 0 or 1, f and f[1] or '-1', out, later }
`;

/** KEYS: account or device. ARGV: tap_id. */
export const removeEvent = `${helpers}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local f, ev = load(raw)
local kept = without(ev, ARGV[1], tonumber(f[2]))
if kept == ev then return 0 end
redis.call('SET', KEYS[1], f[1] .. US .. f[2] .. kept, 'KEEPTTL')
return 1
`;

/** KEYS: phone, month taps hash, month taps by time. ARGV: tap_id, month key|'', amount. */
export const removePhoneEvent = `${helpers}${phoneHelpers}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local f, ev = load(raw)
local m, c, mos, hs, ads = phoneHead(f)
local kept, live = without(ev, ARGV[1], c)
local counted = redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1
if counted then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
if (live or counted) and ARGV[2] ~= '' and mos ~= '' then
  local mo = decodeMonths(mos)
  if mo[ARGV[2]] then
    mo[ARGV[2]] = mo[ARGV[2]] - tonumber(ARGV[3])
    mos = encodeMonths(mo)
  end
end
if kept == ev and not counted then return 0 end
redis.call('SET', KEYS[1], phoneOut(m, c, mos, hs, ads, kept), 'KEEPTTL')
return 1
`;

/**
 * KEYS: index. ARGV: adjustment id, expected version, packed entry, ttl. → ok|unknown|duplicate|conflict
 * The packed entry is a JSON array: [1] is the version, [16] the adjustment ids applied.
 */
export const adjustTap = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 'unknown' end
local nl = string.find(cur, '\\n', 1, true)
local e = cjson.decode(nl and string.sub(cur, 1, nl - 1) or cur)
if type(e[16]) == 'table' and e[16][ARGV[1]] then return 'duplicate' end
if e[1] ~= tonumber(ARGV[2]) then return 'conflict' end
local ttl = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[4]))
redis.call('SET', KEYS[1], ARGV[3] .. (nl and string.sub(cur, nl) or ''), 'PX', ttl)
return 'ok'
`;

/**
 * KEYS: index. ARGV: decision JSON. The first decision stays (a tap decided again after a crash keeps
 * what was published first). A SET of the joined value rather than APPEND: APPEND leaves the string
 * with twice its length allocated (sds growth), and the index keeps every tap for 400 days.
 */
export const recordDecision = `
local cur = redis.call('GET', KEYS[1])
if not cur or string.find(cur, '\\n', 1, true) then return 0 end
redis.call('SET', KEYS[1], cur .. '\\n' .. ARGV[1], 'KEEPTTL')
return 1
`;

const phoneEffect = `
local function effect(mo, h, kind, tap, amount, month, t, sign)
  if kind == 'REFUND' or kind == 'CHARGEBACK' then
    mo[month] = (mo[month] or 0) - sign * amount
  elseif kind == 'UNPAID' then
    local hold = h[tap] or { t, 0, 0 }
    if sign == 1 and t > hold[1] then hold[1] = t end
    hold[2] = hold[2] + sign * amount
    h[tap] = hold
  elseif kind == 'COLLECTED' then
    if h[tap] then h[tap][3] = h[tap][3] + sign * amount end
  end
end
`;

/**
 * KEYS: phone, month taps hash, month taps by time. ARGV: adjustment id, kind, tap_id, amount, month
 * key, event time, ttl. → 1 applied | 0
 */
export const adjustPhone = `${helpers}${phoneHelpers}${phoneEffect}
local raw = redis.call('GET', KEYS[1])
local f, ev = load(raw)
clearAux(f)
local m, c, mos, hs, ads = phoneHead(f)
local ad = decodeMap(ads)
if ad[ARGV[1]] then return 0 end
local t = tonumber(ARGV[6])
ad[ARGV[1]] = t
local mo, h = decodeMonths(mos), decodeMap(hs)
effect(mo, h, ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], t, 1)
local ttl = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[7]))
redis.call('SET', KEYS[1], phoneOut(m, c or (m - 1), encodeMonths(mo), encodeMap(h), encodeMap(ad), ev), 'PX', ttl)
renewAux(ttl)
return 1
`;

/** KEYS: phone, month taps hash, month taps by time. ARGV: adjustment id, kind, tap_id, amount, month key, event time. */
export const undoAdjustPhone = `${helpers}${phoneHelpers}${phoneEffect}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local f, ev = load(raw)
local m, c, mos, hs, ads = phoneHead(f)
local ad = decodeMap(ads)
if not ad[ARGV[1]] then return 0 end
ad[ARGV[1]] = nil
local mo, h = decodeMonths(mos), decodeMap(hs)
effect(mo, h, ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), -1)
redis.call('SET', KEYS[1], phoneOut(m, c, encodeMonths(mo), encodeMap(h), encodeMap(ad), ev), 'KEEPTTL')
return 1
`;
