// The conformance suite through the Node API: every vector under tests/vectors/, read at test
// time. A report must be byte for byte the vector's `expect_report` re-serialized compactly
// (tests/vectors/README.md); an error must carry the vector's code and path. Each vector runs
// under its host `limits` (if any) with its input as an object, as a JSON string, through
// evaluateAsync, and through the incremental Engine (test/engine-feed.js): whole, and event by
// event with a snapshot and restore half-way. Its report object is checked against
// docs/report.schema.json.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const Ajv2020 = require('ajv/dist/2020')

const pk = require('..')
const { feedOne, feedWhole } = require('./engine-feed.js')

const root = path.join(__dirname, '..', '..')
const vectorsDir = path.join(root, 'tests', 'vectors')

function vectorFiles(dir) {
  const out = []
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name)
    if (fs.statSync(p).isDirectory()) out.push(...vectorFiles(p))
    else if (name.endsWith('.json')) out.push(p)
  }
  return out
}

const ajv = new Ajv2020({ allErrors: true, validateFormats: false })
const schema = (name) => JSON.parse(fs.readFileSync(path.join(root, 'docs', name), 'utf8'))
const validReport = ajv.compile(schema('report.schema.json'))
const validInput = ajv.compile(schema('input.schema.json'))

function check(v, run) {
  if (v.expect_error) {
    assert.throws(run, (err) => {
      assert.ok(err instanceof Error, 'an Error')
      for (const [k, want] of Object.entries(v.expect_error)) assert.equal(err[k], want, k)
      assert.equal(typeof err.message, 'string')
      return true
    })
    return
  }
  const report = run()
  assert.equal(report.toJson(), JSON.stringify(v.expect_report))
}

const files = vectorFiles(vectorsDir)

test('there are vectors to run', () => {
  assert.ok(files.length >= 40, `found ${files.length}`)
})

for (const file of files) {
  const name = path.relative(vectorsDir, file)
  const v = JSON.parse(fs.readFileSync(file, 'utf8'))
  const text = typeof v.input_text === 'string' ? v.input_text : JSON.stringify(v.input)

  test(`vector ${name}`, async () => {
    check(v, () => pk.evaluate(text, v.limits))
    if (v.input !== undefined) check(v, () => pk.evaluate(v.input, v.limits))
    check(v, () => feedWhole(text, v.input?.as_of, v.limits))
    if (v.expect_error) {
      await assert.rejects(pk.evaluateAsync(text, v.limits), (err) => {
        for (const [k, want] of Object.entries(v.expect_error)) assert.equal(err[k], want, k)
        return true
      })
      return
    }
    check(v, () => feedOne(v.input, v.limits))
    const report = await pk.evaluateAsync(text, v.limits)
    assert.equal(report.toJson(), JSON.stringify(v.expect_report))
    const obj = report.toObject()
    assert.deepEqual(obj, v.expect_report)
    assert.ok(validReport(obj), `report.schema.json: ${ajv.errorsText(validReport.errors)}`)
    assert.ok(validInput(v.input), `input.schema.json: ${ajv.errorsText(validInput.errors)}`)
  })
}
