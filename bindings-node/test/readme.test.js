// The README's TypeScript example, compiled with tsc (strict, against the checked-in
// index.d.ts and document types) and run as written.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const pkg = path.join(__dirname, '..')
const root = path.join(pkg, '..')

function readmeExample() {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Node'))
  const match = section.match(/```ts\n([\s\S]*?)```/)
  assert.ok(match, 'README has a ```ts block in its Node section')
  return match[1]
}

test('the README TypeScript example type-checks and prints 9.80', () => {
  // A scratch project that depends on the package the way `npm install ./bindings-node` does
  // (a link), so `import ... from 'partnerkit'` resolves to this package and its types.
  const dir = path.join(root, 'target', 'node-readme')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true })
  fs.symlinkSync(pkg, path.join(dir, 'node_modules', 'partnerkit'), 'dir')
  fs.writeFileSync(path.join(dir, 'example.ts'), readmeExample())
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
        types: [],
      },
      files: ['example.ts'],
    }),
  )
  const tsc = path.join(pkg, 'node_modules', 'typescript', 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '-p', dir], { stdio: 'inherit' })
  const out = execFileSync(process.execPath, [path.join(dir, 'example.js')]).toString()
  const [amount, json] = out.trim().split('\n')
  assert.equal(amount, '9.80')
  assert.ok(json.startsWith('{"schema":"partnerkit/report@1","plan":"affiliates"'), json)
})
