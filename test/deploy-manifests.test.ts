/**
 * The Kubernetes manifests of deploy/, validated offline: every overlay is
 * rendered with `kubectl kustomize`, every object checked against the
 * Kubernetes OpenAPI schemas (kubernetes-models) and for fields the API does
 * not have, then what matters for Sediment: the storage volumes, the
 * disruption budget, probes, no root, minimal RBAC, routing to the writer,
 * and a storage list that names every storage pod. Without a usable kubectl
 * the overlays are skipped (the title says why) and only the base's files,
 * as written, are checked.
 */
import { describe, expect, it } from "vitest";
import {
  type K8sObject,
  baseResources,
  find,
  kubectlStatus,
  kustomize,
  selects,
  unknownFields,
  validateSchema,
} from "./support/manifests.js";

const kubectl = kubectlStatus();

/** Every container of every workload, with its pod spec. */
function containers(objects: readonly K8sObject[]): { workload: string; pod: K8sObject; container: K8sObject }[] {
  return objects
    .filter((o) => o.kind === "StatefulSet" || o.kind === "Deployment")
    .flatMap((o) =>
      [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers].map((container) => ({
        workload: `${o.kind}/${o.metadata.name}`,
        pod: o.spec.template.spec,
        container,
      })),
    );
}

/** Compute's storage nodes: the value of `--storage`, with $(VAR) resolved as the kubelet does. */
function computeStorageList(objects: readonly K8sObject[]): string[] {
  const compute = find(objects, "Deployment", "sediment-compute").spec.template.spec.containers[0];
  const args: string[] = compute.args;
  const raw = args[args.indexOf("--storage") + 1]!;
  const resolved = raw.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => {
    const env = (compute.env as K8sObject[]).find((e) => e.name === name);
    const ref = env?.valueFrom?.configMapKeyRef;
    if (ref === undefined) throw new Error(`$(${name}) is not taken from a ConfigMap`);
    return find(objects, "ConfigMap", ref.name).data[ref.key];
  });
  return resolved.split(",");
}

