import type * as grpc from "@grpc/grpc-js";

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;

/** A grpc-js unary call as a promise, with a deadline: `unary((o, cb) => client.X(req, o, cb), ms)`. */
export function unary<Res>(
  invoke: (options: grpc.CallOptions, cb: Callback<Res>) => unknown,
  timeoutMs: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke({ deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err !== null) reject(err);
      else if (res === undefined) reject(new Error("empty gRPC response"));
      else resolve(res);
    });
  });
}

/** Settles every promise; returns the fulfilled values keyed like the input. */
export async function settleAll<K, V>(entries: readonly (readonly [K, Promise<V>])[]): Promise<Map<K, V>> {
  const results = await Promise.allSettled(entries.map(([, p]) => p));
  const out = new Map<K, V>();
  results.forEach((r, i) => {
    if (r.status === "fulfilled") out.set(entries[i]![0], r.value);
  });
  return out;
}
