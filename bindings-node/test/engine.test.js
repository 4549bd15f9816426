// The incremental Engine from JS (the vector suite also feeds every vector through it):
// entries per event, ordering and redeliveries, snapshots as Buffers, partners and FX rates
// between events, host limits, and coded errors for every misuse.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const pk = require('..')

const root = path.join(__dirname, '..', '..')

const plan = {
  schema: 'partnerkit/plan@1',
  id: 'affiliates',
  currency: 'USD',
  rules: [{ id: 'base', reward: { percent: '20' } }],
}
const start = { plan, partners: [{ id: 'ana' }] }
const touch = { id: 't1', kind: 'touch', at: '2026-01-10T09:00:00Z', partner: 'ana', customer: 'c1', channel: 'link' }
const payment = { id: 'p1', kind: 'payment', at: '2026-01-15T12:00:00Z', customer: 'c1', amount: '49.00', currency: 'USD' }
const refund = { id: 'r1', kind: 'refund', at: '2026-01-20T00:00:00Z', payment: 'p1', amount: '19.60' }

function coded(code, path, messagePart) {
  return (err) => {
    assert.ok(err instanceof Error, 'an Error')
    assert.equal(err.code, code, err.message)
    assert.equal(err.path, path, err.message)
    if (messagePart) assert.match(err.message, messagePart)
    return true
  }
}

function engineWithPayment() {
  const engine = new pk.Engine(start)
  engine.apply(touch)
  engine.apply(payment)
  return engine
}

test('apply returns the entries each event wrote, as of that event', () => {
  const engine = new pk.Engine(start)
  assert.deepEqual(engine.apply(touch), [])
  const [entry, ...rest] = engine.apply(payment)
  assert.deepEqual(rest, [])
  // 49.00 × 20% = 9.80, held 30 days from 15 Jan: pending as of the payment.
  assert.equal(entry.amount, '9.80')
  assert.equal(entry.status, 'pending')
  assert.equal(entry.available_at, '2026-02-14T12:00:00Z')
  assert.equal(entry.id, 'commission:p1:base:ana')
  // 19.60 of 49.00 refunded (40%): the reversal takes 40% of 9.80 = 3.92.
  const text = engine.applyJson(JSON.stringify(refund))
  const [reversal] = JSON.parse(text)
  assert.equal(reversal.amount, '-3.92')
  assert.ok(text.startsWith('[{"id":'), text)
  assert.equal(engine.eventsApplied, 3)
})

test('reports, balances and statements are those of evaluate on the same log', () => {
  const engine = engineWithPayment()
  for (const asOf of ['2026-01-12T00:00:00Z', '2026-01-20T00:00:00Z', '2026-03-01T00:00:00Z']) {
    const batch = pk.evaluate({ ...start, events: [payment, touch], as_of: asOf })
    const report = engine.report(asOf)
    assert.equal(report.toJson(), batch.toJson(), asOf)
    assert.equal(report.asOf, asOf)
    const statements = JSON.stringify(batch.toObject().statements)
    assert.equal(JSON.stringify(engine.statements('ana', asOf)), statements)
  }
  // Earned 15 Jan with the default 30-day hold: available 14 Feb, so a credit of February's
  // statement, which exists once February closes (1 Mar) and is due by then (its last day,
  // NET 0): paid as of 1 March.
  const balance = (asOf) => engine.balance('ana', asOf)
  const usd = (pending, available, paid) => [{ currency: 'USD', pending, available, paid }]
  assert.deepEqual(balance('2026-01-20T00:00:00Z'), usd('9.80', '0.00', '0.00'))
  assert.deepEqual(balance('2026-02-20T00:00:00Z'), usd('0.00', '9.80', '0.00'))
  assert.deepEqual(balance('2026-02-28T23:59:59Z'), usd('0.00', '9.80', '0.00'))
  assert.deepEqual(balance('2026-03-01T00:00:00Z'), usd('0.00', '0.00', '9.80'))
  const [february, ...none] = engine.statements('ana', '2026-03-01T00:00:00Z')
  assert.deepEqual(none, [])
  assert.equal(february.period, '2026-02')
  assert.equal(february.payout, '9.80')
  assert.equal(february.status, 'paid')
  assert.deepEqual(balance('2026-01-01T00:00:00Z'), [])
})

test('an earlier event is LateEvent, saying how to recover; the engine is unchanged', () => {
  const engine = engineWithPayment()
  const before = engine.snapshot()
  const early = { ...touch, id: 't0', at: '2026-01-11T00:00:00Z' }
  assert.throws(() => engine.apply(early), coded('LateEvent', 'events[0]', /re-evaluate from the event log/))
  assert.equal(engine.eventsApplied, 2)
  assert.deepEqual(engine.snapshot(), before)
})

