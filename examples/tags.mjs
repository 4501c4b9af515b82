// Tag invalidation: entries carry tags; deleteByTag removes them all, expireByTag turns them
// stale (grace may still serve them while the next getOrSet recomputes).
// Run: npm run example:tags
import assert from 'node:assert/strict'
import { BentoCache, bentostore } from 'rustocache'
import { memoryDriver } from 'rustocache/drivers/memory'

const bento = new BentoCache({
  default: 'cache',
  grace: '1h',
  stores: { cache: bentostore().useL1Layer(memoryDriver()) },
})

const posts = { 1: 'Hello', 2: 'Tags', 3: 'Grace' }
let renders = 0
const render = (id) => bento.getOrSet({
  key: `post:${id}`,
  tags: ['posts', `author:${id % 2}`],
  factory: () => (renders++, `<h1>${posts[id]}</h1>`),
})

for (const id of [1, 2, 3]) await render(id)
assert.equal(renders, 3)

// An author's posts change: drop only theirs.
await bento.deleteByTag({ tags: ['author:1'] })
assert.equal(await bento.has({ key: 'post:1' }), false)
assert.equal(await bento.has({ key: 'post:3' }), false)
assert.equal(await bento.has({ key: 'post:2' }), true)
console.log('deleteByTag author:1 removed post:1 and post:3, kept post:2')

// A factory may tag what it computes.
await bento.getOrSet({ key: 'sidebar', factory: (ctx) => (ctx.setTags(['posts']), 'recent posts') })

// expireByTag: stale, not gone. With grace (and the default timeout 0, stale-while-
// revalidate) the next getOrSet answers at once with the stale value and recomputes it in
// the background; the calls after that get the new one.
await bento.expireByTag({ tags: ['posts'] })
posts[2] = 'Tags, edited'
assert.equal(await render(2), '<h1>Tags</h1>')
let fresh
for (let attempt = 0; attempt < 100 && fresh !== '<h1>Tags, edited</h1>'; attempt++) {
  await new Promise((resolve) => setTimeout(resolve, 10))
  fresh = await bento.get({ key: 'post:2' })
}
assert.equal(fresh, '<h1>Tags, edited</h1>')
console.log('expireByTag posts: post:2 served stale once, then recomputed ->', fresh)
console.log('renders:', renders)
await bento.disconnectAll()
