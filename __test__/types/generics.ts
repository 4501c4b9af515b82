// Compiled by `npm run test:types`; each @ts-expect-error must be an error, or tsc fails.
import { BentoCache, bentostore, errors } from 'rustocache'
import { memoryDriver } from 'rustocache/drivers/memory'
import { redisDriver } from 'rustocache/drivers/redis'
import type { Duration, GetOrSetOptions, GetSetFactory, GetSetFactoryContext, RawBentoCacheOptions } from 'rustocache/types'

interface User {
  id: number
  name: string
}

const options: RawBentoCacheOptions = { ttl: '10m', grace: '1h' }
const bento = new BentoCache({
  ...options,
  default: 'main',
  stores: { main: bentostore().useL1Layer(memoryDriver({ maxItems: 10 })).useL2Layer(redisDriver({ connection: 'redis://127.0.0.1:6379' })) },
})

export async function generics(): Promise<void> {
  // getOrSet<T>: T inferred from the factory, or given.
  const inferred = await bento.getOrSet({ key: 'user:1', factory: () => ({ id: 1, name: 'ada' }) })
  const name: string = inferred.name
  const given = await bento.getOrSet<User>({
    key: 'user:2',
    factory: async (ctx: GetSetFactoryContext) => {
      ctx.setTtl('5m')
      return { id: 2, name: 'bob' }
    },
  })
  const id: number = given.id
  // @ts-expect-error the factory resolves a number, not a string
  const wrong: string = await bento.getOrSet({ key: 'n', factory: () => 1 })
  // @ts-expect-error the factory of a getOrSet<User> must return a User
  await bento.getOrSet<User>({ key: 'u', factory: () => ({ id: 'one' }) })
  // @ts-expect-error factory is required
  await bento.getOrSet({ key: 'x' })

  // get<T>: T given, or inferred from defaultValue.
  const got = await bento.get<User>({ key: 'user:1' })
  const gotName: string = got.name
  // @ts-expect-error a User has no email
  got.email
  const withDefault: number = await bento.get({ key: 'n', defaultValue: 5 })
  // @ts-expect-error the default is a number
  const notString: string = await bento.get({ key: 'n', defaultValue: 5 })

  // getOrSetForever and the namespaced cache carry the same generics.
  const forever: User = await bento.namespace('users').getOrSetForever({ key: '3', factory: () => ({ id: 3, name: 'cy' }) })
  const pulled: User | undefined = await bento.pull<User>('user:1')

  // The subpath types.
  const factory: GetSetFactory<number> = () => 1
  const call: GetOrSetOptions<number> = { key: 'k', factory, ttl: '1m' satisfies Duration }
  const fromOptions: number = await bento.getOrSet(call)
  const error: InstanceType<typeof errors.E_FACTORY_ERROR> | undefined = undefined

  void [name, id, wrong, gotName, withDefault, notString, forever, pulled, fromOptions, error]
}

// rustocache/keyv satisfies Keyv's own KeyvStoreAdapter type, over a cache or a namespace.
import Keyv, { type KeyvStoreAdapter } from 'keyv'
import { KeyvRustoCache } from 'rustocache/keyv'

export const adapter: KeyvStoreAdapter = new KeyvRustoCache(bento, { ttl: '1h' })
export const keyv = new Keyv<{ name: string }>({ store: new KeyvRustoCache(bento.namespace('sessions')) })
