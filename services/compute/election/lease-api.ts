import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  type V1Lease,
  V1MicroTime,
} from "@kubernetes/client-node";
import type { LeaseRecord } from "./lease-rules.js";

/**
 * The few Kubernetes API calls the Lease election makes, through the official
 * client exactly as in a cluster: GET/POST/PUT of one Lease (PUT carries the
 * resourceVersion read, so the API server refuses it with 409 Conflict if
 * anyone wrote in between) and a merge patch of our own pod's labels. Each
 * call is bounded by an AbortSignal, so a hung connection cannot stall the
 * renew loop past its deadline.
 */
export interface LeaseRef {
  readonly namespace: string;
  readonly name: string;
}

export type WriteResult =
  | { readonly ok: true; readonly resourceVersion: string }
  | { readonly ok: false; readonly conflict: boolean; readonly error: string };

export interface ReadResult {
  readonly resourceVersion: string | undefined;
  readonly record: LeaseRecord | undefined;
}

/** The pod label `sediment-rw` selects on; a standby (or a restarted container) sets the other value. */
export const ROLE_LABEL = "role";
export const ROLE_WRITER = "writer";
export const ROLE_STANDBY = "standby";

export class LeaseApi {
  private readonly leases: CoordinationV1Api;
  private readonly pods: CoreV1Api;
  /** The last Lease object read or written: a replace sends it back with our changes. */
  private last: V1Lease | undefined;

  constructor(
    kubeConfig: KubeConfig,
    private readonly ref: LeaseRef,
  ) {
    this.leases = kubeConfig.makeApiClient(CoordinationV1Api);
    this.pods = kubeConfig.makeApiClient(CoreV1Api);
  }

  async read(timeoutMs: number): Promise<ReadResult> {
    try {
      const lease = await this.leases.readNamespacedLease(
        { namespace: this.ref.namespace, name: this.ref.name },
        withTimeout(timeoutMs),
      );
      this.last = lease;
      return { resourceVersion: lease.metadata?.resourceVersion, record: toRecord(lease) };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) {
        this.last = undefined;
        return { resourceVersion: undefined, record: undefined };
      }
      throw err;
    }
  }

  /** POST when `resourceVersion` is undefined (409 AlreadyExists on a race), else PUT conditional on it. */
  async write(record: LeaseRecord, resourceVersion: string | undefined, timeoutMs: number): Promise<WriteResult> {
    const now = new V1MicroTime();
    const spec = {
      ...(this.last?.spec ?? {}),
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      renewTime: now,
    };
    const changedHolder = (this.last?.spec?.holderIdentity ?? "") !== (record.holderIdentity ?? "");
    if (changedHolder || spec.acquireTime === undefined) spec.acquireTime = now;
    const { namespace, name } = this.ref;
    try {
      const lease =
        resourceVersion === undefined
          ? await this.leases.createNamespacedLease(
              { namespace, body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name }, spec } },
              withTimeout(timeoutMs),
            )
          : await this.leases.replaceNamespacedLease(
              {
                namespace,
                name,
                body: {
                  apiVersion: "coordination.k8s.io/v1",
                  kind: "Lease",
                  metadata: { ...(this.last?.metadata ?? {}), name, resourceVersion },
                  spec,
                },
              },
              withTimeout(timeoutMs),
            );
      this.last = lease;
      const written = lease.metadata?.resourceVersion;
      if (written === undefined)
        return { ok: false, conflict: false, error: "the API server returned no resourceVersion" };
      return { ok: true, resourceVersion: written };
    } catch (err) {
      return { ok: false, conflict: err instanceof ApiException && err.code === 409, error: describe(err) };
    }
  }

  /** Sets our own pod's role label (JSON merge patch: only that key changes). */
  async labelPod(pod: string, role: string, timeoutMs: number): Promise<void> {
    await this.pods.patchNamespacedPod(
      { namespace: this.ref.namespace, name: pod, body: { metadata: { labels: { [ROLE_LABEL]: role } } } },
      withTimeout(timeoutMs, PatchStrategy.MergePatch),
    );
  }
}

function toRecord(lease: V1Lease): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity,
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    leaseTransitions: lease.spec?.leaseTransitions ?? 0,
  };
}

type CallOptions = Parameters<CoordinationV1Api["readNamespacedLease"]>[1];

/** Per-call options: an abort after `timeoutMs` and, for a patch, its content type. */
function withTimeout(timeoutMs: number, contentType?: string): CallOptions {
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(AbortSignal.timeout(Math.max(1, Math.round(timeoutMs))));
      if (contentType !== undefined) context.setHeaderParam("Content-Type", contentType);
      return new Observable(Promise.resolve(context));
    },
    post: (context) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}

export function describe(err: unknown): string {
  if (err instanceof ApiException) {
    let body = err.body as { message?: string } | string | undefined;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body) as { message?: string };
      } catch {
        // not a Status object: keep the text
      }
    }
    const message = typeof body === "object" && body !== null ? body.message : body;
    return `HTTP ${err.code}${message ? `: ${message}` : ""}`;
  }
  return err instanceof Error ? err.message : String(err);
}
