import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ObjectSerializer } from "@kubernetes/client-node/dist/serializer.js";
import { getSerializationType } from "@kubernetes/client-node/dist/util.js";
// The YAML parser @kubernetes/client-node itself uses (its loadAllYaml returns typed objects
// with unknown fields already dropped; the raw objects are what must be checked).
import { loadAll } from "js-yaml";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";

/**
 * Offline Kubernetes manifests for test/deploy-manifests.test.ts: render a
 * kustomization (kubectl kustomize, or the base's files as they are), parse
 * the YAML, validate each object against the Kubernetes OpenAPI schemas
 * (kubernetes-models) and against @kubernetes/client-node's models, which
 * know every field of the API (a field they do not know is a typo the API
 * server would drop or refuse).
 */

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, checked by the tests field by field
export type K8sObject = any;

export const DEPLOY_DIR = join(import.meta.dirname, "..", "..", "deploy");

/** `kubectl` if it is installed and its kustomize reads `resources` directories and `patches` (kubectl ≥ 1.21). */
export function kubectlStatus(): { usable: true } | { usable: false; why: string } {
  let out: string;
  try {
    out = execFileSync("kubectl", ["version", "--client", "-o", "json"], { encoding: "utf8", stdio: "pipe" });
  } catch {
    return { usable: false, why: "kubectl is not installed" };
  }
  const minor = Number.parseInt((JSON.parse(out) as { clientVersion: { minor: string } }).clientVersion.minor, 10);
  if (minor < 21) return { usable: false, why: `kubectl 1.${minor} is too old (its kustomize is v2)` };
  return { usable: true };
}

/** `kubectl kustomize <deploy/dir>`, parsed. */
export function kustomize(dir: string): K8sObject[] {
  const yaml = execFileSync("kubectl", ["kustomize", join(DEPLOY_DIR, dir)], { encoding: "utf8", stdio: "pipe" });
  return parseAll(yaml);
}

/** The base's resources as written (no kustomize needed): what the overlays start from. */
export function baseResources(): K8sObject[] {
  const base = join(DEPLOY_DIR, "base");
  const [kustomization] = parseAll(readFileSync(join(base, "kustomization.yaml"), "utf8"));
  return (kustomization.resources as string[]).flatMap((file) => parseAll(readFileSync(join(base, file), "utf8")));
}

export function parseAll(yaml: string): K8sObject[] {
  return loadAll(yaml).filter((o) => o !== null && o !== undefined);
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/StatefulSet": StatefulSet,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

/** Throws unless `o` is a kind we expect and valid against its OpenAPI schema. */
export function validateSchema(o: K8sObject): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (Model === undefined) throw new Error(`unexpected object ${o.apiVersion} ${o.kind} ${o.metadata?.name}`);
  new Model(o as never).validate();
}

/** The paths of `o`'s fields that the Kubernetes API does not have (typos): [] when none. */
export function unknownFields(o: K8sObject): string[] {
  const type = getSerializationType(o.apiVersion, o.kind);
  const roundTrip = ObjectSerializer.serialize(ObjectSerializer.deserialize(o, type), type);
  const missing: string[] = [];
  const walk = (raw: unknown, kept: unknown, path: string): void => {
    if (raw === null || typeof raw !== "object") return;
    if (Array.isArray(raw)) {
      for (const [i, item] of raw.entries()) walk(item, (kept as unknown[] | undefined)?.[i], `${path}[${i}]`);
      return;
    }
    for (const [key, value] of Object.entries(raw)) {
      const keptObject = kept as Record<string, unknown> | undefined;
      if (keptObject === undefined || !(key in keptObject)) missing.push(`${path}.${key}`);
      else walk(value, keptObject[key], `${path}.${key}`);
    }
  };
  walk(o, roundTrip, `${o.kind}/${o.metadata?.name}`);
  return missing;
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** Whether a label selector's matchLabels (or a Service's selector map) selects `labels`. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
