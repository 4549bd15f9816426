// The Node API beyond the vectors: errors, money as strings only, plans, async evaluation,
// report accessors, and a panic in the core that throws instead of aborting the process.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')

const pk = require('..')

const plan = {
  schema: 'partnerkit/plan@1',
  id: 'affiliates',
  currency: 'USD',
  rules: [{ id: 'base', reward: { percent: '20' } }],
}

function input(amount = '49.00', asOf = '2026-03-01T00:00:00Z') {
  return {
    plan,
    partners: [{ id: 'ana' }],
    events: [
      { id: 't1', kind: 'touch', at: '2026-01-10T09:00:00Z', partner: 'ana', customer: 'c1', channel: 'link' },
      { id: 'p1', kind: 'payment', at: '2026-01-15T12:00:00Z', customer: 'c1', amount, currency: 'USD' },
    ],
    as_of: asOf,
  }
}

// Asserts that `f` throws (or that the promise rejects with) a coded partnerkit error.
function coded(code, path, messagePart) {
  return (err) => {
    assert.ok(err instanceof Error, 'an Error')
    assert.equal(err.code, code)
    assert.equal(err.path, path)
    if (messagePart) assert.match(err.message, messagePart)
    return true
  }
}

test('evaluate: 49.00 at 20% earns 9.80, as a decimal string', () => {
  const report = pk.evaluate(input())
  const obj = report.toObject()
  assert.equal(obj.entries.length, 1)
  assert.equal(obj.entries[0].amount, '9.80')
  assert.equal(report.plan, 'affiliates')
  assert.equal(report.asOf, '2026-03-01T00:00:00Z')
  assert.equal(report.entryCount, 1)
  assert.equal(report.duplicatesIgnored, 0)
  // By 1 March the January statement has paid the entry: nothing is left to hold.
  assert.equal(obj.entries[0].status, 'paid')
  assert.deepEqual(report.balances('ana'), [])
  // Earned 15 Jan with the default 30-day hold (available 14 Feb): pending on 20 Jan.
  const early = pk.evaluate(input('49.00', '2026-01-20T00:00:00Z'))
  assert.deepEqual(early.balances('ana'), [{ currency: 'USD', pending: '9.80', available: '0.00' }])
  assert.deepEqual(early.balances('nobody'), [])
})

test('a string input and an object input give the same bytes', () => {
  const a = pk.evaluate(input()).toJson()
  const b = pk.evaluate(JSON.stringify(input())).toJson()
  assert.equal(a, b)
  assert.ok(a.startsWith('{"schema":"partnerkit/report@1"'))
  assert.deepEqual(pk.evaluate(input()).toObject(), JSON.parse(a))
})

test('a JS number where money belongs is rejected, saying why', () => {
  assert.throws(
    () => pk.evaluate(input(49.9)),
    coded('InvalidValue', 'events[1].amount', /decimals must be written as strings.*binary floats/),
  )
  // The classic float artefact is named in the message, so the cause is plain to see.
  assert.throws(() => pk.evaluate(input(0.1 + 0.2)), coded('InvalidValue', 'events[1].amount', /0\.30000000000000004/))
  const percent = { ...plan, rules: [{ id: 'base', reward: { percent: 20 } }] }
  assert.throws(() => pk.evaluate({ ...input(), plan: percent }), coded('InvalidValue', 'plan.rules[0].reward.percent', /strings/))
})

test('a BigInt amount is rejected with a clear error', () => {
  assert.throws(() => pk.evaluate(input(49n)), coded('InvalidJson', '', /BigInt.*decimal strings/))
})

test('arguments that are not documents are rejected with a coded error', () => {
  for (const bad of [undefined, null, 42, true]) {
    assert.throws(() => pk.evaluate(bad), coded('InvalidValue', '', /JSON string or a plain object/))
  }
  assert.throws(() => pk.evaluate('{not json'), coded('InvalidJson', ''))
})

test('errors carry code, path and message', () => {
  const bad = { ...plan, rules: [{ id: 'base', reward: { percent: '150' } }] }
  assert.throws(() => pk.evaluate({ ...input(), plan: bad }), (err) => {
    coded('InvalidValue', 'plan.rules[0].reward.percent', /150/)(err)
    assert.deepEqual(Object.keys(err).sort(), ['code', 'path'])
    return true
  })
  assert.throws(
    () => pk.evaluate({ ...input(), events: [{ id: 'r1', kind: 'refund', at: '2026-01-16T00:00:00Z', payment: 'p9', amount: '1.00' }] }),
    coded('UnknownPayment', 'events[0].payment'),
  )
})