test('a redelivered event is a no-op, counted; a changed one is ConflictingEvent', () => {
  const engine = engineWithPayment()
  assert.deepEqual(engine.apply(payment), [])
  assert.deepEqual(engine.apply(JSON.stringify(touch)), [])
  assert.equal(engine.eventsApplied, 2)
  assert.equal(engine.report('2026-03-01T00:00:00Z').duplicatesIgnored, 2)
  assert.throws(
    () => engine.apply({ ...payment, amount: '50.00' }),
    coded('ConflictingEvent', 'events[0]', /already applied.*new id/),
  )
  assert.equal(engine.report('2026-03-01T00:00:00Z').duplicatesIgnored, 2)
})

test('an array of events is applied all or nothing, in canonical order', () => {
  const engine = new pk.Engine(start)
  const bad = { ...refund, amount: '99.00' }
  assert.throws(() => engine.apply([payment, touch, bad]), coded('RefundExceedsPayment', 'events[2].amount'))
  assert.equal(engine.eventsApplied, 0)
  // Given out of order, a batch is sorted: the touch still attributes the payment.
  const entries = engine.apply([refund, payment, touch])
  assert.deepEqual(entries.map((e) => e.amount), ['9.80', '-3.92'])
  assert.equal(engine.eventsApplied, 3)
})

test('snapshots are Buffers that restore to the same engine', () => {
  const engine = engineWithPayment()
  const bytes = engine.snapshot()
  assert.ok(Buffer.isBuffer(bytes))
  assert.equal(bytes.subarray(0, 8).toString('latin1'), 'PKENGINE')
  const asOf = '2026-03-01T00:00:00Z'
  const want = engine.report(asOf).toJson()
  // Through a file, base64 text, and a plain Uint8Array copy.
  const file = path.join(root, 'target', 'node-engine-test.snapshot')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, bytes)
  for (const back of [
    fs.readFileSync(file),
    Buffer.from(bytes.toString('base64'), 'base64'),
    new Uint8Array(bytes),
    new Uint8Array(Buffer.concat([Buffer.alloc(3), bytes])).subarray(3),
  ]) {
    const restored = pk.Engine.restore(back)
    assert.equal(restored.report(asOf).toJson(), want)
    assert.deepEqual(restored.snapshot(), bytes)
    assert.equal(restored.eventsApplied, 2)
  }
  fs.rmSync(file)
  // A restored engine goes on where the first one was.
  const restored = pk.Engine.restore(bytes)
  assert.deepEqual(restored.apply(refund), engine.apply(refund))
  assert.deepEqual(restored.snapshot(), engine.snapshot())
})

test('the snapshot checked in by the first engine restores with its report', () => {
  const dir = path.join(root, 'tests', 'snapshots')
  const input = JSON.parse(fs.readFileSync(path.join(dir, 'engine-v1.input.json'), 'utf8'))
  const engine = pk.Engine.restore(fs.readFileSync(path.join(dir, 'engine-v1.snapshot')))
  const want = fs.readFileSync(path.join(dir, 'engine-v1.report.json'), 'utf8').trim()
  assert.equal(engine.report(input.as_of).toJson(), want)
})

test('anything but a snapshot is InvalidSnapshot; anything but bytes is InvalidValue', () => {
  const bytes = engineWithPayment().snapshot()
  const flipped = Buffer.from(bytes)
  flipped[bytes.length - 10] ^= 1
  const newer = Buffer.from(bytes)
  newer.writeUInt32LE(99, 8)
  for (const [bad, why] of [
    [Buffer.alloc(0), /empty/],
    [Buffer.from('not a snapshot at all, just some text'), /not a partnerkit engine snapshot/],
    [bytes.subarray(0, bytes.length - 1), /truncated/],
    [Buffer.concat([bytes, Buffer.from('x')]), /padded/],
    [flipped, /corrupt/],
    [newer, /newer/],
  ]) {
    assert.throws(() => pk.Engine.restore(bad), coded('InvalidSnapshot', 'snapshot', why))
  }
  for (const bad of ['PKENGINE', 42, null, undefined, {}, new Float64Array(4)]) {
    assert.throws(() => pk.Engine.restore(bad), coded('InvalidValue', 'snapshot', /Buffer or a Uint8Array/))
  }
})