/** The checks that hold for the base and every overlay. */
function checkCluster(objects: readonly K8sObject[], expect_: { storageReplicas: number; rendered: boolean }): void {
  it("every object is valid against the Kubernetes OpenAPI schemas and has no unknown field", () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const o of objects) {
      expect(() => validateSchema(o), `${o.kind}/${o.metadata?.name}`).not.toThrow();
      expect(unknownFields(o)).toEqual([]);
    }
  });

  it("runs storage as a StatefulSet with one ReadWriteOnce volume per pod behind a headless Service", () => {
    const sts = find(objects, "StatefulSet", "sediment-storage");
    expect(sts.spec.replicas).toBe(expect_.storageReplicas);
    expect(sts.spec.podManagementPolicy).toBe("Parallel");
    const [claim, ...others] = sts.spec.volumeClaimTemplates;
    expect(others).toEqual([]);
    expect(claim.spec.accessModes).toEqual(["ReadWriteOnce"]);
    const container = sts.spec.template.spec.containers[0];
    const mount = container.volumeMounts.find((m: K8sObject) => m.name === claim.metadata.name);
    const dataDir: string = container.args[container.args.indexOf("--data-dir") + 1];
    expect(dataDir.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(container.args).toContain("--node-id-from-hostname");
    const service = find(objects, "Service", sts.spec.serviceName);
    expect(service.spec.clusterIP).toBe("None");
    expect(selects(service.spec.selector, sts.spec.template.metadata.labels)).toBe(true);
    const zones = sts.spec.template.spec.topologySpreadConstraints.map((c: K8sObject) => c.topologyKey);
    expect(zones).toEqual(expect.arrayContaining(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]));
  });

  it("has a PodDisruptionBudget of one that selects the storage pods and nothing else", () => {
    const pdb = find(objects, "PodDisruptionBudget", "sediment-storage");
    const storage = find(objects, "StatefulSet", "sediment-storage").spec.template.metadata.labels;
    const compute = find(objects, "Deployment", "sediment-compute").spec.template.metadata.labels;
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(selects(pdb.spec.selector.matchLabels, storage)).toBe(true);
    expect(selects(pdb.spec.selector.matchLabels, compute)).toBe(false);
  });

  it("gives every container HTTP readiness and liveness probes on its named metrics port", () => {
    const all = containers(objects);
    expect(all.length).toBe(2);
    for (const { workload, container } of all) {
      const names = (container.ports ?? []).map((p: K8sObject) => p.name);
      expect(container.readinessProbe?.httpGet, workload).toMatchObject({ path: "/readyz", port: "metrics" });
      expect(container.livenessProbe?.httpGet, workload).toMatchObject({ path: "/livez", port: "metrics" });
      expect(names, workload).toContain("metrics");
      expect(container.resources.requests, workload).toBeDefined();
      expect(container.resources.limits, workload).toBeDefined();
    }
  });

  it("runs no container as root, with a read-only root filesystem and no capabilities", () => {
    for (const { workload, pod, container } of containers(objects)) {
      const sc = container.securityContext ?? {};
      const runAsNonRoot = sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      const runAsUser = sc.runAsUser ?? pod.securityContext?.runAsUser;
      expect(runAsNonRoot, workload).toBe(true);
      expect(runAsUser, workload).toBeGreaterThan(0);
      expect(sc.allowPrivilegeEscalation, workload).toBe(false);
      expect(sc.readOnlyRootFilesystem, workload).toBe(true);
      expect(sc.capabilities?.drop, workload).toEqual(["ALL"]);
      expect((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type, workload).toBe("RuntimeDefault");
    }
  });

  it("grants compute exactly leases get/create/update and pods get/patch, bound to its ServiceAccount", () => {
    const roles = objects.filter((o) => o.kind === "Role" || o.kind === "ClusterRole");
    expect(roles.map((r) => r.metadata.name)).toEqual(["sediment-compute"]);
    const verbs = new Map<string, Set<string>>();
    for (const rule of roles[0].rules) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          const key = `${group}/${resource}`;
          verbs.set(key, new Set([...(verbs.get(key) ?? []), ...rule.verbs]));
        }
      }
    }
    expect(Object.fromEntries([...verbs].map(([k, v]) => [k, [...v].sort()]))).toEqual({
      "coordination.k8s.io/leases": ["create", "get", "update"],
      "/pods": ["get", "patch"],
    });
    const compute = find(objects, "Deployment", "sediment-compute");
    const args: string[] = compute.spec.template.spec.containers[0].args;
    const lease = args[args.indexOf("--lease-name") + 1];
    const named = roles[0].rules.find((r: K8sObject) => r.verbs.includes("update")).resourceNames;
    expect(named).toEqual([lease]);
    const binding = find(objects, "RoleBinding", "sediment-compute");
    expect(binding.roleRef).toMatchObject({ kind: "Role", name: "sediment-compute" });
    expect(binding.subjects).toEqual([
      expect.objectContaining({ kind: "ServiceAccount", name: compute.spec.template.spec.serviceAccountName }),
    ]);
    const storage = find(objects, "StatefulSet", "sediment-storage").spec.template.spec;
    expect(storage.automountServiceAccountToken).toBe(false);
  });

  it("runs 2 computes, routes sediment-rw to the writer's pod and takes the password from a Secret", () => {
    const compute = find(objects, "Deployment", "sediment-compute");
    expect(compute.spec.replicas).toBe(2);
    const labels = compute.spec.template.metadata.labels;
    expect(labels.role).toBeUndefined(); // the elected writer adds role=writer itself
    const rw = find(objects, "Service", "sediment-rw");
    expect(rw.spec.selector.role).toBe("writer");
    expect(selects(rw.spec.selector, { ...labels, role: "writer" })).toBe(true);
    expect(selects(rw.spec.selector, labels)).toBe(false);
    expect(selects(find(objects, "Service", "sediment-ro").spec.selector, labels)).toBe(true);
    const container = compute.spec.template.spec.containers[0];
    expect(container.ports.map((p: K8sObject) => p.name)).toEqual(["postgres", "metrics"]);
    expect(rw.spec.ports[0]).toMatchObject({ port: 5432, targetPort: "postgres" });
    const env = Object.fromEntries(container.env.map((e: K8sObject) => [e.name, e.valueFrom]));
    expect(env.SEDIMENT_PASSWORD.secretKeyRef).toEqual({ name: "sediment-superuser", key: "password" });
    expect(env.POD_NAME.fieldRef.fieldPath).toBe("metadata.name");
    expect(env.POD_NAMESPACE.fieldRef.fieldPath).toBe("metadata.namespace");
    expect(container.args.slice(container.args.indexOf("--election"), -2)).toEqual(["--election", "kubernetes"]);
  });

  it("lists every storage pod, and only those, as compute's storage nodes in node-id order", () => {
    const list = computeStorageList(objects);
    expect(list).toEqual(
      Array.from({ length: expect_.storageReplicas }, (_, i) => `sediment-storage-${i}.sediment-storage:7000`),
    );
  });

  it("lets only compute and storage pods reach the storage gRPC port", () => {
    const policy = find(objects, "NetworkPolicy", "sediment-storage");
    const storageLabels = find(objects, "StatefulSet", "sediment-storage").spec.template.metadata.labels;
    const computeLabels = find(objects, "Deployment", "sediment-compute").spec.template.metadata.labels;
    expect(selects(policy.spec.podSelector.matchLabels, storageLabels)).toBe(true);
    const grpcRules = policy.spec.ingress.filter((r: K8sObject) => r.ports.some((p: K8sObject) => p.port === "grpc"));
    expect(grpcRules).toHaveLength(1);
    const peers = grpcRules[0].from.map((f: K8sObject) => f.podSelector.matchLabels);
    expect(peers).toHaveLength(2);
    expect(peers.every((p: K8sObject) => selects(p, computeLabels) || selects(p, storageLabels))).toBe(true);
    const compute = find(objects, "NetworkPolicy", "sediment-compute");
    const computePorts = compute.spec.ingress.flatMap((r: K8sObject) => r.ports.map((p: K8sObject) => p.port));
    expect(computePorts.sort()).toEqual(["metrics", "postgres"]);
  });

  if (expect_.rendered) {
    it("puts everything in one namespace and pins the image", () => {
      const namespaces = objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name);
      expect(namespaces).toHaveLength(1);
      for (const o of objects) if (o.kind !== "Namespace") expect(o.metadata.namespace).toBe(namespaces[0]);
      for (const { container } of containers(objects)) expect(container.image).toMatch(/^[^:]+:[\w.-]+$/);
    });
  }
}

