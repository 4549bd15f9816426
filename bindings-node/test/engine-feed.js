// Feeding a vector through the incremental Engine, as a webhook consumer would: the shared
// helper of the vector suite (not a test file itself: `node --test test/` runs *.test.js).
'use strict'

const assert = require('node:assert/strict')

const pk = require('..')

// SPEC §1: events are processed in the order (at, kind rank, id).
const KIND_RANK = { touch: 0, assign: 1, signup: 2, payment: 3, refund: 4, chargeback: 5, adjustment: 6 }

// An RFC 3339 instant as [milliseconds of its whole seconds since the epoch, nanoseconds]:
// Date.parse keeps milliseconds only, and instants may carry up to nine fraction digits.
function instantKey(text) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text)
  assert.ok(m, `an RFC 3339 instant: ${text}`)
  const ms = Date.parse(m[1] + m[3])
  assert.ok(Number.isFinite(ms), `an RFC 3339 instant: ${text}`)
  return [ms, Number((m[2] ?? '').padEnd(9, '0'))]
}

function compareInstants(a, b) {
  const [x, y] = [instantKey(a), instantKey(b)]
  return x[0] - y[0] || x[1] - y[1]
}

// The canonical order of the events up to `asOf`. Ids compare as the core compares them, by
// UTF-8 bytes (JS strings compare UTF-16 units, which differ above U+FFFF). The sort is
// stable, so a redelivered copy follows its first copy.
function canonicalOrder(events, asOf) {
  const key = (e) => [e.at, KIND_RANK[e.kind], Buffer.from(e.id, 'utf8')]
  return events
    .filter((e) => compareInstants(e.at, asOf) <= 0)
    .sort((a, b) => {
      const [x, y] = [key(a), key(b)]
      return compareInstants(x[0], y[0]) || x[1] - y[1] || Buffer.compare(x[2], y[2])
    })
}

// The whole document at once: `new Engine(document)` applies its events up to `as_of`;
// a snapshot and restore, then the report as of `as_of`.
function feedWhole(text, asOf, limits) {
  const engine = pk.Engine.restore(new pk.Engine(text, limits).snapshot(), limits)
  return engine.report(asOf)
}

// The plan, partners and FX rates first, then the events one by one in canonical order: the
// first half as objects through `apply`, then a snapshot and restore, then the rest as JSON
// text through `applyJson`. The entries each call returns are checked against the report.
function feedOne(input, limits) {
  const { events = [], as_of: asOf, ...start } = input
  const order = canonicalOrder(events, asOf)
  const half = Math.floor(order.length / 2)
  let engine = pk.Engine.fromJson(start, limits)
  const written = []
  for (const e of order.slice(0, half)) written.push(...engine.apply(e))
  const bytes = engine.snapshot()
  assert.ok(Buffer.isBuffer(bytes))
  engine = pk.Engine.restore(bytes, limits)
  assert.deepEqual(engine.snapshot(), bytes, 'a restored engine snapshots to the same bytes')
  for (const e of order.slice(half)) written.push(...JSON.parse(engine.applyJson(JSON.stringify(e))))
  assert.equal(engine.eventsApplied, new Set(order.map((e) => e.id)).size)
  const report = engine.report(asOf)
  // Every entry of the report was returned by the call that applied its event, and once;
  // except entries of periods that only the report's `as_of` closed (earned after the last
  // event: period bonuses, tier true-ups), which no call wrote.
  const byId = (list) => list.map((e) => `${e.id} ${e.amount} ${e.currency}`).sort()
  const last = order.at(-1)?.at
  const byEvents = JSON.parse(report.toJson()).entries.filter(
    (e) => last !== undefined && compareInstants(e.earned_at, last) <= 0,
  )
  assert.deepEqual(byId(written), byId(byEvents))
  return report
}

module.exports = { canonicalOrder, feedOne, feedWhole }
