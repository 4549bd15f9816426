// The cost of one `Engine.apply` call from JS, one event per call, as a webhook consumer
// makes it. The program is a smaller one than core/benches/engine.rs's (no refunds, no
// history before the timing): a 20% rule, a 30-day hold, monthly statements, 1,000 partners
// and 5,000 customers (each touched by a link the day before its first payment), then
// 100,000 payments spread over 2026 in time order, every one applied into the growing engine. Each way of calling
// runs once on a fresh engine (one run: the machine is shared, so wall and CPU time are both
// printed); the reports of both engines must be the batch report of the same log.
//
//   npm run build            # a release build: debug figures mean nothing
//   node --expose-gc bench/engine.js [payments]    # default 100000
'use strict'

const { performance } = require('node:perf_hooks')
const pk = require('..')

const payments = Number(process.argv[2] ?? 100_000)
const customers = Math.max(1, payments / 20)
const partners = Math.max(1, customers / 5)

function program() {
  const start = Date.parse('2026-01-01T00:00:00Z')
  const step = (Date.parse('2027-01-01T00:00:00Z') - start) / payments
  const day = 86_400_000
  const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  const pad = (n, w) => String(n).padStart(w, '0')
  const events = []
  for (let i = 0; i < payments; i++) {
    const at = start + Math.floor(step * i)
    const c = i % customers
    if (i < customers) {
      events.push({ id: `t${pad(c, 6)}`, kind: 'touch', at: iso(at - day), partner: `a${pad(c % partners, 5)}`, customer: `c${pad(c, 6)}`, channel: 'link' })
    }
    const cents = 900 + ((i * 7919) % 20000)
    events.push({ id: `p${pad(i, 7)}`, kind: 'payment', at: iso(at), customer: `c${pad(c, 6)}`, amount: (cents / 100).toFixed(2), currency: 'USD' })
  }
  // The canonical order (at, kind rank, id): a touch a day before its payment can come
  // after earlier payments.
  const rank = { touch: 0, payment: 3 }
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : rank[a.kind] - rank[b.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
  return {
    start: {
      plan: {
        schema: 'partnerkit/plan@1', id: 'bench', currency: 'USD',
        rules: [{ id: 'base', reward: { percent: '20' } }],
        lifecycle: { hold_days: 30 }, payouts: { period: 'month' },
      },
      partners: Array.from({ length: partners }, (_, p) => ({ id: `a${pad(p, 5)}` })),
    },
    events,
  }
}

function timed(label, n, f) {
  global.gc()
  const cpu = process.cpuUsage()
  const t = performance.now()
  const out = f()
  const used = process.cpuUsage(cpu)
  const wall = performance.now() - t
  const cpuMs = (used.user + used.system) / 1000
  const per = (ms) => `${((ms * 1000) / n).toFixed(2)} µs`.padStart(10)
  const each = n > 1 ? `  per call: ${per(wall)} wall ${per(cpuMs)} CPU` : ''
  console.log(`${label.padEnd(46)} ${(wall / 1000).toFixed(2).padStart(6)} s wall ${(cpuMs / 1000).toFixed(2).padStart(6)} s CPU${each}`)
  return out
}

function main() {
  const { start, events } = program()
  const texts = events.map((e) => JSON.stringify(e))
  const n = events.length
  console.log(`${n.toLocaleString('en')} events (${payments.toLocaleString('en')} payments), ${partners} partners, ${customers} customers; one event per call, one run`)
  const asOf = '2027-02-01T00:00:00Z'

  const objects = new pk.Engine(start)
  let entries = 0
  timed('engine.apply(object)  -> Entry[]', n, () => {
    for (const e of events) entries += objects.apply(e).length
  })
  const strings = new pk.Engine(start)
  timed('engine.applyJson(string)  -> string', n, () => {
    for (const t of texts) strings.applyJson(t)
  })
  const bytes = timed('engine.snapshot()', 1, () => objects.snapshot())
  const restored = timed('Engine.restore(bytes)  (a replay of the log)', 1, () => pk.Engine.restore(bytes))
  const report = timed('engine.report(asOf).toJson()', 1, () => objects.report(asOf).toJson())
  const batch = timed('evaluate(whole log)  (for comparison)', 1, () => pk.evaluate({ ...start, events, as_of: asOf }).toJson())
  const same = [strings.report(asOf).toJson(), restored.report(asOf).toJson()].every((r) => r === batch) && report === batch
  console.log(`${entries.toLocaleString('en')} entries; snapshot ${(bytes.length / 1e6).toFixed(1)} MB; ${same ? 'every report equals the batch report' : 'REPORTS DIFFER'}`)
  if (!same) process.exit(1)
}

main()
