// Runs Material for MkDocs' own search worker (the minified file the site ships) under Node,
// so tests query a built search index exactly as a reader's browser would.
//
// Usage: node search_worker_harness.js WORKER_JS SEARCH_INDEX_JSON < queries.json
// stdin: a JSON array of query strings. stdout: a JSON object mapping each query to the list of
// result groups, each group the locations of its items (article first, as the worker returns).
"use strict"

const fs = require("fs")
const path = require("path")
const vm = require("vm")

const [workerPath, indexPath] = process.argv.slice(2)
const workerDir = path.dirname(workerPath)

// The worker is written for a WebWorker global scope: give it the four names it uses.
let onMessage = null
let lastReply = null
// The worker swallows query errors (it warns and returns no hits): count warnings as failures,
// or a broken setup would look like "no results".
const warnings = []
const scope = {
  console: { ...console, warn: (...args) => warnings.push(args.map(String).join(" ")) },
  URL,
  TextDecoder,
  addEventListener: (type, fn) => { if (type === "message") onMessage = fn },
  postMessage: msg => { lastReply = msg },
  // Stemmers for non-English languages are loaded with importScripts relative to the worker.
  importScripts: (...urls) => {
    for (const url of urls)
      vm.runInContext(fs.readFileSync(path.resolve(workerDir, url), "utf8"), scope)
  },
}
scope.self = scope
vm.createContext(scope)
vm.runInContext(fs.readFileSync(workerPath, "utf8"), scope)

async function send(message) {
  lastReply = null
  await onMessage({ data: message })
  return lastReply
}

async function main() {
  const index = JSON.parse(fs.readFileSync(indexPath, "utf8"))
  const queries = JSON.parse(fs.readFileSync(0, "utf8"))
  const SETUP = 0, READY = 1, QUERY = 2, RESULT = 3
  // The page adds the reader's options before handing the index to the worker.
  const ready = await send({ type: SETUP, data: { ...index, options: { suggest: false } } })
  if (!ready || ready.type !== READY) throw new Error("search worker did not become ready")
  const out = {}
  for (const query of queries) {
    const reply = await send({ type: QUERY, data: query })
    if (!reply || reply.type !== RESULT) throw new Error(`no result for ${query}`)
    out[query] = reply.data.items.map(group => group.map(item => item.location))
  }
  if (warnings.length) throw new Error(`search worker warned: ${warnings.join("; ")}`)
  process.stdout.write(JSON.stringify(out))
}

main().catch(err => { console.error(err.stack || String(err)); process.exit(2) })