test('partners and FX rates between events', () => {
  const engine = engineWithPayment()
  engine.upsertPartner({ id: 'bo' })
  engine.apply({ ...touch, id: 't2', at: '2026-01-16T00:00:00Z', partner: 'bo', customer: 'c2' })
  assert.equal(engine.eventsApplied, 3)
  // A change that would re-price applied events is refused, saying how to make it.
  assert.throws(
    () => engine.upsertPartner(JSON.stringify({ id: 'ana', segment: 'gold' })),
    coded('InvalidValue', 'partner.segment', /new engine from the event log/),
  )
  assert.throws(() => engine.upsertPartner({ id: 'cy', extra: 1 }), coded('UnknownField', 'partner.extra'))
  engine.addFx([{ date: '2026-01-17', from: 'EUR', to: 'USD', rate: '1.1' }])
  engine.addFx({ date: '2026-01-18', from: 'EUR', to: 'USD', rate: '1.2' })
  assert.throws(
    () => engine.addFx([{ date: '2026-01-19', from: 'EUR', to: 'USD', rate: '1.2' }, { date: '2026-01-16', from: 'EUR', to: 'USD', rate: '1.0' }]),
    coded('LateEvent', 'fx[1].date'),
  )
  // A EUR payment earns in EUR (20% of 100.00 = 20.00); the rates convert it on bo's
  // statement: available 18 Feb, so February's, converted at the latest rate on or before
  // its end (1.2 from 18 Jan): 20.00 × 1.2 = 24.00 USD.
  const [entry] = engine.apply({ id: 'p2', kind: 'payment', at: '2026-01-19T00:00:00Z', customer: 'c2', amount: '100.00', currency: 'EUR' })
  assert.equal(entry.partner, 'bo')
  assert.deepEqual([entry.amount, entry.currency], ['20.00', 'EUR'])
  const [statement] = engine.statements('bo', '2026-03-01T00:00:00Z')
  assert.deepEqual([statement.currency, statement.payout], ['USD', '24.00'])
})

test('arguments are checked with coded errors', () => {
  const engine = engineWithPayment()
  assert.throws(() => engine.apply(42), coded('InvalidValue', 'events', /JSON string or a plain object/))
  assert.throws(() => engine.apply('{'), coded('InvalidJson', 'events[0]'))
  assert.throws(() => engine.apply({ ...touch, id: 't9', at: '2026-02-01T00:00:00Z', coupon: 'x' }), coded('UnknownField', 'events[0].coupon'))
  assert.throws(() => engine.apply({ ...payment, id: 'p9', at: '2026-02-01T00:00:00Z', amount: 5 }), coded('InvalidValue', 'events[0].amount', /strings/))
  assert.throws(() => engine.report('yesterday'), coded('InvalidValue', 'as_of'))
  assert.throws(() => engine.balance('nobody', '2026-03-01T00:00:00Z'), coded('UnknownPartner', 'partner'))
  assert.throws(() => engine.statements('ana', '2026-03-01'), coded('InvalidValue', 'as_of'))
  assert.throws(() => new pk.Engine(null), coded('InvalidValue', '', /JSON string or a plain object/))
  assert.throws(() => new pk.Engine({ ...start, plan: { ...plan, currency: 'XYZ' } }), coded('UnknownCurrency', 'plan.currency'))
})

test('a document with events and as_of starts an engine where evaluate ends', () => {
  const doc = { ...start, events: [refund, payment, touch], as_of: '2026-01-16T00:00:00Z' }
  const engine = pk.Engine.fromJson(JSON.stringify(doc))
  // The refund is after as_of: left out, as evaluate leaves it out; apply it when it happens.
  assert.equal(engine.eventsApplied, 2)
  assert.equal(engine.report(doc.as_of).toJson(), pk.evaluate(doc).toJson())
  assert.equal(engine.apply(refund)[0].amount, '-3.92')
})