describe("deploy/base, as written", () => {
  const objects = baseResources();
  checkCluster(objects, { storageReplicas: 3, rendered: false });

  it("leaves the storage class to the overlays", () => {
    const claim = find(objects, "StatefulSet", "sediment-storage").spec.volumeClaimTemplates[0];
    expect(claim.spec.storageClassName).toBeUndefined();
  });

  it("catches a field the API does not have, and a schema violation", () => {
    const sts = structuredClone(find(objects, "StatefulSet", "sediment-storage"));
    sts.spec.template.spec.containers[0].readinesProbe = sts.spec.template.spec.containers[0].readinessProbe;
    expect(unknownFields(sts)).toEqual(["StatefulSet/sediment-storage.spec.template.spec.containers[0].readinesProbe"]);
    sts.spec.replicas = "three";
    expect(() => validateSchema(sts)).toThrow(/replicas/);
  });
});

const skipped = kubectl.usable ? "" : ` (skipped: ${kubectl.why})`;

describe.skipIf(!kubectl.usable)(`kubectl kustomize deploy/overlays/local${skipped}`, () => {
  const objects = kubectl.usable ? kustomize("overlays/local") : [];
  checkCluster(objects, { storageReplicas: 3, rendered: true });

  it("uses the `standard` storage class of kind and minikube, and a development password", () => {
    const claim = find(objects, "StatefulSet", "sediment-storage").spec.volumeClaimTemplates[0];
    expect(claim.spec.storageClassName).toBe("standard");
    expect(find(objects, "Secret", "sediment-superuser").stringData.password).toBe("postgres");
  });
});

describe.skipIf(!kubectl.usable)(`kubectl kustomize deploy/overlays/production${skipped}`, () => {
  const objects = kubectl.usable ? kustomize("overlays/production") : [];
  checkCluster(objects, { storageReplicas: 6, rendered: true });

  it("spreads 6 storage nodes over 3 zones as a hard rule, on a storage class to fill in", () => {
    const sts = find(objects, "StatefulSet", "sediment-storage");
    const spec = sts.spec.template.spec;
    expect(spec.topologySpreadConstraints).toHaveLength(2);
    for (const c of spec.topologySpreadConstraints) expect(c.whenUnsatisfiable).toBe("DoNotSchedule");
    const zones = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
    expect(zones.matchExpressions[0]).toMatchObject({ key: "topology.kubernetes.io/zone", operator: "In" });
    expect(zones.matchExpressions[0].values).toHaveLength(3);
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toEqual(expect.any(String));
  });

  it("ships no placeholder password: the operator creates the Secret", () => {
    expect(objects.some((o) => o.kind === "Secret" && o.metadata.name === "sediment-superuser")).toBe(false);
  });
});
