/* snippet-runner korean-search: compound words split in the query (prepended to Material's
   search worker at build time; see snippet_runner/site/search_ko_query.py).

   A reader who types 웹서버 on a page that writes 웹 서버 finds nothing with prefix matching
   alone. Here each Hangul word of three or more syllables that can be cut into words of the
   index (the one this worker was just given, nothing else is loaded) is also looked up as those
   parts, every one of them required: 웹서버 → +웹 +서버*. The reader gets the hits of the query
   as typed, then those of the split query that were not among them, so splitting only adds
   hits that hold all the parts (도커엔진 does not bring every page that says 도커). */
;(() => {
  "use strict"

  const SETUP = 0, QUERY = 2, RESULT = 3     /* Material's worker message types */
  const HANGUL_WORD = /^[\uac00-\ud7a3]{3,}$/
  const MODIFIERS = /["+\-~^:*]/             /* a query with syntax is left as written */

  /* Material's worker, loaded after this, registers its message listener and answers with
     postMessage: keep the listener, and catch the answers while asking twice. */
  const listeners = []
  const addEventListener = self.addEventListener.bind(self)
  const postMessage = self.postMessage.bind(self)
  let capture = null
  self.addEventListener = (type, listener, options) => type === "message"
    ? void listeners.push(listener)
    : addEventListener(type, listener, options)
  self.postMessage = (message, ...rest) => capture
    ? capture(message)
    : postMessage(message, ...rest)

  let separator = /[\s\-]+/g
  const words = new Set()

  /* Material's own split: every non-empty range between matches of the separator, where the
     separator may match the empty string (the particle cuts are lookarounds). */
  function split(text) {
    const out = []
    separator.lastIndex = 0
    let index = 0
    for (;;) {
      const match = separator.exec(text)
      const until = match ? match.index : text.length
      if (index < until)
        out.push(text.slice(index, until).toLowerCase())
      if (!match)
        return out
      index = match.index + match[0].length
      if (!match[0].length)
        separator.lastIndex = match.index + 1
    }
  }

  /* The words of every indexed field, as the index holds them (markup dropped). */
  function learn(index) {
    separator = new RegExp(index.config.separator, "g")
    const fields = Object.keys(index.config.fields || { title: 1, text: 1 })
    for (const doc of index.docs)
      for (const field of fields)
        for (const value of [].concat(doc[field] || []))
          for (const word of split(String(value).replace(/<[^>]*>/g, " ")))
            words.add(word)
  }

  /* The fewest words of the index that make up `word` (the longest first among equals), or
     null; the word itself does not count as a part. */
  function parts(word) {
    const best = new Array(word.length + 1).fill(null)
    best[word.length] = []
    for (let start = word.length - 1; start >= 0; start--)
      for (let end = word.length; end > start; end--) {
        const part = word.slice(start, end)
        const rest = best[end]
        if (end - start < word.length && rest && words.has(part)
            && (!best[start] || rest.length + 1 < best[start].length))
          best[start] = [part, ...rest]
      }
    return best[0] && best[0].length > 1 ? best[0] : null
  }

  /* The query with its compounds split, every part required (one syllable exactly, longer ones
     as a prefix, like Material's own terms), or null when no word splits. */
  function splitQuery(query) {
    if (MODIFIERS.test(query))
      return null
    let changed = false
    const terms = split(query).map(term => {
      const found = HANGUL_WORD.test(term) ? parts(term) : null
      if (!found)
        return term
      changed = true
      return found.map(part => part.length > 1 ? `+${part}*` : `+${part}`).join(" ")
    })
    return changed ? terms.join(" ") : null
  }

  async function ask(message) {
    let reply = null
    capture = answer => { reply = answer }
    try {
      for (const listener of listeners)
        await listener({ data: message })
    } finally {
      capture = null
    }
    return reply
  }

  function article(group) {
    const item = group.find(entry => !entry.location.includes("#")) || group[0]
    return item.location.split("#")[0]
  }

  /* The groups of `first`, then what `second` adds: new sections into their article's group,
     new articles as groups of their own. */
  function merge(first, second) {
    const groups = new Map(first.items.map(group => [article(group), [...group]]))
    for (const group of second.items) {
      const key = article(group)
      const known = groups.get(key)
      if (!known) {
        groups.set(key, group)
        continue
      }
      const seen = new Set(known.map(item => item.location))
      known.push(...group.filter(item => !seen.has(item.location)))
    }
    return { ...first, items: [...groups.values()] }
  }

  addEventListener("message", async event => {
    const message = event.data
    if (message && message.type === SETUP)
      learn(message.data)
    const variant = message && message.type === QUERY ? splitQuery(message.data) : null
    if (variant === null) {
      for (const listener of listeners)
        await listener(event)
      return
    }
    const typed = await ask(message)
    const parted = await ask({ type: QUERY, data: variant })
    postMessage(typed && parted && typed.type === RESULT && parted.type === RESULT
      ? { type: RESULT, data: merge(typed.data, parted.data) }
      : typed)
  })
})();
