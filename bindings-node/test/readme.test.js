// The README's TypeScript examples (the Node section: `evaluate`, then the `Engine`), compiled
// with tsc (strict, against the checked-in index.d.ts and document types) and run as written.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const pkg = path.join(__dirname, '..')
const root = path.join(pkg, '..')

function readmeExamples() {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const from = readme.indexOf('\n## Node')
  const to = readme.indexOf('\n## ', from + 1)
  const blocks = [...readme.slice(from, to).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.equal(blocks.length, 2, 'the Node section has two ```ts examples')
  return blocks
}

test('the README TypeScript examples type-check and print what they say', () => {
  // A scratch project that depends on the package the way `npm install ./bindings-node` does
  // (a link), so `import ... from 'partnerkit'` resolves to this package and its types.
  const dir = path.join(root, 'target', 'node-readme')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true })
  fs.symlinkSync(pkg, path.join(dir, 'node_modules', 'partnerkit'), 'dir')
  const [evaluate, engine] = readmeExamples()
  fs.writeFileSync(path.join(dir, 'evaluate.ts'), evaluate)
  fs.writeFileSync(path.join(dir, 'engine.ts'), engine)
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'es2022',
        module: 'commonjs',
        moduleResolution: 'node10',
        noEmitOnError: true,
        skipLibCheck: false,
        // Node's own types (snapshots are Buffers), from the package's development tools.
        types: ['node'],
        typeRoots: [path.join(pkg, 'node_modules', '@types')],
      },
      files: ['evaluate.ts', 'engine.ts'],
    }),
  )
  const tsc = path.join(pkg, 'node_modules', 'typescript', 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '-p', dir], { stdio: 'inherit' })
  const run = (file) => execFileSync(process.execPath, [path.join(dir, file)]).toString().trim().split('\n')

  const [amount, json] = run('evaluate.js')
  assert.equal(amount, '9.80')
  assert.ok(json.startsWith('{"schema":"partnerkit/report@1","plan":"affiliates"'), json)
  assert.deepEqual(run('engine.js'), ['9.80 pending', '9.80'])
})
