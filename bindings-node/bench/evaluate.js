// `evaluate` from JS objects over the program of core/benches/evaluate.rs: 1,000,000
// payments (1.1 million events: 50,000 touches, 50,000 half refunds), 10,000 partners,
// one 20% rule, monthly statements. Prints figures; asserts nothing about time.
//
//   npm run build            # a release build: debug figures mean nothing
//   node --expose-gc bench/evaluate.js [payments]    # default 1000000; 100000 for a quick look
'use strict'

const { performance } = require('node:perf_hooks')
const pk = require('..')

const payments = Number(process.argv[2] ?? 1_000_000)
const partners = payments / 100
const customers = payments / 20
const runs = 3

function program() {
  const start = Date.parse('2026-01-01T00:00:00Z')
  const step = (Date.parse('2027-01-01T00:00:00Z') - start) / payments
  const day = 86_400_000
  const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  const pad = (n, w) => String(n).padStart(w, '0')
  const cust = (c) => `cust${pad(c, 6)}`
  const events = []
  for (let i = 0; i < payments; i++) {
    const at = start + Math.floor(step * i)
    const c = i % customers
    if (i < customers) {
      events.push({ id: `t${pad(c, 6)}`, kind: 'touch', at: iso(at - day), partner: `partner${pad(c % partners, 5)}`, customer: cust(c), channel: 'link' })
    }
    // $9.00 to $208.99, odd cents included, so that 20% often needs rounding.
    const cents = 900 + ((i * 7919) % 20000)
    const amount = (cents / 100).toFixed(2)
    events.push({ id: `p${pad(i, 7)}`, kind: 'payment', at: iso(at), customer: cust(c), amount, currency: 'USD' })
    if (i % 20 === 7) {
      const after = Math.floor(i / 20) % 2 === 0 ? 10 : 31
      const half = (Math.floor(cents / 2) / 100).toFixed(2)
      events.push({ id: `r${pad(i, 7)}`, kind: 'refund', at: iso(at + after * day), payment: `p${pad(i, 7)}`, amount: half })
    }
  }
  return {
    plan: {
      schema: 'partnerkit/plan@1', id: 'bench', currency: 'USD',
      rules: [{ id: 'base', reward: { percent: '20' } }],
      lifecycle: { hold_days: 30 }, payouts: { period: 'month' },
    },
    partners: Array.from({ length: partners }, (_, p) => ({ id: `partner${pad(p, 5)}` })),
    events,
    as_of: '2027-02-01T00:00:00Z',
  }
}

function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
}

async function main() {
  const input = program()
  const n = input.events.length
  console.log(`${n.toLocaleString('en')} events, ${partners} partners, ${customers} customers; median of ${runs} runs`)

  // Wall time, and the process's CPU time (all threads: evaluateAsync's worker included),
  // which a busy machine does not inflate.
  const times = { stringify: [], evaluateObject: [], evaluateString: [], evaluateAsync: [] }
  async function timed(key, f) {
    // Reports of earlier runs are freed (their Rust values dropped) here, not inside a timing.
    global.gc()
    const cpu = process.cpuUsage()
    const t = performance.now()
    const out = await f()
    const used = process.cpuUsage(cpu)
    times[key].push([performance.now() - t, (used.user + used.system) / 1000])
    return out
  }
  let text = ''
  let entries = 0
  for (let r = 0; r < runs; r++) {
    text = await timed('stringify', () => JSON.stringify(input))
    entries = await timed('evaluateObject', () => pk.evaluate(input).entryCount)
    await timed('evaluateString', () => pk.evaluate(text).entryCount)
    await timed('evaluateAsync', async () => (await pk.evaluateAsync(input)).entryCount)
  }
  console.log(`input JSON ${(text.length / 1e6).toFixed(0)} MB, ${entries.toLocaleString('en')} ledger entries`)
  console.log(`${''.padEnd(44)} ${'wall'.padStart(8)} ${'cpu'.padStart(8)}  events per cpu second`)
  const row = (label, key) => {
    const wall = median(times[key].map((x) => x[0]))
    const cpu = median(times[key].map((x) => x[1]))
    const s = (ms) => `${(ms / 1000).toFixed(2)} s`.padStart(8)
    console.log(`${label.padEnd(44)} ${s(wall)} ${s(cpu)}  ${((n / cpu) * 1000 / 1e6).toFixed(2)} M`)
  }
  row('JSON.stringify(input) alone', 'stringify')
  row('evaluate(object)  (stringify + parse + eval)', 'evaluateObject')
  row('evaluate(string)  (parse + eval)', 'evaluateString')
  row('await evaluateAsync(object)', 'evaluateAsync')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