test('host limits: evaluate, evaluateAsync and the Engine pass them to the core', async () => {
  const doc = { ...start, events: [touch, payment], as_of: '2026-03-01T00:00:00Z' }
  for (const limits of [{ max_events: 1 }, '{"max_events": 1}']) {
    assert.throws(() => pk.evaluate(doc, limits), coded('LimitExceeded', 'events', /max_events is 1, and this has 2/))
    await assert.rejects(pk.evaluateAsync(doc, limits), coded('LimitExceeded', 'events'))
    assert.throws(() => new pk.Engine(doc, limits), coded('LimitExceeded', 'events'))
  }
  // Absent, undefined or null: the defaults.
  const want = pk.evaluate(doc).toJson()
  assert.equal(pk.evaluate(doc, undefined).toJson(), want)
  assert.equal(pk.evaluate(doc, null).toJson(), want)
  assert.equal((await pk.evaluateAsync(doc, { max_events: 2 })).toJson(), want)
  assert.equal(new pk.Engine(doc, {}).report(doc.as_of).toJson(), want)
  // Bad limits are errors at `limits`, never silently the defaults.
  assert.throws(() => pk.evaluate(doc, { max_evnts: 1 }), coded('UnknownField', 'limits.max_evnts'))
  assert.throws(() => pk.evaluate(doc, { max_events: -1 }), coded('InvalidValue', 'limits.max_events'))
  assert.throws(() => pk.evaluate(doc, 5), coded('InvalidValue', 'limits', /JSON string or a plain object/))
  await assert.rejects(pk.evaluateAsync(doc, { max_evnts: 1 }), coded('UnknownField', 'limits.max_evnts'))
})

test('HostLimits in index.d.ts names exactly the fields of the core Limits', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const block = dts.slice(dts.indexOf('export interface HostLimits {'))
  const declared = [...block.slice(0, block.indexOf('\n}')).matchAll(/^ {2}(\w+)\?: number$/gm)].map((m) => m[1])
  const core = fs.readFileSync(path.join(root, 'core', 'src', 'limits.rs'), 'utf8')
  const fields = [...core.matchAll(/^ {4}pub (max_\w+): usize,$/gm)].map((m) => m[1])
  assert.deepEqual(declared, fields)
  // Each is a limit the core enforces: at 0, a one-of-everything document exceeds it (a
  // band, a tier level, an override, a bonus, a touch, a closed statement).
  const bands = [{ from: '0', percent: '10' }]
  const doc = {
    plan: {
      ...plan,
      rules: [{ id: 'vol', reward: { tiered: { metric: 'revenue', period: 'month', mode: 'graduated', bands } } }],
      tiers: { levels: [{ id: 'base' }] },
      overrides: [{ level: 1, percent: '5' }],
      bonuses: [{ id: 'first', kind: 'milestone', metric: 'referrals', at_least: '1', amount: '5.00' }],
    },
    partners: [{ id: 'ana' }],
    events: [touch, payment],
    fx: [{ date: '2026-01-01', from: 'EUR', to: 'USD', rate: '1.1' }],
    as_of: '2026-03-01T00:00:00Z',
  }
  for (const name of declared) {
    assert.throws(() => pk.evaluate(doc, { [name]: 0 }), (err) => {
      assert.equal(err.code, 'LimitExceeded', err.message)
      assert.match(err.message, new RegExp(`^${name} is 0,`))
      return true
    })
  }
})

test('a panic while an engine is locked throws Internal; the engine then refuses every call', () => {
  const engine = engineWithPayment()
  const bytes = engine.snapshot()
  assert.throws(() => engine._debugPanic('boom'), coded('Internal', '', /panicked.*boom/))
  for (const call of [
    () => engine.apply(refund),
    () => engine.report('2026-03-01T00:00:00Z'),
    () => engine.snapshot(),
    () => engine.eventsApplied,
  ]) {
    assert.throws(call, coded('Internal', '', /cannot be trusted: restore it from a snapshot/))
  }
  // The snapshot taken before still restores; other engines were never affected.
  assert.equal(pk.Engine.restore(bytes).apply(refund)[0].amount, '-3.92')
})

test('progress is the report item for the partner, null without tiers', () => {
  const v = JSON.parse(fs.readFileSync(path.join(root, 'tests/vectors/tiers/bronze_silver_gold.json'), 'utf8'))
  const engine = pk.Engine.fromJson(v.input)
  const want = pk.evaluate(v.input).toObject().progress
  assert.deepEqual(want.map((p) => engine.progress(p.partner, v.input.as_of)), want)
  // cy is bronze; silver needs 10 referrals or 5,000.00 of revenue this period, and cy has
  // 200.00 of April revenue: 4,800.00 to go.
  const cy = engine.progress('cy', v.input.as_of)
  assert.deepEqual([cy.tier, cy.next_tier, cy.requires], ['bronze', 'silver', 'any'])
  assert.deepEqual(cy.requirements[1], {
    metric: 'revenue',
    window: 'period',
    current: '200.00',
    target: '5000.00',
    remaining: '4800.00',
  })
  const plain = pk.Engine.fromJson(start)
  assert.equal(plain.progress('ana', '2026-03-01T00:00:00Z'), null)
  assert.throws(() => engine.progress('zed', v.input.as_of), coded('UnknownPartner', 'partner'))
})