test('Plan.fromJson parses; Plan.validate lists every problem', () => {
  const p = pk.Plan.fromJson(plan)
  assert.equal(p.id, 'affiliates')
  assert.equal(p.currency, 'USD')
  assert.equal(p.timezone, 'UTC')
  assert.equal(pk.Plan.fromJson(JSON.stringify(plan)).id, 'affiliates')
  assert.deepEqual(pk.Plan.validate(plan), [])

  const bad = { schema: 'partnerkit/plan@1', id: 'x', currency: 'XYZ', typo: 1 }
  const problems = pk.Plan.validate(bad)
  assert.equal(problems.length, 2, JSON.stringify(problems))
  const codes = problems.map((p) => `${p.code} ${p.path}`)
  assert.ok(codes.includes('UnknownField plan.typo'), codes.join('\n'))
  assert.ok(codes.includes('UnknownCurrency plan.currency'), codes.join('\n'))
  // Semantic problems are listed together too.
  const rules = [
    { id: 'r', reward: { percent: '150' } },
    { id: 'r', reward: { percent: '-1' } },
  ]
  assert.deepEqual(
    pk.Plan.validate({ ...plan, rules }).map((p) => p.path),
    ['plan.rules[0].reward.percent', 'plan.rules[1].id', 'plan.rules[1].reward.percent'],
  )
  for (const p of problems) assert.equal(typeof p.message, 'string')
  // fromJson throws the first problem and counts the others in its message.
  assert.throws(() => pk.Plan.fromJson(bad), coded(problems[0].code, problems[0].path, /more problem/))
})

test('evaluateAsync resolves to the same report, off the main thread', async () => {
  const promise = pk.evaluateAsync(input())
  assert.ok(promise instanceof Promise)
  const report = await promise
  assert.equal(report.toJson(), pk.evaluate(input()).toJson())
  await assert.rejects(pk.evaluateAsync(input(49.9)), coded('InvalidValue', 'events[1].amount', /strings/))
  // Many at once: each resolves to its own report.
  const reports = await Promise.all(['10.00', '20.00', '30.00'].map((a) => pk.evaluateAsync(input(a))))
  assert.deepEqual(reports.map((r) => r.toObject().entries[0].amount), ['2.00', '4.00', '6.00'])
})

test('evaluateAsync leaves the event loop free while it evaluates', async () => {
  // 20,000 payments take a worker well over the time the main thread needs to run a
  // setImmediate callback; a synchronous evaluation would allow none before it settles.
  const events = []
  for (let i = 0; i < 20000; i++) {
    const c = `c${i % 1000}`
    if (i < 1000) events.push({ id: `t${i}`, kind: 'touch', at: '2026-01-01T00:00:00Z', partner: 'ana', customer: c, channel: 'link' })
    events.push({ id: `p${i}`, kind: 'payment', at: '2026-01-02T00:00:00Z', customer: c, amount: '10.00', currency: 'USD' })
  }
  let ticks = 0
  let done = false
  const spin = () => {
    if (done) return
    ticks++
    setImmediate(spin)
  }
  setImmediate(spin)
  const report = await pk.evaluateAsync({ ...input(), events })
  done = true
  assert.equal(report.entryCount, 20000)
  assert.ok(ticks > 0, 'the event loop ran while evaluating')
})

test('evaluateAsync rejects bad arguments synchronously-coded, not with a crash', () => {
  assert.throws(() => pk.evaluateAsync(null), coded('InvalidValue', '', /JSON string or a plain object/))
})

test('a panic in the core throws an Internal error and the process lives on', async () => {
  assert.throws(() => pk._debugPanic('boom'), coded('Internal', '', /panicked.*boom/))
  await assert.rejects(pk._debugPanicAsync('boom off-thread'), coded('Internal', '', /panicked.*boom off-thread/))
  // Still alive and still correct.
  assert.equal(pk.evaluate(input()).toObject().entries[0].amount, '9.80')
})
